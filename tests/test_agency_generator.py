"""The generator of agency-shaped registries (``tests/worlds/agency.py``) and the pipeline on its
files (issue 25, item 9).

The first classes check the generator itself against what it planted, with independent
means (points located in the real village polygons, the sheets read back cell by cell with
openpyxl, coordinates parsed back by a parser of this file, the counts recomputed from the
truth file). They depend on nothing being built for issue 25 now.

:class:`TestPipelineOnAgencyFiles` runs ``klastergeo run``/``validate`` on each shape and
asserts what the issue's "Done when" asks, each shape against the truth file's sentra and
against the generator's record of what it planted and typed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from tests.worlds import agency
from tests.worlds.demo_truth import score_recovery

#: One xdist worker runs the module (``make test`` runs ``-n 2 --dist loadgroup``), so that
#: the world, its files and the truth run are made once.
pytestmark = [pytest.mark.boundaries, pytest.mark.xdist_group("agency")]

#: Kind words a reader should ignore before a name (issue 25, item 1).
KIND = re.compile(r"^\s*(ds|desa|kel|kelurahan|kec|kecamatan|kab|kabupaten|kota)\b\.?\s*", re.I)


def _bare(names: pd.Series) -> pd.Series:
    """Names without their kind word, in lower case."""
    return names.fillna("").astype(str).str.replace(KIND, "", regex=True).str.strip().str.lower()


@pytest.fixture(scope="module")
def villages(data_dir: Path) -> gpd.GeoDataFrame:
    return agency.load_regency(data_dir, agency.TULUNGAGUNG.code)


@pytest.fixture(scope="module")
def world(villages: gpd.GeoDataFrame) -> agency.World:
    return agency.generate(villages)


@pytest.fixture(scope="module")
def files(world: agency.World, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return agency.write_all(world, tmp_path_factory.mktemp("agency"))


def _locate(villages: gpd.GeoDataFrame, lon: Any, lat: Any) -> pd.DataFrame:
    """Every (point, village) pair where the village polygon holds the point."""
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    polygons = gpd.GeoDataFrame(
        {"village": villages.index.to_numpy()}, geometry=villages.geometry.values, crs=4326
    )
    return gpd.sjoin(points, polygons, predicate="within", how="left")[["village"]]


# -- the world -------------------------------------------------------------------------


class TestWorld:
    def test_every_truth_point_lies_in_its_village_and_no_other(self, world, villages) -> None:
        firms = world.firms
        hits = _locate(villages, firms["lon"], firms["lat"])
        assert hits.index.is_unique, "a point lies in two overlapping villages"
        assert (hits["village"].to_numpy() == firms["area_code"].to_numpy()).all()
        assert (firms["lat"].round(6) == firms["lat"]).all()  # as written, six decimals

    def test_the_planted_sentra_are_in_their_villages(self, world) -> None:
        firms = world.firms
        for planted in agency.TULUNGAGUNG.planted:
            mine = firms.loc[firms["planted"] == planted.key]
            assert (mine["kbli"] == planted.kbli).all()
            by_village = mine["area_code"].value_counts().to_dict()
            assert by_village == dict(planted.villages), planted.key
            row = world.truth.set_index("key").loc[planted.key]
            assert row["n_firms"] == planted.n_firms
            assert row["core_area"] == planted.villages[0][0]
            # a concentration: the planted class is a small share of the background
            background = (firms["planted"] == "") & (firms["area_code"] == row["core_area"])
            assert (firms.loc[background, "kbli"] == planted.kbli).sum() < 10

    def test_divisions_whose_codes_start_with_zero_are_planted(self, world) -> None:
        planted = {p.sector for p in agency.TULUNGAGUNG.planted}
        assert {"01", "03"} <= planted
        assert world.firms["kbli"].str.fullmatch(r"\d{5}").all()
        assert world.firms["kbli"].str.startswith("0").sum() > 200

    def test_planted_cores_include_village_names_that_repeat(self, world, villages) -> None:
        repeated = agency.duplicated_names(villages)
        cores = {c for p in agency.TULUNGAGUNG.planted for c, _ in p.villages}
        in_repeated = {c for codes in repeated for c in codes} & cores
        assert len(in_repeated) >= 3  # Wates, Bono, Tugu
        # the kecamatan of the two namesakes differ: only the kecamatan tells them apart
        for codes in repeated:
            assert len({c[:8] for c in codes}) == len(codes)

    def test_ids_are_unique_13_digit_nibs(self, world) -> None:
        ids = world.firms["id"]
        assert ids.is_unique
        assert ids.str.fullmatch(r"9120\d{9}").all()

    def test_unknown_measures_are_missing_never_zero(self, world) -> None:
        for column, share in (
            ("tenaga_kerja", 0.03),
            ("nilai_produksi", 0.06),
            ("nilai_investasi", 0.12),
        ):
            values = world.firms[column]
            assert values.isna().mean() == pytest.approx(share, abs=0.02), column
            assert (values.dropna() > 0).all()

    def test_the_same_seed_gives_the_same_world(self, world, villages) -> None:
        again = agency.generate(villages)
        pd.testing.assert_frame_equal(again.firms, world.firms)
        other = agency.generate(villages, seed=agency.SEED + 1)
        assert not other.firms["id"].equals(world.firms["id"])

    def test_size_scales_the_world(self, world, villages) -> None:
        bigger = agency.generate(villages, size=3.0)
        assert len(bigger.firms) == pytest.approx(3 * len(world.firms), rel=0.01)
        assert (bigger.truth["n_firms"] == 3 * world.truth["n_firms"]).all()

    def test_a_second_regency_outside_java(self, data_dir) -> None:
        bali = agency.load_regency(data_dir, agency.GIANYAR.code)
        world = agency.generate(bali, regency=agency.GIANYAR)
        hits = _locate(bali, world.firms["lon"], world.firms["lat"])
        assert hits.index.is_unique
        assert (hits["village"].to_numpy() == world.firms["area_code"].to_numpy()).all()
        assert set(world.truth["sector"]) == {"32", "23", "03"}
        assert agency.utm_crs(bali) == "EPSG:32750"  # Bali lies in UTM zone 50

    def test_every_shape_of_the_second_regency(self, data_dir, tmp_path) -> None:
        """Gianyar's firms in every shape but the names one (Gianyar repeats no village
        name, which the generator says instead of planting nothing)."""
        bali = agency.load_regency(data_dir, agency.GIANYAR.code)
        world = agency.generate(bali, regency=agency.GIANYAR)
        written = agency.write_dinas(world, tmp_path)
        assert len(written.features["firm_rows"]) == world.n_firms
        from openpyxl import load_workbook

        title = load_workbook(written.path).active.cell(row=2, column=1).value
        assert title == "KABUPATEN GIANYAR TAHUN 2024"
        coords = agency.write_coordinates(world, tmp_path, layout="projected")
        assert coords.features["crs"] == "EPSG:32750"
        assert (coords.features["mismatch"]["distance_m"] > agency.MISMATCH_MIN_M).all()
        counts = agency.write_counts(world, tmp_path, form="long")
        assert counts.features["total"] == world.n_firms
        with pytest.raises(ValueError, match="repeated village names"):
            agency.write_names(world, tmp_path)


# -- the shapes, read back -----------------------------------------------------------------


class TestShapes:
    def test_truth_csv(self, files, world) -> None:
        truth = pd.read_csv(files["truth"].path, dtype=str, keep_default_na=False)
        assert len(truth) == world.n_firms
        assert truth["kbli"].str.fullmatch(r"\d{5}").all()  # zeros kept as text
        assert (truth["id_usaha"] == world.firms["id"]).all()
        blank = truth["tenaga_kerja"] == ""
        assert (blank == world.firms["tenaga_kerja"].isna()).all()
        lat = truth["lintang"].astype(float)
        assert np.allclose(lat, world.firms["lat"], atol=0, rtol=0)

    def _sheet(self, written) -> Any:
        from openpyxl import load_workbook

        return load_workbook(written.path)[written.features["sheet"]]

    @pytest.mark.parametrize("shape", ["dinas-merged", "dinas-flat"])
    def test_dinas_workbook_rows(self, files, world, shape) -> None:
        """Every non-empty row of the sheet is a title, header, column-number, firm,
        totals or footnote row, as declared; totals are the sums of the rows above."""
        written = files[shape]
        f = written.features
        ws = self._sheet(written)
        rows = {
            r: list(row)
            for r, row in enumerate(ws.iter_rows(values_only=True), start=1)
            if any(c is not None for c in row)
        }
        firm_rows = set(f["firm_rows"].values())
        totals = set(f["totals_rows"].values())
        declared = (
            set(f["title_rows"])
            | set(f["header_rows"])
            | {f["number_row"], f["grand_total_row"]}
            | firm_rows
            | totals
            | set(f["footnote_rows"])
        )
        assert set(rows) == declared
        assert len(firm_rows) == world.n_firms
        assert "TAHUN 2024" in rows[f["title_rows"][-1]][0]
        assert "TULUNGAGUNG" in rows[f["title_rows"][-1]][0]
        assert rows[f["number_row"]] == list(range(1, 13))
        assert any(str(rows[r][0]).startswith("Sumber:") for r in f["footnote_rows"])
        assert any(str(rows[r][9]).startswith("NIP.") for r in f["footnote_rows"])
        # totals rows: the sums of the firm rows since the previous totals row
        start = f["first_row"]
        for r in sorted(totals):
            block = [rows[i] for i in range(start, r)]
            for c in (9, 10, 11):
                assert rows[r][c] == sum(x[c] for x in block if x[c] is not None), (r, c)
            label = rows[r][0] if shape == "dinas-merged" else rows[r][1]
            assert str(label).lower().startswith(("jumlah", "sub jumlah")), label
            start = r + 1
        grand = rows[f["grand_total_row"]]
        for c in (9, 10, 11):
            assert grand[c] == sum(rows[i][c] for i in firm_rows if rows[i][c] is not None)
        assert set(written.expected.skipped) == {str(r) for r in totals} | {
            str(f["grand_total_row"]),
            *map(str, f["footnote_rows"]),
        }

    def test_merged_header(self, files) -> None:
        written = files["dinas-merged"]
        ws = self._sheet(written)
        top, below = written.features["header_rows"]
        merged = {str(r) for r in ws.merged_cells.ranges}
        assert {
            f"H{top}:I{top}",
            f"K{top}:L{top}",
            f"A{top}:A{below}",
            f"J{top}:J{below}",
        } <= merged
        assert set(written.features["merged"]) == merged
        assert ws[f"H{top}"].value == "Lokasi"
        assert (ws[f"H{below}"].value, ws[f"I{below}"].value) == ("Desa/Kelurahan", "Kecamatan")
        assert ws[f"K{top}"].value == "Nilai (Rp)"
        assert (ws[f"K{below}"].value, ws[f"L{below}"].value) == ("Produksi", "Investasi")
        assert ws[f"J{top}"].value == "Tenaga Kerja (orang)"
        assert ws[f"J{below}"].value is None  # merged down: the cell below is empty
        headers = written.features["headers"]
        assert headers["desa"] == "Lokasi Desa/Kelurahan"
        assert headers["output"] == "Nilai (Rp) Produksi"

    @pytest.mark.parametrize("shape", ["dinas-merged", "dinas-flat"])
    def test_dinas_workbook_cells(self, files, world, shape) -> None:
        """Cells as typed: KBLI and NIB number cells, amounts in the header's unit, blank
        cells where the value is unknown, names with kind words and planted typos."""
        written = files[shape]
        f = written.features
        ws = self._sheet(written)
        cells = dict(enumerate(ws.iter_rows(values_only=True), start=1))
        firms = world.firms.set_index("id")
        row_of = pd.Series(f["firm_rows"])
        sheet = pd.DataFrame([cells[r] for r in row_of], index=row_of.index)
        sheet = sheet.reindex(firms.index)
        assert sheet[4].map(type).eq(int).all()  # KBLI: number cells
        assert (sheet[4] == firms["kbli"].astype(int)).all()
        zero = firms["kbli"].str.startswith("0")
        assert set(firms.index[zero]) == set(f["lost_zero"])
        assert (sheet.loc[zero, 4].astype(str).str.len() == 4).all()  # 03226 -> 3226
        assert (sheet[3].astype(str) == firms.index).all()  # NIB, a 13-digit number cell
        units = f["units"]
        for c, column, role in (
            (9, "tenaga_kerja", "workers"),
            (10, "nilai_produksi", "output"),
            (11, "nilai_investasi", "investment"),
        ):
            unknown = firms[column].isna()
            assert sheet.loc[unknown, c].isna().all() and sheet.loc[~unknown, c].notna().all()
            unit = units.get(role, 1)
            written_values = sheet.loc[~unknown, c].astype(float) * unit
            assert np.allclose(written_values, firms.loc[~unknown, column], rtol=0, atol=0)
            assert set(f["blank"][role]) == set(firms.index[unknown])
        if shape == "dinas-flat":
            assert ws.cell(row=f["header_rows"][0], column=12).value == "Nilai Investasi (Rp. 000)"
            assert units["investment"] == 1000
        # names: kind words and capitals; a typo is one edit and still clearly its name
        desa = _bare(sheet[7])
        typos = f["typos"].set_index("id")
        clean = ~sheet.index.isin(typos.index)
        assert (desa[clean] == firms.loc[clean, "desa"].str.lower()).all()
        assert (_bare(sheet[8]) == firms["kecamatan"].str.lower()).all()
        assert len(typos) == pytest.approx(0.05 * world.n_firms, rel=0.3)
        names = list(world.villages["name"].str.lower().unique())
        for nid, row in typos.iterrows():  # about a hundred planted typos
            typed = desa[nid]
            assert typed != row["true"].lower()
            assert OSA.distance(typed, row["true"].lower()) == 1
            best = process.extractOne(typed, names, scorer=fuzz.ratio)
            assert best[0] == row["true"].lower(), (typed, best)
        words = sheet[7].str.extract(KIND)[0].str.lower().value_counts()
        assert {"ds", "desa", "kel", "kelurahan"} <= set(words.index)
        assert sum(f["kind_words"].values()) == int(words.sum())
        # kelurahan get Kel., desa get Ds./Desa
        kelurahan = firms["area_code"].str[9] == "1"
        kind = sheet[7].str.extract(KIND)[0].str.lower()
        assert kind[kelurahan].dropna().isin(["kel", "kelurahan"]).all()
        assert kind[~kelurahan].dropna().isin(["ds", "desa"]).all()

    def test_one_sheet_per_kecamatan(self, files, world) -> None:
        from openpyxl import load_workbook

        written = files["dinas-sheets"]
        f = written.features
        wb = load_workbook(written.path)
        kecamatan = world.villages.drop_duplicates("kecamatan_code")
        assert len(wb.sheetnames) == len(kecamatan) == 19
        assert set(wb.sheetnames) == set(f["sheets"])
        names = dict(zip(kecamatan["kecamatan_code"], kecamatan["kecamatan"], strict=True))
        firms = world.firms.set_index("id")
        seen = 0
        for sheet, code in f["sheets"].items():
            ws = wb[sheet]
            assert _bare(pd.Series([sheet]))[0] == names[code].lower()
            header = [c.value for c in ws[f["header_row"]]]
            assert "Kecamatan" not in header and "Desa/Kelurahan" in header
            ids = [i for i, where in f["firm_rows"].items() if where.split("!")[0] == sheet]
            assert len(ids) == f["firms_per_sheet"][sheet]
            assert (firms.loc[ids, "kecamatan_code"] == code).all()
            rows = [int(f["firm_rows"][i].split("!")[1]) for i in ids]
            total = ws.cell(row=f["totals_rows"][sheet], column=9).value
            assert total == sum(ws.cell(row=r, column=9).value or 0 for r in rows)
            note = ws.cell(row=f["footnote_rows"][sheet][0], column=1).value
            assert note.startswith("Sumber:")
            seen += len(ids)
        assert seen == world.n_firms

    def test_dinas_csv(self, files, world) -> None:
        written = files["dinas-csv"]
        frame = pd.read_csv(written.path, sep=";", dtype=str, keep_default_na=False)
        firms = world.firms.set_index("id")
        frame = frame.set_index("NIB").loc[firms.index]
        zero = firms["kbli"].str.startswith("0")
        assert (frame.loc[zero, "KBLI"] == firms.loc[zero, "kbli"].str[1:]).all()  # 3226
        assert (frame.loc[~zero, "KBLI"] == firms.loc[~zero, "kbli"]).all()
        assert set(frame.columns) >= {"Desa/Kelurahan", "Kecamatan", "Nilai Investasi (Rp. 000)"}
        investment = pd.to_numeric(frame["Nilai Investasi (Rp. 000)"].replace("", np.nan))
        assert np.allclose(investment * 1000, firms["nilai_investasi"], equal_nan=True)
        typos = written.features["typos"].set_index("id")
        desa = _bare(frame["Desa/Kelurahan"])
        clean = ~desa.index.isin(typos.index)
        assert (desa[clean] == firms.loc[clean, "desa"].str.lower()).all()
        assert (desa[typos.index] != firms.loc[typos.index, "desa"].str.lower()).all()

    def test_a_summary_sheet_before_the_kecamatan_sheets(self, world, tmp_path) -> None:
        from openpyxl import load_workbook

        written = agency.write_sheets(world, tmp_path, summary_sheet=True)
        wb = load_workbook(written.path)
        assert wb.sheetnames[0] == "REKAP" and len(wb.sheetnames) == 20
        counts = [row[2] for row in wb["REKAP"].iter_rows(min_row=4, values_only=True)]
        assert sum(counts) == world.n_firms
        assert written.features["summary_sheet"] is True

    def test_siinas_export(self, files, world) -> None:
        written = files["siinas"]
        raw = written.path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        frame = pd.read_csv(
            written.path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
        firms = world.firms.set_index("id")
        frame = frame.set_index("NIB").reindex(firms.index)
        assert not any("lat" in c.lower() or "lintang" in c.lower() for c in frame.columns)
        code = frame["Kode Wilayah"]
        dotted = code.str.contains(".", regex=False)
        assert code[~dotted].str.fullmatch(r"\d{10}").all()
        assert set(code.index[dotted]) == set(written.features["dotted"])
        assert 0.1 < dotted.mean() < 0.3
        assert (
            code.str.replace(".", "", regex=False) == firms["area_code"].str.replace(".", "")
        ).all()
        assert (frame["KBLI"] == firms["kbli"]).all()
        for column, source in (
            ("Nilai Produksi", "nilai_produksi"),
            ("Nilai Investasi", "nilai_investasi"),
        ):
            text = frame[column]
            assert text[text != ""].str.fullmatch(r"\d+,\d\d").all()
            values = pd.to_numeric(text.str.replace(",", ".", regex=False).replace("", np.nan))
            pd.testing.assert_series_equal(values, firms[source], check_names=False)

    @staticmethod
    def _parse_angle(text: pd.Series) -> pd.Series:
        """An independent reader of one coordinate as written: decimal degrees, or
        degrees with minutes (and seconds) and a hemisphere letter before or after."""
        pattern = (
            r"^\s*(?P<h1>[NSEW])?\s*(?P<d>-?\d+(?:\.\d+)?)\s*(?:°\s*(?P<m>\d+(?:\.\d+)?)\s*'"
            r"\s*(?:(?P<s>\d+(?:\.\d+)?)\s*\")?)?\s*(?P<h2>[NSEW])?\s*$"
        )
        parts = text.str.extract(pattern)
        assert parts["d"].notna().all(), text[parts["d"].isna()].head()
        value = (
            parts["d"].astype(float).abs()
            + parts["m"].astype(float).fillna(0) / 60
            + parts["s"].astype(float).fillna(0) / 3600
        )
        hemi = parts["h1"].fillna(parts["h2"])
        negative = hemi.isin(["S", "W"]) | parts["d"].str.startswith("-")
        return value.where(~negative, -value)

    def _pairs(self, text: pd.Series) -> tuple[pd.Series, pd.Series]:
        """lat, lon of a combined column: a 'lat, lon' pair, a map link or a DMS pair."""
        link = text.str.extract(r"(?:[?&]q=|/@)(-?\d+\.\d+),(-?\d+\.\d+)")
        pair = text.str.extract(r"^\s*(-?\d+\.\d+)\s*,\s*(-?\d+\.\d+)\s*$")
        dms = text.str.extract(r"^(\S+[NS])\s+(\S+[EW])$")
        lat = link[0].fillna(pair[0])
        lon = link[1].fillna(pair[1])
        lat = lat.astype(float).fillna(self._parse_angle(dms[0].fillna("0")).where(dms[0].notna()))
        lon = lon.astype(float).fillna(self._parse_angle(dms[1].fillna("0")).where(dms[1].notna()))
        return lat, lon

    @pytest.mark.parametrize("layout", ["decimal", "columns", "combined", "projected"])
    def test_coordinates_as_written(self, files, world, villages, layout) -> None:
        written = files[f"coordinates-{layout}"]
        f = written.features
        frame = pd.read_csv(written.path, sep=";", dtype=str, keep_default_na=False)
        assert frame["nilai_produksi"][frame["nilai_produksi"] != ""].str.contains(",").all()
        if layout == "decimal":
            assert frame["Lintang"].str.fullmatch(r"-\d\.\d{6}").all()
            lat, lon = frame["Lintang"].astype(float), frame["Bujur"].astype(float)
        elif layout == "columns":
            lat, lon = self._parse_angle(frame["Lintang"]), self._parse_angle(frame["Bujur"])
            kinds = pd.Series(f["formats"]).value_counts()
            assert {
                "decimal",
                "dms",
                "dms-spaced",
                "dms-hemisphere-first",
                "decimal-minutes",
            } <= set(kinds.index)
            assert frame["Lintang"].str.contains("°").mean() > 0.3
        elif layout == "combined":
            lat, lon = self._pairs(frame["Koordinat"])
            text = frame["Koordinat"]
            assert text.str.startswith("https://www.google.com/maps?q=").any()
            assert text.str.contains("/@").any() and text.str.contains("°").any()
            assert text.str.fullmatch(r"-?\d+\.\d+, -?\d+\.\d+").any()
        else:
            points = gpd.GeoSeries(
                gpd.points_from_xy(frame["X"].astype(float), frame["Y"].astype(float)),
                crs=f["crs"],
            ).to_crs(4326)
            lat, lon = pd.Series(points.y), pd.Series(points.x)
            assert f["crs"] == "EPSG:32749"
        assert lat.notna().all() and lon.notna().all()
        back = f["points"]
        assert np.allclose(lat, back["lat"], atol=1e-7) and np.allclose(lon, back["lon"], atol=1e-7)
        mismatch = f["mismatch"].set_index("id")
        stated = frame["id_usaha"].map(world.firms.set_index("id")["area_code"])
        hits = _locate(villages, lon, lat)
        assert hits.index.is_unique
        ok = ~frame["id_usaha"].isin(mismatch.index)
        assert (hits["village"][ok.to_numpy()] == stated[ok].to_numpy()).all()
        # the rounding of DMS (0.1") and decimal minutes (0.001') moves a point < 3 m
        truth = world.firms.set_index("id").loc[frame["id_usaha"][ok]]
        assert np.abs(lat[ok].to_numpy() - truth["lat"].to_numpy()).max() < 3e-5
        # planted area_mismatch: far outside the stated village (measured here in UTM)
        assert len(mismatch) == 12
        crs = agency.utm_crs(villages)
        bad = ~ok.to_numpy()
        pts = gpd.GeoSeries(gpd.points_from_xy(lon[bad], lat[bad]), crs=4326).to_crs(crs)
        own = villages.to_crs(crs).geometry.reindex(stated[bad].to_numpy())
        distance = pts.distance(gpd.GeoSeries(own.to_numpy(), crs=crs)).to_numpy()
        assert (distance > 500 + 1000).all()
        assert written.expected.repaired["area_mismatch"] == tuple(frame["id_usaha"][bad])

    def test_coordinates_only(self, files) -> None:
        for layout in ("columns", "combined", "projected"):
            written = files[f"coordinates-{layout}-only"]
            frame = pd.read_csv(written.path, sep=";", dtype=str)
            assert not {"desa", "kecamatan"} & set(frame.columns)
            assert written.expected.repaired == {}
            assert set(written.expected.placement.values()) == {"point"}

    def test_counts_sum_to_the_firms(self, files, world, villages) -> None:
        """The counts per village and division, recomputed from the truth file's points."""
        truth = pd.read_csv(files["truth"].path, dtype={"kbli": str})
        hits = _locate(villages, truth["bujur"], truth["lintang"])
        expected = pd.crosstab(hits["village"].to_numpy(), truth["kbli"].str[:2].to_numpy())
        wide = pd.read_csv(files["counts-wide"].path, dtype={"Kode Desa": str})
        assert len(wide) == len(villages)  # every village, zeros included
        body = wide.set_index("Kode Desa").drop(columns=["Nama Desa", "Kecamatan"])
        assert list(body.columns) == sorted(expected.columns)
        assert int(body.to_numpy().sum()) == world.n_firms
        pd.testing.assert_frame_equal(
            body.loc[expected.index, expected.columns],
            expected,
            check_names=False,
            check_dtype=False,
        )
        assert (body.drop(index=expected.index) == 0).all().all()
        long = pd.read_csv(files["counts-long"].path, dtype={"kbli": str})
        assert long["jumlah_usaha"].sum() == world.n_firms
        assert (long["jumlah_usaha"] > 0).all()
        assert long["kbli"].str.fullmatch(r"\d\d").all() and (long["kbli"] == "03").any()
        pivot = long.pivot_table(
            index="kode_wilayah", columns="kbli", values="jumlah_usaha", fill_value=0
        )
        pd.testing.assert_frame_equal(
            pivot, body.loc[pivot.index, pivot.columns], check_names=False, check_dtype=False
        )
        workers = world.firms.groupby(world.firms["kbli"].str[:2])["tenaga_kerja"].sum()
        by_sector = long.groupby("kbli")["tenaga_kerja"].sum()
        assert np.allclose(by_sector.reindex(workers.index), workers)

    def test_counts_with_division_labels(self, world, tmp_path) -> None:
        from klastergeo.kbli import DIVISIONS

        written = agency.write_counts(world, tmp_path, header="label")
        wide = pd.read_csv(written.path)
        assert "Perikanan" in wide.columns and "Industri makanan" in wide.columns
        assert written.features["labels"]["Perikanan"] == "03"
        for label, code in written.features["labels"].items():
            assert DIVISIONS[code][0] == label

    def test_names_that_only_the_kecamatan_resolves(self, files, world, villages) -> None:
        written = files["names"]
        f = written.features
        frame = pd.read_csv(written.path, dtype=str, keep_default_na=False).set_index("id_usaha")
        firms = world.firms.set_index("id")
        names = villages["name"].str.lower()
        counts = names.value_counts()
        repeated = set(counts.index[counts > 1])
        assert len(repeated) == 16 and {"bono", "wates", "tugu", "kauman"} <= repeated
        desa = _bare(frame["desa"])
        kec = _bare(frame["kecamatan"])
        # every firm of a repeated name carries its kecamatan, except the planted ambiguous
        of_repeated = desa.isin(repeated)
        ambiguous = set(f["ambiguous"])
        assert (kec[of_repeated & ~desa.index.isin(ambiguous)] != "").all()
        assert set(desa.index[of_repeated & (kec == "")]) == ambiguous
        assert len(ambiguous) == 6
        for fid, candidates in f["ambiguous"].items():
            assert set(candidates) == set(names.index[names == desa[fid]])
        assert set(written.expected.rejected["ambiguous_area"]) == ambiguous
        # the kecamatan written is the true one
        has = kec != ""
        assert (kec[has] == firms.loc[kec.index[has], "kecamatan"].str.lower()).all()
        assert len(f["by_kecamatan"]) > 100
        # unknown names: in no village of the regency, and close to none
        unknown = f["unknown"]
        assert len(unknown) == 5 and set(written.expected.rejected["unknown_area"]) == set(unknown)
        for fid, name in unknown.items():
            assert desa[fid] == name.lower() and name.lower() not in set(names)
            assert process.extractOne(desa[fid], list(names), scorer=fuzz.ratio)[1] < 80
        # the other names are the true ones, whatever their kind word
        rest = ~desa.index.isin(list(unknown))
        assert (desa[rest] == firms.loc[desa.index[rest], "desa"].str.lower()).all()
        assert frame["kabupaten"].str.contains("Tulungagung").all()
        assert written.expected.kept == world.n_firms - 11

    def test_writers_are_independent_of_each_other(self, world, files, tmp_path) -> None:
        """Each writer draws from its own seeded generator: writing one shape alone gives
        the same file as writing all of them."""
        alone = agency.write_siinas(world, tmp_path)
        assert alone.path.read_bytes() == files["siinas"].path.read_bytes()


# -- the pipeline on the agency files (issue 25, "Done when") ----------------------------------


#: A fast run: no permutations, figures, point patterns, co-location or map tiles; the
#: sentra rules decide on analytical inference, as with 999 permutations on this world.
FAST = (
    "--permutations",
    "0",
    "--set",
    "report.figures=none",
    "--set",
    "pointpattern.enabled=false",
    "--set",
    "colocation.enabled=false",
)


def _invoke(*args: str) -> Any:
    from typer.testing import CliRunner

    from klastergeo.app.cli import app

    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def bali(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """Kabupaten Gianyar's world and three of its shapes (truth, flat Dinas workbook,
    SIINas export), by shape."""
    world = agency.generate(
        agency.load_regency(data_dir, agency.GIANYAR.code), regency=agency.GIANYAR
    )
    folder = tmp_path_factory.mktemp("gianyar")
    written = (
        agency.write_truth(world, folder),
        agency.write_dinas(world, folder, style="flat"),
        agency.write_siinas(world, folder),
    )
    return world, {w.shape: w for w in written}


@pytest.fixture(scope="module")
def runs(files, bali, data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """``runs(shape, *options, command="run", regency="35.04")``: the CLI on one written
    shape over Kabupaten Tulungagung (or Gianyar, 51.04), run once per shape and options
    in this module."""
    cache: dict[tuple, tuple[Any, Path]] = {}

    def run(
        shape: str,
        *options: str,
        command: str = "run",
        records: bool = True,
        regency: str = agency.TULUNGAGUNG.code,
    ) -> tuple:
        key = (shape, options, command, regency)
        if key not in cache:
            written = files if regency == agency.TULUNGAGUNG.code else bali[1]
            out = tmp_path_factory.mktemp(f"{command}-{shape}") / "out"
            source = ["--records", str(written[shape].path)] if records else []
            extra = {"run": ("--tiles", "none", *FAST), "sentra": FAST}.get(command, ())
            result = _invoke(
                command,
                *source,
                "--area",
                regency,
                "--boundaries",
                str(data_dir),
                "--out",
                str(out),
                *extra,
                *options,
            )
            cache[key] = (result, out)
        return cache[key]

    return run


def _ok(result: Any) -> None:
    assert result.exit_code == 0, result.output + repr(result.exception)


def _sentra(out: Path) -> set[tuple[str, frozenset[str]]]:
    """The sentra a run reported: (sector, its villages)."""
    found = pd.read_csv(out / "sentra.csv", dtype=str)
    return {
        (s, frozenset(a.split(";")))
        for s, a in zip(found["sector"], found["area_codes"], strict=True)
    }


def _records(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))["records"]


def _firms(out: Path) -> pd.DataFrame:
    firms = pd.read_parquet(out / "firms")
    if "record_id" in firms.columns:
        firms = firms.set_index("record_id")
    firms.index = firms.index.astype(str)
    return firms


def _skipped(out: Path) -> set[str]:
    """Rows a run skipped (totals, footnotes), as listed in ``skipped.csv``: the row the
    spreadsheet shows (``sheet_row``; ``row`` is the record number), and ``sheet``."""
    listed = pd.read_csv(out / "skipped.csv", dtype=str)
    row = listed["sheet_row"] if "sheet_row" in listed.columns else listed["row"]
    if "sheet" in listed.columns and listed["sheet"].nunique() > 1:
        return set(listed["sheet"] + "!" + row)
    return set(row)


def _rejected(out: Path) -> dict[str, set[str]]:
    frame = pd.read_csv(out / "rejected.csv", dtype=str, keep_default_na=False)
    return {r: set(frame.loc[frame["reason"] == r, "id_usaha"]) for r in set(frame["reason"])}


@pytest.mark.slow
class TestPipelineOnAgencyFiles:
    """``klastergeo run``/``validate`` on each shape: the same sentra as from the truth
    file's coordinates, and the read/kept/rejected/skipped counts that were planted."""

    def test_the_truth_file_gives_every_planted_sentra(self, runs, world) -> None:
        result, out = runs("truth")
        _ok(result)
        scores, unmatched = score_recovery(world.truth, pd.read_csv(out / "sentra.csv", dtype=str))
        assert scores["found"].all(), scores
        assert (scores["members_found"] == scores["members_planted"]).all(), scores
        assert (scores["members_reported"] == scores["members_planted"]).all(), scores
        assert unmatched == 0
        records = _records(out)
        assert (records["read"], records["kept"], records["rejected"]) == (world.n_firms,) * 2 + (
            0,
        )

    def test_dinas_workbook_with_names_only_gives_the_same_sentra(self, runs) -> None:
        """The issue's "Done when": on a generated Dinas workbook with names only, the
        planted sentra are the same as from the same firms with coordinates."""
        truth, truth_out = runs("truth")
        result, out = runs("dinas-merged")
        _ok(truth)
        _ok(result)
        assert _sentra(out) == _sentra(truth_out)

    def test_the_truth_file_of_a_regency_outside_java(self, runs, bali) -> None:
        result, out = runs("truth", regency=agency.GIANYAR.code)
        _ok(result)
        scores, unmatched = score_recovery(
            bali[0].truth, pd.read_csv(out / "sentra.csv", dtype=str)
        )
        assert scores["found"].all() and unmatched == 0, scores
        assert (scores["members_reported"] == scores["members_planted"]).all(), scores

    @pytest.mark.parametrize(
        "shape",
        [
            "dinas-flat",
            "siinas",
        ],
    )
    def test_a_regency_outside_java_without_coordinates(self, runs, bali, shape) -> None:
        """Gianyar (Bali): a flat Dinas workbook with ``Nilai Investasi (Rp. 000)`` and a
        SIINas export give the sentra its coordinates give."""
        truth, truth_out = runs("truth", regency=agency.GIANYAR.code)
        result, out = runs(shape, regency=agency.GIANYAR.code)
        _ok(truth)
        _ok(result)
        assert _sentra(out) == _sentra(truth_out)
        firms = _firms(out)
        world = bali[0].firms.set_index("id")
        assert set(firms.index) == set(world.index)
        assert (firms["area_code"] == world.loc[firms.index, "area_code"]).all()

    def test_dinas_csv_typed_names_are_placed_in_their_villages(self, runs, files, world) -> None:
        """The Dinas list saved as CSV: every village name as typed (kind words, capitals,
        one-edit typos, names repeated in another kecamatan) is placed in its village.
        (``klastergeo sentra``: the same steps as ``run`` up to the sentra, no map.)"""
        result, out = runs("dinas-csv", command="sentra")
        _ok(result)
        written = files["dinas-csv"]
        records = _records(out)
        assert (records["read"], records["kept"], records["rejected"]) == (world.n_firms,) * 2 + (
            0,
        )
        firms = _firms(out)
        truth = world.firms.set_index("id")
        assert set(firms.index) == set(truth.index)
        assert (firms["placement"] == "name").all()
        assert firms["lat"].isna().all()
        placed = firms["area_code"] == truth.loc[firms.index, "area_code"]
        assert placed.all(), firms.loc[~placed, ["Desa/Kelurahan", "Kecamatan", "area_code"]]
        typos = written.features["typos"]["id"]
        assert len(typos) > 50 and placed[typos].all()
        repeated = {c for codes in agency.duplicated_names(world.villages) for c in codes}
        assert truth["area_code"].isin(repeated).sum() > 100

    def test_dinas_csv_gives_the_same_sentra(self, runs, world) -> None:
        truth, truth_out = runs("truth")
        result, out = runs("dinas-csv", command="sentra")
        _ok(truth)
        _ok(result)
        firms = _firms(out)
        assert (firms["kbli"] == world.firms.set_index("id").loc[firms.index, "kbli"]).all()
        assert _sentra(out) == _sentra(truth_out)

    def test_dinas_workbook_counts_and_placement(self, runs, files, world) -> None:
        result, out = runs("dinas-merged")
        _ok(result)
        expected = files["dinas-merged"].expected
        records = _records(out)
        assert (records["kept"], records["rejected"]) == (expected.kept, 0)
        firms = _firms(out)
        truth = world.firms.set_index("id")
        assert set(firms.index) == set(truth.index)
        assert (firms["placement"] == "name").all()
        assert firms["lat"].isna().all() and firms["lon"].isna().all()  # never a centroid
        assert (firms["area_code"] == truth.loc[firms.index, "area_code"]).all()
        # KBLI read from number cells gets its zero back: 3226 -> 03226
        assert (firms["kbli"] == truth.loc[firms.index, "kbli"]).all()
        assert (firms["sector"] == truth.loc[firms.index, "kbli"].str[:2]).all()

    def test_dinas_workbook_totals_and_footnotes_are_skipped(self, runs, files) -> None:
        result, out = runs("dinas-merged")
        _ok(result)
        written = files["dinas-merged"]
        listed = _skipped(out)
        assert set(written.expected.skipped) <= listed
        assert not listed & {str(r) for r in written.features["firm_rows"].values()}
        records = _records(out)
        assert records["skipped"] == len(listed)

    @pytest.mark.parametrize("shape", ["dinas-merged", "dinas-flat"])
    def test_dinas_amounts_in_one_unit_and_blanks_missing(self, runs, files, world, shape) -> None:
        """``Nilai (Rp)`` and ``Nilai Investasi (Rp. 000)`` end in one stated unit: the
        ratio of every firm's amount to its amount in rupiah is one number; a blank cell is
        missing, never 0."""
        result, out = runs(shape)
        _ok(result)
        firms = _firms(out)
        truth = world.firms.set_index("id").loc[firms.index]
        ratios = []
        for role, column in (
            ("output", "nilai_produksi"),
            ("investment", "nilai_investasi"),
            ("workers", "tenaga_kerja"),
        ):
            unknown = truth[column].isna()
            assert firms.loc[unknown, role].isna().all(), role
            ratio = firms.loc[~unknown, role].astype(float) / truth.loc[~unknown, column]
            assert np.allclose(ratio, ratio.iloc[0], rtol=1e-9), role
            ratios.append(ratio.iloc[0])
        assert ratios[0] == pytest.approx(ratios[1]) and ratios[2] == 1.0

    def test_one_sheet_per_kecamatan_gives_the_same_sentra(self, runs, files, world) -> None:
        truth, truth_out = runs("truth")
        result, out = runs("dinas-sheets", "--sheet", "all")
        _ok(truth)
        _ok(result)
        assert _sentra(out) == _sentra(truth_out)
        records = _records(out)
        assert (records["kept"], records["rejected"]) == (world.n_firms, 0)
        firms = _firms(out)
        truth_firms = world.firms.set_index("id")
        assert (firms["area_code"] == truth_firms.loc[firms.index, "area_code"]).all()
        assert set(files["dinas-sheets"].expected.skipped) <= _skipped(out)

    def test_siinas_export_with_area_codes_only(self, runs, world) -> None:
        truth, truth_out = runs("truth")
        result, out = runs("siinas")
        _ok(truth)
        _ok(result)
        assert _sentra(out) == _sentra(truth_out)
        records = _records(out)
        assert (records["read"], records["kept"], records["rejected"]) == (world.n_firms,) * 2 + (
            0,
        )
        firms = _firms(out)
        assert (firms["placement"] == "code").all()
        assert (
            firms["area_code"] == world.firms.set_index("id").loc[firms.index, "area_code"]
        ).all()
        assert firms["lat"].isna().all()

    @pytest.mark.parametrize("layout", ["columns", "combined"])
    def test_coordinates_as_written_are_read(self, runs, files, world, layout) -> None:
        written = files[f"coordinates-{layout}-only"]
        truth, truth_out = runs("truth")
        result, out = runs(f"coordinates-{layout}-only")
        _ok(truth)
        _ok(result)
        records = _records(out)
        assert (records["read"], records["kept"], records["rejected"]) == (world.n_firms,) * 2 + (
            0,
        )
        firms = _firms(out)
        back = written.features["points"].set_index("id").loc[firms.index]
        assert np.allclose(firms["lat"], back["lat"], atol=1e-7)
        assert np.allclose(firms["lon"], back["lon"], atol=1e-7)
        assert (firms["placement"] == "point").all()
        assert _sentra(out) == _sentra(truth_out)

    def test_projected_coordinates_with_crs(self, runs, files, world) -> None:
        written = files["coordinates-projected-only"]
        truth, truth_out = runs("truth")
        result, out = runs("coordinates-projected-only", "--crs", written.features["crs"])
        _ok(truth)
        _ok(result)
        firms = _firms(out)
        back = written.features["points"].set_index("id").loc[firms.index]
        assert np.allclose(firms["lat"], back["lat"], atol=1e-6)
        assert np.allclose(firms["lon"], back["lon"], atol=1e-6)
        assert _records(out)["kept"] == world.n_firms
        assert (firms["placement"] == "point").all()
        assert _sentra(out) == _sentra(truth_out)

    @pytest.mark.parametrize(
        "layout",
        [
            "decimal",
            "combined",
        ],
    )
    def test_points_far_outside_their_stated_village_are_listed(
        self, runs, files, world, layout
    ) -> None:
        written = files[f"coordinates-{layout}"]
        result, out = runs(f"coordinates-{layout}", command="validate")
        _ok(result)
        repaired = pd.read_csv(out / "repaired.csv", dtype=str)
        listed = set(repaired.loc[repaired["reason"] == "area_mismatch", "record_id"])
        assert listed == set(written.expected.repaired["area_mismatch"])
        records = _records(out)
        assert records["repaired_by_reason"]["area_mismatch"] == 12
        assert (records["kept"], records["rejected"]) == (world.n_firms, 0)

    def test_the_stated_area_places_a_mismatched_firm_by_default(self, runs, files, world) -> None:
        written = files["coordinates-decimal"]
        result, out = runs("coordinates-decimal")
        _ok(result)
        firms = _firms(out)
        truth = world.firms.set_index("id").loc[firms.index]
        assert (firms["area_code"] == truth["area_code"]).all()
        placement = pd.Series(written.expected.placement).loc[firms.index]
        assert (firms["placement"] == placement).all()

    @pytest.mark.parametrize("shape", ["counts-wide", "counts-long"])
    def test_counts_per_village_give_the_same_sentra(self, runs, files, shape) -> None:
        truth, truth_out = runs("truth")
        result, out = runs(shape, "--counts", str(files[shape].path), records=False)
        _ok(truth)
        _ok(result)
        assert _sentra(out) == _sentra(truth_out)
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert summary["not_computed"], "firm-level steps must be listed as not computed"

    def test_ambiguous_and_unknown_names_are_rejected_with_their_reason(
        self, runs, files, world
    ) -> None:
        written = files["names"]
        result, out = runs("names", command="validate")
        _ok(result)
        rejected = _rejected(out)
        assert rejected == {k: set(v) for k, v in written.expected.rejected.items()}
        records = _records(out)
        assert (records["kept"], records["rejected"]) == (written.expected.kept, 11)
        assert records["by_reason"]["ambiguous_area"] == 6
        assert records["by_reason"]["unknown_area"] == 5
        detail = pd.read_csv(out / "rejected.csv", dtype=str).set_index("id_usaha")["detail"]
        names = world.villages["kecamatan"]
        for fid, candidates in written.features["ambiguous"].items():
            # the candidates are named: by code or by their kecamatan
            assert all(c in detail[fid] or names[c] in detail[fid] for c in candidates), detail[fid]
        for fid, name in written.features["unknown"].items():
            assert name in detail[fid]

    def test_names_resolved_by_their_kecamatan_are_placed_in_it(self, runs, files, world) -> None:
        truth, truth_out = runs("truth")
        result, out = runs("names")
        _ok(truth)
        _ok(result)
        written = files["names"]
        firms = _firms(out)
        assert set(firms.index) == set(written.expected.placement)
        assert (firms["placement"] == "name").all()
        truth_firms = world.firms.set_index("id")
        assert (firms["area_code"] == truth_firms.loc[firms.index, "area_code"]).all()
        assert _sentra(out) == _sentra(truth_out)
