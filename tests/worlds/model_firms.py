"""Registries for the firm-level models read part by part: a planted logit of the outcome
on the workers and a score written with a decimal comma that only the later rows show
(so a part alone would read ``1.234`` as 1.234, the whole column as 1234), and
synthetic stores of millions of firms for memory measurements."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from klastergeo.analysis.draws import position_uniform
from klastergeo.io.registry import batches
from klastergeo.io.registry.firms import FirmStore

#: The planted logit: intercept, log(workers), score / 1000, owner B, owner C.
TRUTH = (-2.0, 0.8, 0.5, 0.6, -0.4)
#: Rows after which the score shows its decimal comma.
COMMA_FROM = 0.6


def grid_areas(side: int = 6) -> gpd.GeoDataFrame:
    """``side`` x ``side`` villages of 0.05 degrees near Klaten (codes ``33.10.<i>``)."""
    boxes, codes = [], []
    for i in range(side * side):
        r, c = divmod(i, side)
        boxes.append(
            shapely.box(110.5 + 0.05 * c, -7.8 + 0.05 * r, 110.55 + 0.05 * c, -7.75 + 0.05 * r)
        )
        codes.append(f"33.10.{i + 1:03d}")
    index = pd.Index(codes, name="area_code")
    return gpd.GeoDataFrame({"name": codes}, geometry=boxes, index=index, crs=4326)


def model_registry(path: Path, n: int, *, seed: int = 3, side: int = 6) -> pd.DataFrame:
    """A registry CSV of ``n`` firms at ``path`` (every record valid): workers, a text
    score (``skor``: thousands with a point, e.g. ``1.234``, in the first rows; a
    decimal comma, ``7,5``, in the last ones) and an owner type (``milik``)."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(110.5005, 110.5 + 0.05 * side - 0.0005, n).round(5)
    lat = rng.uniform(-7.7995, -7.8 + 0.05 * side - 0.0005, n).round(5)
    score = rng.integers(1, 9, n) * 1000 + rng.integers(0, 1000, n)
    text = np.array([f"{s // 1000}.{s % 1000:03d}" for s in score], dtype=object)
    late = np.arange(n) >= int(COMMA_FROM * n)
    text[late] = [f"{s},5" for s in score[late]]
    frame = pd.DataFrame(
        {
            "id": [f"F{i:07d}" for i in range(n)],
            "lat": lat,
            "lon": lon,
            "kbli": rng.choice(["10750", "13134", "31001", "16221"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "workers": rng.integers(1, 40, n),
            "skor": text,
            "milik": rng.choice(["A", "B", "C"], n),
        }
    )
    frame.loc[rng.random(n) < 0.02, "workers"] = np.nan  # a few firms without workers
    frame.to_csv(path, index=False)
    return frame


def validate(
    path: Path, workdir: Path, batch_size: int, areas: gpd.GeoDataFrame
) -> batches.BatchValidation:
    """The registry validated in batches of ``batch_size`` (read whole when it is the
    larger)."""
    return batches.validate_in_batches(path, workdir=workdir, batch_size=batch_size, areas=areas)


def firm_frame(store: FirmStore, *, seed: int = 11) -> pd.DataFrame:
    """The run's columns of every firm by position (``area_code``, ``sector``,
    ``sentra_id``, ``in_sentra``), the outcome drawn from :data:`TRUTH` by each firm's
    position (so the same whatever the parts)."""
    columns = store.columns(
        ["area_code", "sector", "workers", "skor", "milik"], categorical=["area_code", "sector"]
    )
    workers = columns["workers"].to_numpy(dtype=float)
    late = np.arange(len(columns)) >= int(COMMA_FROM * len(columns))
    score = pd.Series(columns["skor"]).astype(str).str.replace(",5", "", regex=False)
    score = pd.to_numeric(score.str.replace(".", "", regex=False), errors="coerce").to_numpy()
    score = np.where(late, score + 0.5, score)
    owner = columns["milik"].astype(str).to_numpy()
    a, b, c, d, e = TRUTH
    eta = a + b * np.log(np.where(workers > 0, workers, 1)) + c * score / 1000
    eta += d * (owner == "B") + e * (owner == "C")
    drawn = position_uniform(np.arange(len(columns)), seed=seed) < 1 / (1 + np.exp(-eta))
    inside = drawn.astype(np.int8)
    ids = np.where(inside == 1, columns["sector"].astype(str).to_numpy(dtype=object), None)
    return pd.DataFrame(
        {
            "area_code": columns["area_code"],
            "sector": columns["sector"],
            "sentra_id": pd.Categorical(ids),
            "in_sentra": inside,
        }
    )


def synthetic_store(
    folder: Path, template: batches.BatchValidation, n: int, *, part_size: int, seed: int = 1
) -> tuple[FirmStore, pd.DataFrame]:
    """A store of ``n`` synthetic firms in Parquet parts of ``part_size`` and the run's
    columns of every firm (:func:`write_synthetic`, :func:`open_synthetic`)."""
    write_synthetic(folder, template, n, part_size=part_size, seed=seed)
    return open_synthetic(folder, template)


def write_synthetic(
    folder: Path, template: batches.BatchValidation, n: int, *, part_size: int, seed: int = 1
) -> None:
    """Write ``n`` synthetic firms into ``folder``: Parquet parts of ``part_size`` with
    the columns of ``template``'s parts (numbers drawn per part; the score with a
    thousands point) and ``firms.parquet``, the run's columns of every firm
    (``area_code`` of 36 villages, ``sector`` of four, ``in_sentra`` from the workers
    and the score)."""
    folder.mkdir(parents=True, exist_ok=True)
    schema = pq.read_schema(template.parts[0])
    area_codes, sector_codes, inside = [], [], []
    sectors = np.array(["10750", "13134", "31001", "16221"], dtype=object)
    areas = np.array([f"33.10.{i:03d}" for i in range(1, 37)], dtype=object)
    for k, start in enumerate(range(0, n, part_size)):
        m = min(part_size, n - start)
        rng = np.random.default_rng([seed, k])
        a, s = rng.integers(0, len(areas), m), rng.integers(0, len(sectors), m)
        workers = rng.integers(1, 40, m).astype(float)
        score = rng.integers(1000, 9000, m)
        eta = -2 + 0.8 * np.log(workers) + 0.5 * score / 1000
        inside.append((rng.random(m) < 1 / (1 + np.exp(-eta))).astype(np.int8))
        area_codes.append(a)
        sector_codes.append(s)
        values = {
            "row": np.arange(start, start + m, dtype=np.int64) + 2,
            "lat": rng.uniform(-7.8, -7.5, m),
            "lon": rng.uniform(110.5, 110.8, m),
            "kbli": sectors[s],
            "sector": sectors[s],
            "workers": workers,
            "output": np.full(m, np.nan),
            "investment": np.full(m, np.nan),
            "name": [None] * m,
            "area_code": areas[a],
            "placement": np.full(m, "point", dtype=object),
            "skor": np.char.add(
                np.char.add((score // 1000).astype(str), "."),
                np.char.zfill((score % 1000).astype(str), 3),
            ).astype(object),
            "milik": rng.choice(np.array(["A", "B", "C"], dtype=object), m),
            "record_id": np.char.add("S", np.arange(start, start + m).astype(str)).astype(object),
        }
        table = pa.table(
            {f.name: pa.array(values[f.name], type=f.type) for f in schema}, schema=schema
        )
        pq.write_table(table, folder / f"part-{k:06d}.parquet")
    firms = pd.DataFrame(
        {
            "area_code": pd.Categorical.from_codes(np.concatenate(area_codes), categories=areas),
            "sector": pd.Categorical.from_codes(np.concatenate(sector_codes), categories=sectors),
            "in_sentra": np.concatenate(inside),
        }
    )
    firms["sentra_id"] = pd.Categorical(
        np.where(firms["in_sentra"] == 1, firms["sector"].astype(str), None)
    )
    firms.to_parquet(folder / "firms.parquet")


def open_synthetic(
    folder: Path, template: batches.BatchValidation
) -> tuple[FirmStore, pd.DataFrame]:
    """The store of :func:`write_synthetic`'s firms and their run's columns."""
    paths = tuple(sorted(folder.glob("part-*.parquet")))
    n = sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    validation = dataclasses.replace(
        template, parts=paths, n_kept=n, n_read=n, memory=None, n_batches=len(paths)
    )
    return FirmStore(validation), pd.read_parquet(folder / "firms.parquet")
