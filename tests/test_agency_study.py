"""The study area as agencies name it and as their data say it is (issue 25, items 7 and 8).

- ``--area`` by name with the matching rules of placement (kind words, Kota vs Kabupaten,
  Jakarta's administrative regencies and cities, typos), against the real names.
- The study area checked against the data: a run whose placed records lie mostly outside
  ``--area`` stops with exit 2 before it computes and names where they lie (a synthetic
  lattice of custom polygons, and points planted in Kabupaten Klaten).
- ``klastergeo model`` on a one-village survey with GPS points and no sector column.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from klastergeo.app.cli import app
from klastergeo.app.config import Columns, load_config
from klastergeo.app.pipeline import coverage
from klastergeo.errors import ConfigError
from klastergeo.io import boundaries
from klastergeo.io.registry import records
from tests.worlds.lattice import lattice

runner = CliRunner()


# --------------------------------------------------------------------------------------
# --area by name
# --------------------------------------------------------------------------------------

#: How agencies write an area, and its Kemendagri code in the shared boundaries.
AREA_NAMES = [
    ("Kab. Klaten", "33.10"),
    ("Kabupaten Klaten", "33.10"),
    ("Kab Klaten", "33.10"),
    ("KABUPATEN KLATEN", "33.10"),
    ("  kab.  klaten ", "33.10"),
    ("Klaten", "33.10"),
    ("Kota Surakarta", "33.72"),
    ("Surakarta", "33.72"),
    ("Kota Semarang", "33.74"),
    ("Kabupaten Semarang", "33.22"),
    ("Kab. Semarang", "33.22"),
    ("Kota Adm. Jakarta Pusat", "31.71"),
    ("Kota Administrasi Jakarta Selatan", "31.74"),
    ("Jakarta Timur", "31.75"),
    ("Kabupaten Administrasi Kepulauan Seribu", "31.01"),
    ("Kab. Adm. Kepulauan Seribu", "31.01"),
    ("DKI Jakarta", "31"),
    ("Provinsi Jawa Tengah", "33"),
    ("DI Yogyakarta", "34"),
    ("Kec. Ceper", "33.10.11"),
    ("Kecamatan Ceper", "33.10.11"),
    ("Ceper", "33.10.11"),
    ("Kota Kudus", "33.19.02"),  # a district whose name begins with Kota
    ("Kudus", "33.19"),
    ("Boyolali", "33.09"),  # the regency, not its capital district
]


@pytest.mark.parametrize(("text", "code"), AREA_NAMES, ids=[t for t, _ in AREA_NAMES])
def test_area_names_as_agencies_write_them(data_dir: Path, text: str, code: str) -> None:
    assert boundaries.resolve_area_name(text, source=data_dir) == code


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Semarang", ("33.22 Kabupaten Semarang", "33.74 Kota Semarang")),
        ("Malang", ("35.07 Kabupaten Malang", "35.73 Kota Malang")),
        ("semarnag", ("33.22 Kabupaten Semarang", "33.74 Kota Semarang")),  # a typo of both
    ],
)
def test_a_name_of_two_areas_lists_both_with_their_codes(
    data_dir: Path, text: str, codes: tuple[str, ...]
) -> None:
    with pytest.raises(ConfigError) as raised:
        boundaries.resolve_area_name(text, source=data_dir)
    message = str(raised.value)
    assert all(code in message for code in codes), message
    assert "--area 'Kota" in message  # how to say which one


#: Names with a typo, the area placement would take them for, and their similarity:
#: rapidfuzz's ratio, 100 * 2 * (letters in common, in order) / (sum of the lengths).
TYPOS = [
    ("Kab. Klatem", "33.10", 83),  # 2 * 5 / 12: one letter of six changed
    ("Bojolali", "33.09", 88),  # 2 * 7 / 16
    ("Surakrta", "33.72", 94),  # 2 * 8 / 17: one letter of nine dropped
    ("Kec. Cpeer", "33.10.11", 80),  # 2 * 4 / 10: two neighbours swapped
]


@pytest.mark.parametrize(("text", "code", "score"), TYPOS, ids=[t for t, _, _ in TYPOS])
def test_a_typo_is_read_as_the_one_most_similar_area_and_said(
    data_dir: Path, caplog: pytest.LogCaptureFixture, text: str, code: str, score: int
) -> None:
    with caplog.at_level(logging.WARNING, logger="klastergeo.io.boundaries"):
        assert boundaries.resolve_area_name(text, source=data_dir) == code
    said = " ".join(r.getMessage() for r in caplog.records)
    assert f"read as the most similar, {code}" in said
    assert f"similarity {score} of 100" in said and "from 80, area.name_similarity" in said
    with pytest.raises(ConfigError, match="not the name"):  # exact names only
        boundaries.resolve_area_name(text, source=data_dir, similarity=100)


def test_the_command_line_reads_a_typo_as_placement_does(data_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "firms.csv").write_text("id,lat,lon,kbli\nA,-7.7,110.6,10001\n")
    base = ["validate", "--records", str(tmp_path / "firms.csv"), "--area", "Kab. Klatem"]
    env = {"KLASTERGEO_DATA_DIR": str(data_dir)}
    read = runner.invoke(app, [*base, "--out", str(tmp_path / "a")], env=env)
    assert read.exit_code == 0, read.output
    assert '"code": "33.10"' in (tmp_path / "a" / "summary.json").read_text(encoding="utf-8")
    # the library's English message (--lang en; Indonesian: tests/test_language_errors.py)
    exact = [*base, "--name-similarity", "100", "--lang", "en", "--out", str(tmp_path / "b")]
    refused = runner.invoke(app, exact, env=env)
    assert refused.exit_code == 2
    assert "closest names: 33.10 Kabupaten Klaten (83)" in " ".join(refused.output.split())


def test_a_name_like_none_is_refused_with_the_lookup_command(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="boundaries find 'Atlantis'"):
        boundaries.resolve_area_name("Atlantis", source=data_dir)
    with pytest.raises(ConfigError, match=r"of another kind: 33\.10 Kabupaten Klaten"):
        boundaries.resolve_area_name("Kota Klaten", source=data_dir)  # Klaten is no city
    with pytest.raises(ConfigError, match="is empty"):
        boundaries.resolve_area_name(" ., ", source=data_dir)
    with pytest.raises(ConfigError, match=r"'Kab\.' is not the name"):  # a kind word alone
        boundaries.resolve_area_name("Kab.", source=data_dir)
    assert boundaries.resolve_area_name("Kota", source=data_dir) == "35.71.02"  # a district


def test_boundaries_find_follows_the_same_rules(data_dir: Path) -> None:
    found = boundaries.find_areas("Kab. Klaten", levels=["kabupaten"], source=data_dir)
    assert found.loc[0, ["area_code", "match"]].tolist() == ["33.10", "exact"]
    city = boundaries.find_areas("Kota Semarang", levels=["kabupaten"], source=data_dir)
    assert city.loc[city["match"] == "exact", "area_code"].tolist() == ["33.74"]
    typo = boundaries.find_areas("Klatem", levels=["kabupaten"], source=data_dir)
    assert typo.loc[0, ["area_code", "match"]].tolist() == ["33.10", "similar"]
    result = runner.invoke(
        app, ["boundaries", "find", "Kota Adm. Jakarta Pusat", "--boundaries", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "31.71" in result.output


@pytest.mark.parametrize(
    ("text", "kind", "rest"),
    [
        ("Kab. Klaten", "kabupaten", "klaten"),
        ("KOTA ADM. JAKARTA PUSAT", "kota", "jakarta pusat"),
        ("Kabupaten Administrasi Kepulauan Seribu", "kabupaten", "kepulauan seribu"),
        ("Kotamadya Surakarta", "kota", "surakarta"),
        ("Ds. Tumang", "desa", "tumang"),
        ("Kel. Laweyan", "desa", "laweyan"),
        ("Kec.Cepogo", "kecamatan", "cepogo"),
        ("Kotagede", "", "kotagede"),  # a word that begins like a kind is no kind
        ("Désa  Tumang", "desa", "tumang"),
    ],
)
def test_kind_words_are_split_off(text: str, kind: str, rest: str) -> None:
    assert boundaries.split_kind(text) == (kind, rest)


# --------------------------------------------------------------------------------------
# The study area checked against the data: a synthetic lattice of custom polygons
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def halves(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4 x 6 lattice of 1 km cells as one polygon file, the west half's ids ``A.<n>``
    and the east half's ``B.<n>`` (so ``--area A`` is the west half), with registries
    of 24 firms per cell in chosen cells (kbli 31001)."""
    folder = tmp_path_factory.mktemp("halves")
    areas = lattice(4, 6)
    col = np.tile(np.arange(6), 4)
    areas["kode"] = [f"{'A' if c < 3 else 'B'}.{i:02d}" for i, c in enumerate(col)]
    areas.reset_index(drop=True).to_crs(4326).to_file(folder / "zones.gpkg")
    return folder


def _firms_in_cells(areas: gpd.GeoDataFrame, cells: list[int], per_cell: int) -> pd.DataFrame:
    """``per_cell`` firms on a regular grid inside each of ``cells`` (row-major
    positions), 100 m or more from the cell's edges (no snapping across borders)."""
    rows = []
    for cell in cells:
        x0, y0, x1, y1 = areas.geometry.iloc[cell].bounds
        side = int(np.ceil(np.sqrt(per_cell)))
        xs, ys = np.meshgrid(
            np.linspace(x0 + 150, x1 - 150, side), np.linspace(y0 + 150, y1 - 150, side)
        )
        rows.append(np.column_stack([xs.ravel(), ys.ravel()])[:per_cell])
    xy = np.concatenate(rows)
    points = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=areas.crs).to_crs(4326)
    return pd.DataFrame(
        {
            "id": [f"F{i}" for i in range(len(xy))],
            "lat": points.y.round(7).to_numpy(),
            "lon": points.x.round(7).to_numpy(),
            "kbli": "31001",
            "workers": 3,
        }
    )


def _lattice_cli(folder: Path, records_path: Path, out: Path, *extra: str) -> list[str]:
    return [
        "validate",
        "--records",
        str(records_path),
        "--boundaries",
        str(folder / "zones.gpkg"),
        "--area-id-col",
        "kode",
        "--area",
        "A",
        "--out",
        str(out),
        *extra,
    ]


def test_records_mostly_outside_a_custom_study_area_stop_the_run(
    halves: Path, tmp_path: Path
) -> None:
    areas = lattice(4, 6)
    west, east = [0, 6], [3, 4, 5, 9, 10, 11, 15, 16]  # cells in A and in B
    frame = _firms_in_cells(areas, west + east, 25)  # 50 inside, 200 outside
    frame.to_csv(tmp_path / "firms.csv", index=False)
    args = _lattice_cli(halves, tmp_path / "firms.csv", tmp_path / "out")
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "200 of the 250 records" in text and "(80%, more than area.max_outside=0.5)" in text
    assert "--area A of zones.gpkg holds 50" in text
    assert "one polygon file (zones.gpkg)" in text  # nothing to name them by: said
    # the extent of the points outside: the east half's cells, computed independently
    outside = frame.iloc[50:]
    assert f"longitude {outside['lon'].min():.4f} to {outside['lon'].max():.4f}" in text
    assert "--max-outside 1" in text
    assert (tmp_path / "out" / "rejected.csv").exists()  # the reports are written

    going = runner.invoke(app, [*args[:-2], "--out", str(tmp_path / "on"), "--max-outside", "1"])
    assert going.exit_code == 0, going.output
    rejected = pd.read_csv(tmp_path / "on" / "rejected.csv")
    assert (rejected["reason"] == "outside_study_area").sum() == 200


def test_a_minority_outside_goes_on(halves: Path, tmp_path: Path) -> None:
    areas = lattice(4, 6)
    frame = _firms_in_cells(areas, [0, 1, 2, 7, 3], 20)  # 80 inside, 20 outside
    frame.to_csv(tmp_path / "firms.csv", index=False)
    result = runner.invoke(app, _lattice_cli(halves, tmp_path / "firms.csv", tmp_path / "out"))
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "20 of the 100 placed records lie outside the study area (20%)" in said  # warned
    stricter = _lattice_cli(
        halves, tmp_path / "firms.csv", tmp_path / "strict", "--max-outside", "0.1"
    )
    refused = runner.invoke(app, stricter)
    assert refused.exit_code == 2 and "20 of the 100 records" in " ".join(refused.output.split())


def test_run_stops_before_it_computes(halves: Path, tmp_path: Path) -> None:
    areas = lattice(4, 6)
    _firms_in_cells(areas, [0, 3, 4, 5], 30).to_csv(tmp_path / "firms.csv", index=False)
    args = [
        "run",
        "--records",
        str(tmp_path / "firms.csv"),
        "--boundaries",
        str(halves / "zones.gpkg"),
        "--area-id-col",
        "kode",
        "--area",
        "A",
        "--permutations",
        "0",
        "--out",
        str(tmp_path / "out"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "90 of the 120 records" in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()  # nothing computed, nothing written
    assert (tmp_path / "out.rejected" / "rejected.csv").exists()


def test_the_max_outside_option_is_a_share() -> None:
    with pytest.raises(ConfigError, match=r"area.max_outside=1.5 is a share"):
        load_config(None, overrides={"area.max_outside": 1.5})


# --------------------------------------------------------------------------------------
# Points sampled to name where they lie
# --------------------------------------------------------------------------------------


def test_the_outside_sample_is_uniform_and_the_same_for_any_batches() -> None:
    rng = np.random.default_rng(7)
    n, limit = 20_000, 1_000
    rows = np.column_stack([np.arange(1, n + 1), rng.uniform(size=n), rng.uniform(size=n)])
    whole = records.sample_outside(rows, limit=limit)
    cuts = np.sort(rng.choice(np.arange(1, n), size=12, replace=False))
    kept = np.empty((0, 3))
    for part in np.split(rows, cuts):  # as the batches of a validation add up
        kept = records.sample_outside(kept, part, limit=limit)
    assert len(whole) == limit and np.array_equal(kept, whole)
    # a uniform sample of 1..n: mean (n + 1) / 2, standard error sd / sqrt(limit)
    error = np.sqrt((n**2 - 1) / 12 / limit)
    assert abs(whole[:, 0].mean() - (n + 1) / 2) < 4 * error
    assert len(records.sample_outside(rows[:10], limit=limit)) == 10  # fewer: all


def test_records_placed_by_a_code_elsewhere_are_named_by_their_regency(
    data_dir: Path,
) -> None:
    rejected = pd.DataFrame(
        {
            "kode_desa": ["3310112015", "33.10.11.2015", "3309032001", "", "x"],
            "row": [2, 3, 4, 5, 6],
            "reason": ["unknown_area"] * 5,
            "detail": [""] * 5,
        }
    )
    report = records.ValidationReport(
        records=gpd.GeoDataFrame(geometry=[], crs=4326),
        rejected=rejected,
        repaired=pd.DataFrame(),
        n_read=6,
        columns=Columns(area_code="kode_desa"),
        kept=1,
    )
    found = coverage.coverage(report, study="33.72", source=data_dir)
    assert (found.placed, found.outside, found.by_name) == (6, 5, 2)
    assert found.regencies["records"].to_dict() == {"33.10": 2.0, "33.09": 1.0, "33.72": 1.0}
    assert found.regencies.loc["33.10", "name"] == "Kabupaten Klaten"


def test_records_placed_outside_by_a_regency_name_are_counted_in_it(data_dir: Path) -> None:
    """Rows rejected as outside by the area they name, without a point: their kabupaten
    column names the regency (Kota and Kabupaten told apart; a name of both is not
    guessed)."""
    names = ["Kota Semarang", "KAB. SEMARANG", "Kabupaten Semarang", "Semarang", "Klaten"]
    rejected = pd.DataFrame(
        {
            "Kabupaten": names,
            "row": [2, 3, 4, 5, 6],
            "reason": ["outside_study_area"] * 5,
            "detail": [""] * 5,
        }
    )
    report = records.ValidationReport(
        records=gpd.GeoDataFrame(geometry=[], crs=4326),
        rejected=rejected,
        repaired=pd.DataFrame(),
        n_read=5,
        columns=Columns(kabupaten="Kabupaten"),
        kept=0,
        outside=np.column_stack([np.arange(2.0, 7.0), np.full(5, np.nan), np.full(5, np.nan)]),
    )
    found = coverage.coverage(report, study="33.72", source=data_dir)
    assert found.regencies["records"].to_dict() == {"33.22": 2.0, "33.10": 1.0, "33.74": 1.0}
    assert (found.by_name, found.nowhere) == (1, 0)  # "Semarang": the city or the regency


# --------------------------------------------------------------------------------------
# The wrong study area on the real boundaries: a district where its regency was meant
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def klaten(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    """300 firms at seeded random points of Kabupaten Klaten, none within 300 m of the
    border of Kecamatan Ceper (so snapping does not blur the count); the registry and
    how many lie in Ceper, computed with shapely (independently of the run)."""
    folder = tmp_path_factory.mktemp("klaten")
    regency = boundaries.load_areas("kabupaten", area="33.10", source=data_dir)
    ceper = boundaries.load_areas("kecamatan", area="33.10.11", source=data_dir)
    utm = regency.to_crs(32749).geometry.iloc[0].buffer(-300)
    border = ceper.to_crs(32749).geometry.iloc[0].boundary.buffer(300)
    rng = np.random.default_rng(2510)
    x0, y0, x1, y1 = utm.bounds
    xy = rng.uniform((x0, y0), (x1, y1), size=(6_000, 2))
    good = shapely.contains_xy(utm, xy[:, 0], xy[:, 1]) & ~shapely.contains_xy(
        border, xy[:, 0], xy[:, 1]
    )
    xy = xy[good][:300]
    inside = int(
        shapely.contains_xy(ceper.to_crs(32749).geometry.iloc[0], xy[:, 0], xy[:, 1]).sum()
    )
    points = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=32749).to_crs(4326)
    pd.DataFrame(
        {
            "ID Usaha": [f"K{i:04d}" for i in range(len(xy))],
            "Lintang": points.y.round(7).to_numpy(),
            "Bujur": points.x.round(7).to_numpy(),
            "KBLI": "25991",
        }
    ).to_csv(folder / "klaten.csv", index=False)
    return folder / "klaten.csv", len(xy), inside


def _validate(path: Path, out: Path, area: str, data_dir: Path, *extra: str):
    return runner.invoke(
        app,
        ["validate", "--records", str(path), "--area", area, "--out", str(out), *extra],
        env={"KLASTERGEO_DATA_DIR": str(data_dir)},
    )


def test_a_district_given_for_its_regency_stops_and_names_the_regency(
    klaten: tuple[Path, int, int], data_dir: Path, tmp_path: Path
) -> None:
    path, total, in_ceper = klaten
    assert total == 300 and 0 < in_ceper < total / 2
    result = _validate(path, tmp_path / "out", "Ceper", data_dir, "--lang", "en")
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert f"{total - in_ceper:,} of the {total:,} records" in text
    assert f"the records lie in 33.10 Kabupaten Klaten: {total:,} of {total:,}" in text
    assert f"--area 33.10.11 (Ceper, kecamatan) holds {in_ceper:,}" in text
    assert "pass --area 33.10" in text
    assert not re.search(r"about \d", text)  # every point located, no estimate

    meant = _validate(path, tmp_path / "meant", "Kab. Klaten", data_dir)
    assert meant.exit_code == 0, meant.output
    summary = (tmp_path / "meant" / "summary.json").read_text(encoding="utf-8")
    assert '"code": "33.10"' in summary and f'"kept": {total}' in summary


def test_records_placed_by_village_code_name_their_regency_too(
    data_dir: Path, tmp_path: Path
) -> None:
    """A registry without coordinates, placed by village codes written without dots
    (placement by area), with --area a district of the regency meant."""
    villages = boundaries.load_names("desa", area="33.10", source=data_dir)
    rng = np.random.default_rng(25)
    codes = villages.index.to_numpy(dtype=str)[rng.choice(len(villages), 250)]
    in_ceper = int(sum(c.startswith("33.10.11.") for c in codes))
    pd.DataFrame(
        {
            "No": np.arange(1, 251),
            "Nama Perusahaan": [f"UD {i}" for i in range(250)],
            "Kode Desa": [c.replace(".", "") for c in codes],
            "KBLI": "25991",
        }
    ).to_csv(tmp_path / "dinas.csv", index=False)
    result = _validate(tmp_path / "dinas.csv", tmp_path / "out", "Ceper", data_dir, "--lang", "en")
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert f"{250 - in_ceper} of the 250 records" in text
    assert "the records lie in 33.10 Kabupaten Klaten: 250 of 250" in text
    assert f"holds {in_ceper}" in text


# --------------------------------------------------------------------------------------
# klastergeo model on a survey without a sector column (item 8)
# --------------------------------------------------------------------------------------


def _tumang_survey(path: Path, *, n: int = 60, seed: int = 2012) -> pd.DataFrame:
    """A one-village survey shaped like the Tumang export study: 60 metal-craft firms
    of Desa Tumang (Cepogo, Boyolali) with GPS points, the study's seven predictors and
    export orientation (1 export, 0 domestic) drawn from a planted logit; no KBLI."""
    rng = np.random.default_rng(seed)
    workers = rng.integers(2, 40, n)
    age = rng.integers(3, 40, n)
    buyer, promotion, training = rng.integers(0, 2, (3, n))
    technology, supplier = rng.integers(0, 2, (2, n))
    eta = -4 + 0.12 * workers + 0.05 * age + 1.2 * buyer + 1.0 * promotion
    export = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(int)
    frame = pd.DataFrame(
        {
            "No": np.arange(1, n + 1),
            "Nama Responden": [f"Responden {i}" for i in range(n)],
            "Nama Usaha": [f"Kerajinan Logam {i}" for i in range(n)],
            "Desa": "Tumang",
            "Lintang": (-7.5215 + rng.normal(0, 0.002, n)).round(6),
            "Bujur": (110.5035 + rng.normal(0, 0.002, n)).round(6),
            "Tenaga Kerja": workers,
            "Umur Usaha": age,
            "Jaringan Pembeli": buyer,
            "Promosi": promotion,
            "Pelatihan": training,
            "Teknologi Peralatan": technology,
            "Jaringan Pemasok": supplier,
            "Orientasi Ekspor": export,
        }
    )
    frame.to_csv(path, index=False)
    return frame


PREDICTORS = [
    "Tenaga Kerja",
    "Umur Usaha",
    "Jaringan Pembeli",
    "Promosi",
    "Pelatihan",
    "Teknologi Peralatan",
    "Jaringan Pemasok",
]


def test_model_runs_on_a_survey_without_a_sector_column(tmp_path: Path) -> None:
    import statsmodels.api as sm

    survey = _tumang_survey(tmp_path / "tumang.csv")
    args = [
        "model",
        "--records",
        str(tmp_path / "tumang.csv"),
        "--outcome",
        "Orientasi Ekspor",
        "--predictors",
        ",".join(PREDICTORS),
        "--kind",
        "logit",
        "--out",
        str(tmp_path / "out"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "out" / "models" / "logit_coefficients.csv")
    estimates = table.set_index(table.columns[0]).iloc[:, 0]
    # the same logit from statsmodels directly (an independent fit of the same rows)
    exog = sm.add_constant(survey[PREDICTORS].astype(float))
    reference = sm.Logit(survey["Orientasi Ekspor"].astype(float), exog).fit(disp=0).params
    for name in PREDICTORS:
        assert estimates[name] == pytest.approx(reference[name], rel=1e-4, abs=1e-6)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["records"]["kept"] == 60
    assert summary["records"]["columns"]["lat"] == "Lintang"
    assert "sector" not in summary["records"]["columns"]  # none found, none needed


@pytest.mark.slow
def test_commands_that_find_sentra_say_why_they_need_a_sector(tmp_path: Path) -> None:
    _tumang_survey(tmp_path / "tumang.csv")
    for command in ("run", "validate"):
        args = [command, "--records", str(tmp_path / "tumang.csv"), "--out", str(tmp_path / "o")]
        result = runner.invoke(app, [*args, "--lang", "en"])
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert "no sector column found; pass --sector-col NAME" in text
        assert "`klastergeo model --outcome COLUMN` needs none" in text
