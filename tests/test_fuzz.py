"""Property-based tests (hypothesis) of the registry reader and validator and of the
configuration loader.

Generated registries vary the delimiter, the encoding (with and without BOM), the decimal
mark, quoting, column order and names (case, aliases, names of the tool's own columns),
numbers as text (thousands groups, ``Rp``, ``inf``, 400 digits), KBLI codes with and
without their leading zero, empty and ragged lines. Properties:

- only the project's own exceptions (``KlastergeoError``) escape;
- every record read is kept or rejected (read = kept + rejected), each exactly once;
- every rejected row has a known reason and a detail, and its values are the input's;
- kept values equal the input: ids and other columns as written, coordinates and numbers
  as the generator meant them (the file uses one decimal mark, as real files do).

The number of examples is bounded so CI stays fast (``KLASTERGEO_FUZZ_EXAMPLES``, default
150 per property; the ``ci`` profile is derandomised so a run is reproducible).
"""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, event, find, given, settings
from hypothesis import strategies as st

from klastergeo import KlastergeoError
from klastergeo.app.config import load_config
from klastergeo.io.registry.records import REASONS, read_records, validate_records

EXAMPLES = int(os.environ.get("KLASTERGEO_FUZZ_EXAMPLES", "150"))
settings.register_profile(
    "klastergeo",
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("KLASTERGEO_FUZZ_RANDOM") is None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
settings.load_profile("klastergeo")

ROLE_NAMES = {
    "id": ["id", "ID", "id_usaha", "nib", "record_id"],
    "lat": ["lat", "lintang", "Latitude", "LINTANG"],
    "lon": ["lon", "bujur", "longitude", "x"],
    "sector": ["kbli", "KBLI", "kode_kbli", "sektor"],
    "workers": ["workers", "tenaga_kerja", "TK"],
    "name": ["nama", "nama_usaha", "name"],
}
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]
TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\x00\r\n", max_codepoint=0x2FF
    ),
    max_size=12,
)


@dataclass
class Registry:
    path: Path
    ids: list[str]
    lat: list[float | None]  # None: not a valid coordinate as written
    lon: list[float | None]
    workers: list[float | None]
    columns: dict[str, str]  # role -> column name
    extras: dict[str, list[str]]
    decimal: str
    lines: int  # records as written (ragged lines included)


def _number(value: float, decimals: int, mark: str, *, groups: bool = False) -> str:
    text = f"{abs(value):,.{decimals}f}" if groups else f"{abs(value):.{decimals}f}"
    if mark == ",":
        text = text.translate(str.maketrans({",": ".", ".": ","}))
    return ("-" if value < 0 else "") + text


@st.composite
def registries(draw: st.DrawFn, tmp: Path) -> Registry:
    n = draw(st.integers(0, 25))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    decimal = "," if delimiter == ";" and draw(st.booleans()) else "."
    if delimiter == "," and decimal == ",":
        decimal = "."
    encoding = draw(st.sampled_from(ENCODINGS))
    names = {
        role: draw(st.sampled_from(options))
        for role, options in ROLE_NAMES.items()
        if role in ("id", "lat", "lon", "sector") or draw(st.booleans())
    }
    extras = {
        name: [draw(TEXT) for _ in range(n)]
        for name in draw(
            st.lists(
                st.sampled_from(["catatan", "reason", "row", "geometry", "in_sentra", "desa"]),
                unique=True,
                max_size=3,
            )
        )
        if name not in names.values()
    }
    ids, lats, lons, workers, rows = [], [], [], [], []
    for i in range(n):
        ident = draw(st.sampled_from([f"U{i:03d}", f"U{i:03d}", f"U{max(i - 1, 0):03d}", ""]))
        lat = draw(st.floats(-11.0, 6.0, allow_nan=False))
        lon = draw(st.floats(95.0, 141.0, allow_nan=False))
        places = draw(st.integers(4, 6))
        lat_text = _number(lat, places, decimal)
        lon_text = _number(lon, places, decimal)
        lat_value: float | None = float(lat_text.replace(",", "."))
        lon_value: float | None = float(lon_text.replace(",", "."))
        spoil = draw(st.sampled_from(["", "", "", "", "empty", "text", "zero"]))
        if spoil == "empty":
            lat_text, lat_value = draw(st.sampled_from(["", "NA", "-", "null"])), None
        elif spoil == "text":
            lon_text, lon_value = draw(st.sampled_from(["abc", "1.2.3", "--5", "inf"])), None
        elif spoil == "zero":
            lat_text = lon_text = "0"
            lat_value = lon_value = None
        code = draw(
            st.sampled_from(["13134", "31001", "01111", "1111", "10710", "1", "99999", "", "ab"])
        )
        row = {"id": ident, "lat": lat_text, "lon": lon_text, "sector": code}
        worker_value: float | None = None
        if "workers" in names:
            count = draw(st.integers(0, 5000))
            kind = draw(st.sampled_from(["plain", "plain", "groups", "rp", "bad"]))
            if kind == "plain":
                row["workers"], worker_value = str(count), float(count)
            elif kind == "groups" and decimal == ",":
                row["workers"], worker_value = _number(count, 0, ",", groups=True), float(count)
            elif kind == "groups":
                row["workers"], worker_value = (
                    f"{count},5" if decimal == "," else f"{count}.5",
                    count + 0.5,
                )
            elif kind == "rp":
                row["workers"], worker_value = f"Rp {count}", float(count)
            else:
                row["workers"] = draw(st.sampled_from(["inf", "1e999", "9" * 400, "-3", "dua"]))
        if "name" in names:
            row["name"] = draw(TEXT)
        ids.append(ident)
        lats.append(lat_value)
        lons.append(lon_value)
        workers.append(worker_value)
        rows.append(row)
    header = [names[r] for r in names] + list(extras)
    order = draw(st.permutations(range(len(header))))
    header = [header[i] for i in order]
    by_name = {names[r]: r for r in names}
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator="\n")
    writer.writerow(header)
    lines = 0
    untidy = draw(st.integers(0, 3)) == 0  # a quarter of the files: blank and ragged lines
    for i, row in enumerate(rows):
        values = [row[by_name[h]] if h in by_name else extras[h][i] for h in header]
        shape = draw(st.sampled_from(["ok"] * 4 + ["blank", "ragged"])) if untidy else "ok"
        if shape == "blank":
            buffer.write("\n")
        if shape == "ragged":
            values = [*values, "extra"]
        writer.writerow(values)
        lines += 1
    text = buffer.getvalue()
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
        encoding = "utf-8"
    path = tmp / f"r{draw(st.integers(0, 10**9))}.csv"
    path.write_bytes(data)
    return Registry(path, ids, lats, lons, workers, names, extras, decimal, lines)


#: Generated files go here (hypothesis draws them outside pytest's fixtures).
FUZZ_DIR = Path(tempfile.mkdtemp(prefix="klastergeo-fuzz-"))


@pytest.fixture(scope="module", autouse=True)
def _remove_generated_files():
    yield
    shutil.rmtree(FUZZ_DIR, ignore_errors=True)


@given(registries(FUZZ_DIR), st.sampled_from(["auto", ".", ","]))
@pytest.mark.slow
def test_registry_reader_and_validator(registry: Registry, decimal: str) -> None:
    if True:
        try:
            raw = read_records(registry.path)
            report = validate_records(raw, decimal=decimal)  # type: ignore[arg-type]
        except KlastergeoError as err:
            event(f"refused: {type(err).__name__}")
            return
        # every record is kept or rejected, once
        assert report.n_read == report.n_kept + report.n_rejected
        kept_rows = set(report.records["row"].tolist())
        rejected_rows = report.rejected["row" if "row" in report.rejected else "row_klastergeo"]
        reason = report.rejected.get("reason_klastergeo", report.rejected.get("reason"))
        detail = report.rejected.get("detail_klastergeo", report.rejected.get("detail"))
        if "row" in registry.extras:
            rejected_rows = report.rejected["row_klastergeo"]
        if "reason" in registry.extras:
            reason = report.rejected["reason_klastergeo"]
        assert kept_rows.isdisjoint(set(rejected_rows.dropna().astype(int)))
        if len(report.rejected):
            assert set(reason) <= set(REASONS)
            assert detail.notna().all() and (detail.astype(str).str.len() > 0).all()
        # rejected rows keep the input's values
        frame = raw.frame
        for _, rejected in report.rejected.iterrows():
            if rejected[reason.name] == "malformed_row":
                continue
            original = frame.iloc[raw.rows.tolist().index(int(rejected[rejected_rows.name]))]
            for column in frame.columns:
                assert str(rejected[column]) == str(original[column]), column
        if decimal != "auto" and decimal != registry.decimal:
            event("a --decimal other than the file's: kept values not checked")
            return  # a wrong --decimal may read numbers differently; no oracle
        # kept values are the input's
        if raw.n_read != registry.lines or len(raw.malformed):
            event("ragged: kept values not checked by position")
            return  # ragged lines shift record numbers: no oracle by position
        event(f"kept values checked ({'some' if report.n_kept else 'none'} kept)")
        for record_id, kept in report.records.iterrows():
            i = int(kept["row"]) - 1
            assert str(record_id) == registry.ids[i].strip()
            assert registry.lat[i] is not None and registry.lon[i] is not None
            assert math.isclose(kept["lat"], registry.lat[i], abs_tol=1e-9)
            assert math.isclose(kept["lon"], registry.lon[i], abs_tol=1e-9)
            if "workers" in registry.columns and registry.workers[i] is not None:
                assert math.isclose(kept["workers"], registry.workers[i], abs_tol=1e-9)
            for name, values in registry.extras.items():
                column = (
                    name
                    if name in report.records.columns
                    and name
                    not in (
                        "row",
                        "geometry",
                        "in_sentra",
                    )
                    else f"{name}_input"
                )
                assert str(kept[column]) == values[i]


@given(st.binary(max_size=400), st.sampled_from([".csv", ".xlsx", ".parquet", ".geojson"]))
def test_arbitrary_bytes_give_only_the_projects_errors(data: bytes, suffix: str) -> None:
    path = FUZZ_DIR / f"bytes{suffix}"
    path.write_bytes(data)
    try:
        report = validate_records(read_records(path))
    except KlastergeoError as err:  # the project's own errors only, with a message
        assert str(err)
    else:  # or every record accounted for: kept or rejected
        assert report.n_kept + report.n_rejected == report.n_read


# -- the configuration loader -------------------------------------------------------------

SECTIONS = {
    "records": ["path", "delimiter", "encoding", "decimal", "sector_digits", "strict", "sheet"],
    "columns": ["id", "lat", "lon", "sector", "workers"],
    "area": ["code", "level", "boundaries", "snap_m", "id_col"],
    "analysis": ["seed", "permutations", "fdr", "alpha", "weights", "tolerance_m", "k", "sectors"],
    "sentra": ["min_firms", "lq_threshold", "confidence", "method", "eps_m", "extend_lq"],
    "typology": ["ownership", "linkages", "thresholds"],
    "diagnosis": ["items", "thresholds", "charts"],
    "pointpattern": ["enabled", "simulations", "max_points"],
    "report": ["figures"],
    "model": ["predictors", "kinds", "cutoff", "robust", "standardise", "reference"],
    "map": ["lang", "tiles", "title"],
    "bogus": ["x"],
}
SCALARS = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    TEXT,
    st.sampled_from(["33", "33.09", "desa", "h3:8", "queen", "auto", "id", "HC1", "lpm", "."]),
)
VALUES = st.one_of(
    SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(TEXT, SCALARS, max_size=2)
)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml(str(k))} = {_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines = []
    if draw(st.booleans()):
        lines.append(f"out = {_toml(draw(st.one_of(TEXT, st.integers())))}")
    for section in draw(st.lists(st.sampled_from(list(SECTIONS)), unique=True, max_size=4)):
        lines.append(f"[{section}]")
        for key in draw(
            st.lists(st.sampled_from([*SECTIONS[section], "nope"]), unique=True, max_size=3)
        ):
            lines.append(f"{key} = {_toml(draw(VALUES))}")
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_configuration_loader() -> None:
    path = FUZZ_DIR / "fuzz.toml"

    @given(documents(), st.binary(max_size=30))
    def check(document: str, noise: bytes) -> None:
        path.write_bytes(document.encode("utf-8") + (noise if noise[:1] == b"\xff" else b""))
        try:
            config = load_config(path)
        except KlastergeoError:
            return
        assert all(
            math.isfinite(v)
            for section in config.to_dict().values()
            if isinstance(section, dict)
            for v in section.values()
            if isinstance(v, float)
        )

    check()


@given(
    st.dictionaries(
        st.sampled_from(
            [f"{s}.{k}" for s, keys in SECTIONS.items() for k in keys] + ["out", "nope"]
        ),
        VALUES,
        max_size=4,
    )
)
def test_configuration_overrides(overrides: dict[str, object]) -> None:
    try:
        config = load_config(None, overrides=overrides)
    except KlastergeoError as err:  # the project's own errors only, with a message
        assert str(err)
    else:  # accepted overrides are the configuration's values
        assert config.to_dict()


def test_the_generator_makes_every_kind_of_file() -> None:
    """The strategy reaches what it claims (guards against a generator that never makes a
    semicolon file or a ragged line): hypothesis searches for an example of each kind, so
    the check does not hang on which examples one run happens to draw."""

    def kind(registry: Registry) -> set[str]:
        data = registry.path.read_bytes()
        return {
            "bom" if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe")) else "no-bom",
            f"decimal{registry.decimal}",
            "extras" if registry.extras else "plain",
        }

    search = settings(max_examples=2_000, database=None, derandomize=True, phases=[Phase.generate])
    for wanted in ("bom", "no-bom", "decimal.", "decimal,", "extras", "plain"):
        found = find(registries(FUZZ_DIR), lambda r, w=wanted: w in kind(r), settings=search)
        assert wanted in kind(found)
    assert np.isfinite(1.0) and isinstance(pd.DataFrame(), pd.DataFrame)
