"""``[columns]``: which column of a registry holds what (auto-detected when absent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from klastergeo.options import Options, opt

__all__ = ["Columns"]


@dataclass(frozen=True)
class Columns(Options):
    """Which input column holds what; ``None`` means auto-detect (or absent, if optional)."""

    SECTION: ClassVar[str] = "columns"

    id: str | None = opt(None, "Record id column.", flag="--id-col")
    lat: str | None = opt(None, "Latitude column.", flag="--lat-col")
    lon: str | None = opt(None, "Longitude column.", flag="--lon-col")
    coordinates: str | None = opt(
        None,
        "Column holding latitude and longitude together, as copied from a web map "
        "('-7.710251, 110.603422') or a map link; used where --lat-col/--lon-col are "
        "absent or empty.",
        flag="--coords-col",
    )
    sector: str | None = opt(None, "KBLI code column.", flag="--sector-col")
    workers: str | None = opt(None, "Workers column.", flag="--workers-col")
    output: str | None = opt(None, "Production value column.", flag="--output-col")
    investment: str | None = opt(None, "Investment column.", flag="--investment-col")
    name: str | None = opt(None, "Firm name column.", flag="--name-col")
    area_code: str | None = opt(
        None,
        "Kemendagri area code column (village or district, with or without dots) that "
        "places a record without usable coordinates.",
        flag="--area-code-col",
    )
    desa: str | None = opt(
        None, "Village (desa/kelurahan) name column that places a record.", flag="--desa-col"
    )
    kecamatan: str | None = opt(
        None, "District (kecamatan) name column that places a record.", flag="--kecamatan-col"
    )
    kabupaten: str | None = opt(
        None, "Regency or city (kabupaten/kota) name column.", flag="--kabupaten-col"
    )
