"""The columns of every table klastergeo writes, named once.

Modules that build a table take its columns from here, and the tests check the files
against them: a column renamed in one place is renamed everywhere.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AREA_COLUMNS",
    "CANDIDATE_COLUMNS",
    "FIRM_COLUMNS",
    "MEASURE_COLUMNS",
    "MEMBER_COLUMNS",
    "NEAR_MISS_COLUMNS",
    "REJECTED_COLUMNS",
    "REPAIRED_COLUMNS",
    "RESERVED_FIRM_COLUMNS",
    "SENTRA_COLUMNS",
    "SENTRA_INDEX",
    "sentra_ids",
]

#: Kept firms (``firms/``, GeoParquet by province, indexed by ``record_id``): the standard columns a
#: registry's mapped columns become; the file's other columns follow as read.
FIRM_COLUMNS = (
    "row",
    "lat",
    "lon",
    "kbli",
    "sector",
    "workers",
    "output",
    "investment",
    "name",
    "area_code",
    "placement",
)
#: Every column name klastergeo gives kept firms (the record id is their index); an
#: input column of one of these names is kept as ``<name>_input``.
RESERVED_FIRM_COLUMNS = (
    *FIRM_COLUMNS,
    "record_id",
    "geometry",
    "admin_code",
    "sentra_id",
    "in_sentra",
    "p_lpm",
    "p_logit",
    "p_probit",
    "p_cluster",
)
#: What ``rejected.csv`` adds to each rejected input row (``<name>_klastergeo`` where the
#: input has a column of that name).
REJECTED_COLUMNS = ("row", "reason", "detail")
#: ``repaired.csv``: swapped coordinates, KBLI codes that lost a leading zero, and points
#: far from the area the record names (``area_mismatch``, ``placed_by_area``, with a
#: ``detail``).
REPAIRED_COLUMNS = (
    "record_id",
    "row",
    "reason",
    "input_lat",
    "input_lon",
    "lat",
    "lon",
    "input_kbli",
    "kbli",
    "detail",
)
#: ``areas.parquet``: one row per area x sector (then the model probabilities ``p_*``).
AREA_COLUMNS = (
    "area_code",
    "sector",
    "area_name",
    "n_firms",
    "workers",
    "output",
    "investment",
    "workers_flag",
    "output_flag",
    "investment_flag",
    "lq",
    "lq_low",
    "lq_high",
    "lq_p",
    "spec_ratio",
    "spec_z",
    "spec_p",
    "spec_bin",
    "gi_z",
    "gi_p",
    "gi_p_sim",
    "gi_bin",
    "lisa_i",
    "lisa_quadrant",
    "lisa_p",
    "lisa_p_sim",
    "sentra_id",
    "sentra_role",
)
#: ``measures.csv``: one row per measure x area x sector, written when
#: ``analysis.measures`` asks for a measure other than firms: that measure's rows and the
#: firms' (whose statistics are ``areas.parquet``'s, with the bivariate local Moran of the
#: counts): the firms, those with a value and their share, the sum (``value``, blank and
#: marked in ``value_flag`` where disclosure control suppresses it), the statistics of
#: the sums and the bivariate local Moran of the sector's sums against all firms' sums of
#: the measure (``bv_i``, ``bv_p``: its pseudo p-value, ``bv_quadrant``: 1 HH, 2 LL,
#: 3 LH, 4 HL, 0 not significant).
MEASURE_COLUMNS = (
    "measure",
    "area_code",
    "sector",
    "n_firms",
    "n_valued",
    "coverage",
    "value",
    "value_flag",
    "lq",
    "lq_low",
    "lq_high",
    "lq_p",
    "spec_ratio",
    "spec_z",
    "spec_p",
    "spec_bin",
    "gi_z",
    "gi_p",
    "gi_p_sim",
    "gi_bin",
    "lisa_i",
    "lisa_p",
    "lisa_p_sim",
    "lisa_quadrant",
    "bv_i",
    "bv_p",
    "bv_quadrant",
)
#: The index of the sentra table (``{sector}-{rank:02d}``), its first column in files.
SENTRA_INDEX = "sentra_id"
#: ``sentra.csv`` / ``sentra.geojson``: one row per sentra, indexed by :data:`SENTRA_INDEX`
#: (profiles and probabilities follow: ``typology``, ``typology_label``, ``stage``,
#: ``diamond_score``, ``p_*``).
SENTRA_COLUMNS = (
    "sector",
    "sector_label",
    "name",
    "n_areas",
    "n_core_areas",
    "n_firms",
    "workers",
    "output",
    "investment",
    "area_km2",
    "density_km2",
    "lq",
    "sector_share",
    "core_area",
    "core_areas",
    "area_codes",
    "spec_z_max",
    "spec_p_min",
    "gi_z_max",
    "gi_p_min",
    "lat",
    "lon",
)
#: ``sentra_areas.csv``: the evidence per member area (indexed by area and sector).
#: The evidence an area x sector row was judged on (both tables below carry it).
_EVIDENCE = ("n_firms", "lq", "lq_low", "lq_p", "spec_z", "spec_p", "spec_bin")
MEMBER_COLUMNS = ("sentra_id", "role", "rule", *_EVIDENCE, "gi_z", "gi_p", "gi_bin")
#: ``candidates.csv``: concentrations that met some sentra rules but not all (indexed by
#: area and sector): the values tested, the contiguous group the area belongs to, and
#: which rules failed and why (``reason``: the failed rules in words, in the run's
#: language, added by the run; :func:`klastergeo.analysis.sentra.near_misses` gives
#: :data:`NEAR_MISS_COLUMNS`, codes and numbers).
NEAR_MISS_COLUMNS = (*_EVIDENCE, "group_areas", "group_firms", "failed")
CANDIDATE_COLUMNS = (*NEAR_MISS_COLUMNS, "reason")


def sentra_ids(sentra: Any) -> Any:
    """The ``sentra_id`` of each row of a sentra table, as an index: the table's index
    when it is named ``sentra_id`` (as :func:`klastergeo.analysis.sentra.delineate` returns it),
    else its ``sentra_id`` column (as ``sentra.csv`` reads back).

    Parameters
    ----------
    sentra
        A sentra table (DataFrame or GeoDataFrame).

    Returns
    -------
    pandas.Index
        Named ``sentra_id``, one entry per row, as text.

    Examples
    --------
    >>> import pandas as pd
    >>> sentra_ids(pd.DataFrame({"sentra_id": ["31-01"], "name": ["Trangsan"]})).tolist()
    ['31-01']
    """
    import pandas as pd

    from klastergeo.errors import DataError

    if sentra.index.name == SENTRA_INDEX:
        ids = sentra.index
    elif SENTRA_INDEX in sentra.columns:
        ids = sentra[SENTRA_INDEX]
    else:
        raise DataError(
            "the sentra table needs sentra ids: index it by 'sentra_id' (as "
            "klastergeo.analysis.sentra.delineate returns it) or give a 'sentra_id' column"
        )
    return pd.Index(ids.astype(str), name=SENTRA_INDEX)
