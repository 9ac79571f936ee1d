"""The firm-level models part by part: the same sample, fits, predictions and mean
probabilities whatever the parts' size; predictions equal to statsmodels' on every firm;
below ``model.max_firms`` the models of the whole-column reading (as before); memory set
by the part and the sample, not by the number of firms.

References: statsmodels (fits and ``predict`` on the whole design), the whole-column
parse of :func:`klastergeo.io.registry.numbers.numeric_column`, pandas' group means, and
:func:`~klastergeo.app.pipeline.probabilities.stratified_sample` on every firm at once."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import statsmodels.api as sm
from libpysal.graph import Graph

from klastergeo.analysis import spatial_regression
from klastergeo.app.config import RunConfig
from klastergeo.app.pipeline import firm_output, model_parts, probabilities
from klastergeo.app.pipeline.firm_columns import FirmColumns, LazyFirms
from klastergeo.errors import ConfigError, ValidationError
from klastergeo.io.registry.firms import FirmStore
from klastergeo.io.registry.numbers import numeric_column
from tests.worlds import model_firms

N = 6_000
PREDICTORS = {
    "model.predictors": "workers,skor,milik",
    "model.categorical": "milik",
    "model.log": "workers",
    "model.kinds": "lpm,logit,probit",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One registry of 6,000 firms validated in parts of 997, of 2,500 and read whole."""
    folder = tmp_path_factory.mktemp("models")
    areas = model_firms.grid_areas()
    model_firms.model_registry(folder / "r.csv", N)
    stores = {
        size: model_firms.validate(folder / "r.csv", folder / f"w{size}", size, areas)
        for size in (997, 2_500, 1_000_000)
    }
    return {"areas": areas, "stores": stores, "graph": Graph.build_contiguity(areas, rook=False)}


def _config(max_firms: int) -> RunConfig:
    return RunConfig().with_overrides(
        {**PREDICTORS, "model.max_firms": max_firms, "analysis.permutations": 99}
    )


def _fit(world: dict, size: int, max_firms: int) -> tuple[probabilities.Models, FirmStore]:
    outcome = world["stores"][size]
    store = FirmStore(outcome)
    report = outcome.report(whole=False)
    config = _config(max_firms)
    chosen = probabilities.predictors(config, report, store)
    firms = model_firms.firm_frame(store)
    return probabilities.fit_models(config, firms, chosen, world["graph"], report, store), store


def _predicted(models: probabilities.Models, store: FirmStore) -> pd.DataFrame:
    """Every firm's probabilities as the firms output computes them, part by part."""
    parts = [pd.DataFrame(models.predict(start, table)) for start, table in store.tables()]
    return pd.concat(parts, ignore_index=True)


def _whole_data(store: FirmStore, report) -> pd.DataFrame:
    """The predictors as the whole-column reading gave them (before the parts): every
    firm's column, its number format decided on the whole column."""
    columns = store.columns(["workers", "skor", "milik"])
    return pd.DataFrame(
        {
            "workers": numeric_column(columns["workers"], name="workers"),
            "skor": numeric_column(columns["skor"], name="skor", fallback=report.decimal),
            "milik": columns["milik"].astype("string"),
        }
    )


def test_the_predictors_are_checked_not_held(world) -> None:
    """Validation keeps names, columns and number formats, no value: the score's format
    is the whole column's (a decimal comma, shown only by the last rows), so ``1.234``
    in the first part is 1234 for every batch size, as the whole column reads it."""
    for size, outcome in world["stores"].items():
        report = outcome.report(whole=False)
        store = FirmStore(outcome)
        chosen = probabilities.predictors(_config(1_000), report, store)
        assert chosen.names == ("workers", "skor", "milik")
        assert chosen.categorical == {"milik"}
        assert (chosen.formats["skor"].decimal, chosen.formats["skor"].decided_by) == (
            ",",
            "values",
        )
        first = next(store.tables(["workers", "skor", "milik"]))[1]
        raw = model_parts.table_frame(first, first.column_names, chosen.dtypes, start=0)
        whole = _whole_data(store, report)
        pd.testing.assert_frame_equal(
            chosen.frame(raw), whole.iloc[: len(raw)], check_dtype=False, check_names=False
        )
        if size < N:  # the first part alone would read its scores with a decimal point
            alone = numeric_column(pd.Series(raw["skor"]), name="skor", fallback=report.decimal)
            assert not np.allclose(alone, whole["skor"].iloc[: len(raw)])


def test_a_predictor_that_is_no_number_fails_at_validation(world) -> None:
    """A text column named as a number fails at validation, with what the whole
    column's reading says (every bad value counted, over every part)."""
    outcome = world["stores"][997]
    store, report = FirmStore(outcome), outcome.report(whole=False)
    with pytest.raises(ValidationError) as whole:
        numeric_column(store.columns(["milik"])["milik"], name="milik", fallback=report.decimal)
    config = RunConfig().with_overrides({"model.predictors": "milik"})
    with pytest.raises(ConfigError) as err:
        probabilities.predictors(config, report, store)
    assert f"'milik' cannot be used: {whole.value}; if it holds categories" in str(err.value)
    assert f"{N} value(s)" in str(err.value)


def test_below_max_firms_the_models_are_those_of_the_whole_columns(world) -> None:
    """Up to ``model.max_firms`` every firm is used: coefficients, probabilities and mean
    probabilities as the whole-column reading and pandas' group means give them."""
    models, store = _fit(world, 997, 10_000)
    assert models.sample is None
    data = _whole_data(store, world["stores"][997].report(whole=False))
    firms = model_firms.firm_frame(store)
    data["in_sentra"] = firms["in_sentra"]
    predicted = _predicted(models, store)
    for kind, result in models.fitted.items():
        reference = probabilities.fit_kind(
            _config(10_000), data, ["workers", "skor", "milik"], kind
        )
        pd.testing.assert_frame_equal(result.coefficients, reference.coefficients)
        np.testing.assert_array_equal(predicted[f"p_{kind}"], reference.probability.to_numpy())
        frame = firms.assign(p=reference.probability.to_numpy())
        cells = frame.groupby(["area_code", "sector"], observed=True)["p"].mean()
        np.testing.assert_array_equal(models.means.cells[f"p_{kind}"].to_numpy(), cells.to_numpy())
        per_sentra = frame.groupby("sentra_id", observed=True)["p"].mean()
        np.testing.assert_array_equal(
            models.means.sentra[f"p_{kind}"].to_numpy(), per_sentra.to_numpy()
        )
        per_area = reference.residuals.groupby(firms["area_code"].to_numpy()).mean()
        moran = spatial_regression.residual_moran(
            per_area.reindex(pd.Index(world["graph"].unique_ids)).fillna(0.0),
            world["graph"],
            permutations=99,
            seed=0,
        )
        assert {k: result.fit[f"residual_moran_{k}"] for k in moran} == moran


def test_the_models_do_not_depend_on_the_parts(world) -> None:
    """Above ``model.max_firms``: the same sample, coefficients, residuals' Moran's I,
    mean probabilities and every firm's probability (to the bit) for parts of 997, of
    2,500 and one part."""
    runs = {size: _fit(world, size, 1_500) for size in world["stores"]}
    base, base_store = runs[1_000_000]
    assert base.sample is not None
    expected = _predicted(base, base_store)
    for size, (models, store) in runs.items():
        assert list(models.fitted) == ["lpm", "logit", "probit"]
        pd.testing.assert_frame_equal(models.sample, base.sample)
        for kind, result in models.fitted.items():
            other = base.fitted[kind]
            assert result.probability.index.equals(other.probability.index), size
            pd.testing.assert_frame_equal(result.coefficients, other.coefficients, check_exact=True)
            assert result.fit == other.fit
        for name in ("cells", "sentra", "areas"):
            pd.testing.assert_frame_equal(
                getattr(models.means, name), getattr(base.means, name), check_exact=True
            )
        pd.testing.assert_frame_equal(_predicted(models, store), expected, check_exact=True)


def _run_columns(
    store: FirmStore, *, left_out: int = 0, points: bool = False
) -> tuple[FirmColumns, pd.DataFrame]:
    """A run's columns of the firms (:class:`FirmColumns`: seeded sentra of about a
    third of the cells, or of the firms with ``points``) and the frame of the same
    columns the firms' frame gives (``area_code``, ``sector``, ``sentra_id``,
    ``in_sentra``); the first ``left_out`` areas are not in the run's list of areas
    (their firms in no sentra of cells)."""
    read = store.columns(["area_code", "sector"])
    area, sector = read["area_code"].astype(object), read["sector"].astype(object)
    areas = pd.Index(sorted(area.unique())[left_out:], dtype=object)
    sectors = pd.Index(sorted(sector.unique()), dtype=object)
    rng = np.random.default_rng(8)
    ids = pd.Index([f"S{i}" for i in range(5)], dtype=object)
    cells = len(areas) * len(sectors)
    row_sentra = np.where(rng.random(cells) < 0.3, rng.integers(0, 5, cells), -1)
    a, s = areas.get_indexer(area), sectors.get_indexer(sector)
    cell = np.where((a >= 0) & (s >= 0), a * len(sectors) + s, -1)
    codes = np.where(cell >= 0, row_sentra[np.maximum(cell, 0)], -1).astype(np.int32)
    if points:  # point-based sentra: a code of every firm
        codes = np.where(rng.random(len(area)) < 0.3, rng.integers(0, 5, len(area)), -1)
        codes = codes.astype(np.int32)
    run = FirmColumns(
        store=store,
        areas=areas,
        sectors=sectors,
        sentra_ids=ids,
        row_sentra=None if points else row_sentra.astype(np.int32),
        point_sentra=codes if points else None,
    )
    frame = pd.DataFrame(
        {
            "area_code": area,
            "sector": sector,
            "sentra_id": pd.Categorical.from_codes(codes, categories=ids),
            "in_sentra": (codes >= 0).astype(np.int8),
        }
    )
    return run, frame


@pytest.mark.parametrize(("left_out", "points"), [(0, False), (2, False), (0, True)])
def test_the_run_columns_give_the_models_of_the_firms_frame(
    world, left_out: int, points: bool
) -> None:
    """Above ``model.max_firms``, each part's area, sector and sentra made from the
    part itself (:class:`FirmColumns`: looked up per part in the run's lists, areas
    outside them included) give the sample, fits and mean probabilities of the firms'
    frame, to the bit, for parts of 997, of 2,500 and one part."""
    config = _config(1_500)
    for size, outcome in world["stores"].items():
        store = FirmStore(outcome)
        report = outcome.report(whole=False)
        chosen = probabilities.predictors(config, report, store)
        run, frame = _run_columns(store, left_out=left_out, points=points)
        expected = probabilities.fit_models(config, frame, chosen, world["graph"], report, store)
        lazy = LazyFirms(lambda: pytest.fail("the firms' frame was made"), len(frame))
        got = probabilities.fit_models(config, lazy, chosen, world["graph"], report, store, run=run)
        assert got.sample is not None and len(got.means.sentra) == 5
        pd.testing.assert_frame_equal(got.sample, expected.sample, check_exact=True)
        assert list(got.fitted) == ["lpm", "logit", "probit"]
        for kind, result in got.fitted.items():
            other = expected.fitted[kind]
            assert result.probability.index.equals(other.probability.index), size
            pd.testing.assert_frame_equal(result.coefficients, other.coefficients, check_exact=True)
            assert result.fit == other.fit
        for name in ("cells", "sentra", "areas"):
            pd.testing.assert_frame_equal(
                getattr(got.means, name), getattr(expected.means, name), check_exact=True
            )
        assert len(got.means.areas) == 36  # the areas outside the list too


def test_the_sample_has_exactly_the_wanted_firms_of_each_stratum(world) -> None:
    """The part-by-part sample is :func:`stratified_sample` of every firm at once: the
    firms with the smallest position keys, ``n_sample`` of each stratum exactly."""
    models, store = _fit(world, 997, 1_500)
    firms = model_firms.firm_frame(store)
    whole = probabilities.stratified_sample(firms["sector"], firms["in_sentra"], size=1_500, seed=0)
    positions = models.fitted["logit"].probability.index.to_numpy()
    np.testing.assert_array_equal(positions, whole.positions)
    pd.testing.assert_frame_equal(models.sample, whole.strata)
    drawn = firms.iloc[positions].groupby(["sector", "in_sentra"], observed=True).size()
    for row in models.sample.itertuples():
        assert drawn.loc[(row.sector, int(row.outcome))] == row.n_sample
    sizes = models.sample["n_firms"].to_numpy()
    np.testing.assert_array_equal(
        models.sample["n_sample"], np.minimum(sizes, np.maximum(1, np.round(sizes * 1_500 / N)))
    )
    # brute force: in each stratum, the sampled firms are those of the smallest keys
    keys = model_parts.sample_keys(np.arange(N), seed=model_parts.sample_seed(0))
    stratum = firms["sector"].astype(str) + "/" + firms["in_sentra"].astype(str)
    for _, members in pd.Series(keys).groupby(stratum.to_numpy()):
        chosen = np.isin(members.index, positions)
        assert members[chosen].max() < members[~chosen].min()


def test_a_bound_that_keeps_too_few_candidates_is_widened(world, monkeypatch) -> None:
    """When a stratum's key bound keeps fewer firms than wanted (improbable: about six
    standard deviations), the pass is made again with that stratum whole: the same
    sample."""
    expected = _fit(world, 997, 1_500)[0].fitted["logit"].probability.index
    passes = []

    def narrow(wanted, sizes):
        passes.append(1)
        return np.full(len(sizes), 1e-3)

    monkeypatch.setattr(model_parts, "key_bounds", narrow)
    models = _fit(world, 997, 1_500)[0]
    assert passes == [1] and models.fitted["logit"].probability.index.equals(expected)


def test_predictions_per_part_are_statsmodels_predict_on_every_firm(world) -> None:
    """Each part's probabilities (the firms output's) are statsmodels' ``predict`` of
    the model refitted on the sample, on the design of every firm at once."""
    models, store = _fit(world, 997, 1_500)
    data = _whole_data(store, world["stores"][997].report(whole=False))
    firms = model_firms.firm_frame(store)
    positions = models.fitted["logit"].probability.index.to_numpy()
    levels = models.fitted["logit"].design.levels["milik"]  # the reference first
    design = pd.DataFrame({"log(workers)": np.log(data["workers"]), "skor": data["skor"]})
    for level in levels[1:]:
        design[f"milik[{level}]"] = (data["milik"] == level).astype(float)
    exog = sm.add_constant(design, has_constant="add")
    used = exog.iloc[positions].dropna()
    y = firms["in_sentra"].iloc[used.index].astype(float)
    predicted = _predicted(models, store)
    for kind, model in (("logit", sm.Logit), ("probit", sm.Probit), ("lpm", sm.OLS)):
        fitted = model(y, used).fit(**({} if kind == "lpm" else {"disp": 0}))
        np.testing.assert_allclose(
            models.fitted[kind].coefficients["estimate"], fitted.params, rtol=1e-6
        )
        complete = exog.notna().all(axis=1).to_numpy()
        reference = np.asarray(fitted.predict(exog[complete]), dtype=float)
        if kind == "lpm":
            reference = np.clip(reference, 0, 1)
        ours = predicted[f"p_{kind}"].to_numpy()
        assert np.isnan(ours[~complete]).all()
        np.testing.assert_allclose(ours[complete], reference, rtol=1e-6, atol=1e-9)


def test_the_firms_output_holds_the_predictions_of_its_parts(world, tmp_path: Path) -> None:
    """``write_firms`` adds each part's ``p_*`` (computed as it writes): the same files
    for any batch size, the values those of :meth:`Models.predict`."""
    written = {}
    for size in (997, 1_000_000):
        models, store = _fit(world, size, 1_500)
        added = model_firms.firm_frame(store)[["sentra_id", "in_sentra"]]
        out = tmp_path / str(size)
        out.mkdir()
        firm_output.write_firms(out, store, added, by_province=False, predict=models.predict)
        back = firm_output.read_firms(out)
        np.testing.assert_array_equal(back["p_logit"], _predicted(models, store)["p_logit"])
        assert list(back.columns[-4:]) == ["p_lpm", "p_logit", "p_probit", "geometry"]
        written[size] = (out / "firms" / "part-0.parquet").read_bytes()
    assert written[997] == written[1_000_000]


def _peak(folder: Path, template, n: int) -> int:
    """Peak bytes traced while the models step and the firms output's predictions run
    over ``n`` synthetic firms (parts of 50,000; 5,000 sampled)."""
    store, firms = model_firms.synthetic_store(folder, template, n, part_size=50_000)
    report = template.report(whole=False)
    config = RunConfig().with_overrides(
        {**PREDICTORS, "model.max_firms": 5_000, "model.kinds": "logit"}
    )
    tracemalloc.start()
    try:
        chosen = probabilities.predictors(config, report, store)
        models = probabilities.fit_models(config, firms, chosen, None, report, store)
        for start, table in store.tables():
            assert len(models.predict(start, table)["p_logit"]) == table.num_rows
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_is_set_by_the_part_and_the_sample_not_the_firms(world, tmp_path: Path) -> None:
    """The models step and the predictions of 400,000 and 800,000 firms peak at about the
    same memory (the whole-column reading held 8 bytes per firm and predictor, and per
    firm and model: 9.6 MB more for the second)."""
    template = world["stores"][997]
    assert "skor" in pq.read_schema(template.parts[0]).names
    small = _peak(tmp_path / "small", template, 400_000)
    large = _peak(tmp_path / "large", template, 800_000)
    held_before = 400_000 * 8 * (3 + 1)  # three predictors and a model's probability
    assert large - small < 0.15 * held_before, (small, large)


@pytest.mark.parametrize("missing", [False, True])
def test_labels_number_as_keys_do_whatever_the_parts(missing: bool) -> None:
    """:class:`~.model_parts.Labels` (Arrow parts looked up in a fixed list, labels
    outside it and missing ones included) numbers labels as :class:`Keys` numbers them
    (brute force: the first appearance of each label over every part), and gives each
    label's row in the list."""
    import pyarrow as pa

    rng = np.random.default_rng(4)
    fixed = pd.Index([f"A{i:02d}" for i in range(30)], dtype=object)
    pool = np.array([*fixed[::-1], "X1", "X2", None], dtype=object)  # two outside, missing
    values = pool[rng.integers(0, len(pool), 5_000)]
    labels, keys = model_parts.Labels(fixed, missing=missing), model_parts.Keys(missing=missing)
    got, rows, expected = [], [], []
    for lo, hi in [(0, 7), (7, 1_200), (1_200, 1_201), (1_201, 5_000)]:
        part = values[lo:hi]
        kind = pa.large_string()  # as the store's parts hold text
        chunks = pa.chunked_array([pa.array(part[:3], kind), pa.array(part[3:], kind)])
        numbers, found = labels.lookup(chunks)
        got.append(numbers)
        rows.append(found)
        expected.append(keys.codes(pd.Series(part, dtype=object).astype("str")))
    np.testing.assert_array_equal(np.concatenate(got), np.concatenate(expected))
    pd.testing.assert_index_equal(labels.values, keys.values)
    first = list(dict.fromkeys(v for v in values if missing or v is not None))
    assert [None if pd.isna(v) else v for v in labels.values] == first
    lookup = {label: i for i, label in enumerate(fixed)}
    np.testing.assert_array_equal(np.concatenate(rows), [lookup.get(v, -1) for v in values])


def test_cells_number_as_keys_do_past_their_table() -> None:
    """:class:`~.model_parts.Cells` numbers (area, sector) pairs in order of first
    appearance as :class:`Keys` of ``area * room + sector`` do, in its table and once
    the table would be too large (a limit of 40 entries, passed mid-way)."""
    rng = np.random.default_rng(6)
    area, sector = rng.integers(-1, 12, 3_000), rng.integers(-1, 5, 3_000)
    area[:1_000] %= 4  # few areas first: the table grows, then passes its limit
    for limit in (1 << 25, 40):
        cells, keys = model_parts.Cells(room=1 << 24, limit=limit), model_parts.Keys(dtype=np.int64)
        for lo, hi in [(0, 500), (500, 1_000), (1_000, 3_000)]:
            a, s = area[lo:hi], sector[lo:hi]
            valid = (a >= 0) & (s >= 0)
            expected = np.full(len(a), -1)
            expected[valid] = keys.codes(a[valid] * (1 << 24) + s[valid])
            np.testing.assert_array_equal(cells.codes(a, s), expected)
        pd.testing.assert_index_equal(cells.values, keys.values)
        assert (cells.keys is None) == (limit > 1_000)
