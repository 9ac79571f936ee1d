"""A seeded synthetic national registry over Indonesia's 83,402 villages, written in chunks.

Used by ``bench_national.py`` and runnable alone::

    python benchmarks/national_registry.py --rows 2670000 --out /tmp/national

writes ``registry.parquet`` and ``registry.csv`` (``;``-separated, decimal commas, as
spreadsheets of an Indonesian locale export them) with the columns ``id_usaha``,
``nama_usaha``, ``lintang``, ``bujur``, ``kbli``, ``tenaga_kerja``, ``nilai_produksi`` and
``investasi``. Memory is set by the chunk size (one million records), not by ``--rows``.

What the data look like:
- every village has firms; small villages hold more per km2 (the count of a village grows
  with the fourth root of its area, so density falls as villages grow);
- 24 KBLI classes of 20 divisions (trade, food, garments, furniture, crafts, ...), and in
  one village of 50 a specialty: an extra cluster of one class (a sentra);
- points are drawn inside their village polygon; 0.5 % are then moved 0.5-3 km (some
  land in another village, some at sea);
- dirty rows as registries have them: 0.1 % swapped latitude/longitude, 0.05 % exact
  duplicates of an earlier row (also of an earlier chunk), 0.05 % reused ids, 0.05 %
  missing coordinates, 0.02 % invalid KBLI codes.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely

CHUNK = 1_000_000
CLASSES = np.array(
    [
        "47111", "47211", "56101", "10710", "10792", "13134", "14111", "15201",
        "16221", "16294", "31001", "32114", "23931", "25920", "22220", "11040",
        "20232", "33121", "45201", "96012", "01111", "03111", "08101", "18111",
    ]
)  # fmt: skip
SHARES = np.array(
    [22, 14, 12, 6, 5, 4, 5, 2, 3, 2, 3, 1, 2, 2, 1, 1, 1, 2, 4, 3, 2, 1, 1, 1], dtype=float
)
SHARES /= SHARES.sum()
WORDS = np.array(["Jaya", "Makmur", "Sentosa", "Abadi", "Mandiri", "Sejahtera", "Baru", "Indah"])


def load_villages(source: Path) -> gpd.GeoDataFrame:
    """The 83,402 villages, with a weight (count share) and a specialty class."""
    villages = gpd.read_parquet(source / "desa.parquet", columns=["kode", "geometry"])
    bounds = villages.geometry.bounds.to_numpy()
    mid_lat = np.radians((bounds[:, 1] + bounds[:, 3]) / 2)
    km2 = shapely.area(villages.geometry.to_numpy()) * (111.32**2) * np.cos(mid_lat)  # degrees²
    villages["weight"] = np.maximum(km2, 0.01) ** 0.25
    villages["weight"] /= villages["weight"].sum()
    return villages


def _points_in(
    geoms: np.ndarray, bounds: np.ndarray, owner: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A uniform point inside each owner's polygon (rejection sampling in its bounds;
    after 30 rounds, its representative point)."""
    x = np.full(len(owner), np.nan)
    y = np.full(len(owner), np.nan)
    todo = np.arange(len(owner))
    for _ in range(30):
        b = bounds[owner[todo]]
        cx = rng.uniform(b[:, 0], b[:, 2])
        cy = rng.uniform(b[:, 1], b[:, 3])
        inside = shapely.contains_xy(geoms[owner[todo]], cx, cy)
        x[todo[inside]], y[todo[inside]] = cx[inside], cy[inside]
        todo = todo[~inside]
        if not len(todo):
            break
    if len(todo):
        reps = shapely.point_on_surface(geoms[owner[todo]])
        x[todo], y[todo] = shapely.get_x(reps), shapely.get_y(reps)
    return x, y


def _decimal_comma(values: np.ndarray, decimals: int) -> pa.Array:
    text = pc.cast(pa.array(np.round(values, decimals)), pa.string())
    return pc.replace_substring(text, ".", ",")


def generate(rows: int, out: Path, *, source: Path, seed: int = 2016) -> dict[str, float]:
    """Write ``rows`` records as Parquet and CSV into ``out``; returns timings."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    villages = load_villages(source)
    geoms = villages.geometry.to_numpy()
    shapely.prepare(geoms)
    bounds = villages.geometry.bounds.to_numpy()
    weights = villages["weight"].to_numpy()
    specialty = np.where(
        rng.random(len(villages)) < 0.02, rng.choice(CLASSES[4:18], len(villages)), ""
    )
    reservoir: pa.Table | None = None
    schema = pa.schema(
        [(n, pa.string()) for n in ("id_usaha", "nama_usaha", "lintang", "bujur", "kbli")]
        + [
            ("tenaga_kerja", pa.int64()),
            ("nilai_produksi", pa.float64()),
            ("investasi", pa.float64()),
        ]
    )
    csv_schema = pa.schema([(n, pa.string()) for n in schema.names])
    parquet_path, csv_path = out / "registry.parquet", out / "registry.csv"
    with (
        pq.ParquetWriter(parquet_path, schema, compression="zstd") as parquet,
        pacsv.CSVWriter(
            csv_path,
            csv_schema,
            write_options=pacsv.WriteOptions(delimiter=";", quoting_style="needed"),
        ) as csv,
    ):
        for first in range(0, rows, CHUNK):
            n = min(CHUNK, rows - first)
            owner = rng.choice(len(villages), n, p=weights)
            kbli = rng.choice(CLASSES, n, p=SHARES)
            special = (specialty[owner] != "") & (rng.random(n) < 0.5)
            kbli = np.where(special, specialty[owner], kbli)
            x, y = _points_in(geoms, bounds, owner, rng)
            moved = rng.random(n) < 0.005
            step = rng.uniform(0.005, 0.03, moved.sum())
            angle = rng.uniform(0, 2 * np.pi, moved.sum())
            x[moved] += step * np.cos(angle)
            y[moved] += step * np.sin(angle)
            lat, lon = y.copy(), x.copy()
            swapped = rng.random(n) < 0.001
            lat[swapped], lon[swapped] = x[swapped], y[swapped]
            lat_text = _decimal_comma(lat, 6).to_numpy(zero_copy_only=False).astype(object)
            lon_text = _decimal_comma(lon, 6).to_numpy(zero_copy_only=False).astype(object)
            blank = rng.random(n) < 0.0005
            lat_text[blank] = ""
            kbli = np.where(rng.random(n) < 0.0002, "99999", kbli)
            ids = np.char.add(
                "UMK-", np.char.zfill((np.arange(first, first + n) + 1).astype(str), 9)
            )
            reused = rng.random(n) < 0.0005
            ids[reused] = ids[rng.integers(0, n, reused.sum())]
            names = np.char.add(np.char.add("UD ", WORDS[rng.integers(0, len(WORDS), n)]), " ")
            names = np.char.add(names, WORDS[rng.integers(0, len(WORDS), n)])
            workers = rng.integers(1, 20, n)
            output = np.round(rng.lognormal(4, 1, n), 1)
            invest = np.round(rng.lognormal(3, 1, n), 1)
            table = pa.table(
                {
                    "id_usaha": ids,
                    "nama_usaha": names,
                    "lintang": pa.array(lat_text, pa.string()),
                    "bujur": pa.array(lon_text, pa.string()),
                    "kbli": kbli,
                    "tenaga_kerja": workers,
                    "nilai_produksi": output,
                    "investasi": invest,
                },
                schema=schema,
            )
            # exact duplicates of earlier rows, some of an earlier chunk
            repeat = np.flatnonzero(rng.random(n) < 0.0005)
            if len(repeat):
                donors = table.take(pa.array(rng.integers(0, n, len(repeat))))
                if reservoir is not None and len(repeat) > 1:
                    half = len(repeat) // 2
                    donors = pa.concat_tables(
                        [donors.slice(0, len(repeat) - half), reservoir.slice(0, half)]
                    )
                keep = np.setdiff1d(np.arange(n), repeat)
                table = pa.concat_tables([table.take(pa.array(keep)), donors])
            reservoir = table.slice(0, 1000)
            parquet.write_table(table, row_group_size=1 << 17)
            as_text = pa.table(
                {
                    name: (
                        _decimal_comma(table[name].to_numpy(), 1)
                        if name in ("nilai_produksi", "investasi")
                        else pc.cast(table[name], pa.string())
                    )
                    for name in schema.names
                },
                schema=csv_schema,
            )
            csv.write_table(as_text)
            print(f"  {first + n:,} records", flush=True)
    return {"seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_670_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument(
        "--boundaries",
        type=Path,
        default=Path(os.environ.get("KLASTERGEO_DATA_DIR", "../shared/data/boundaries")),
    )
    args = parser.parse_args()
    info = generate(args.rows, args.out, source=args.boundaries, seed=args.seed)
    print(f"wrote {args.rows:,} records to {args.out} in {info['seconds']:.1f} s")


if __name__ == "__main__":
    main()
