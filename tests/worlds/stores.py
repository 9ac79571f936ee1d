"""Kept firms as a validation leaves them: Parquet parts of given sizes, or one frame in
memory (a registry read whole), for tests of what reads them back (``FirmStore``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from klastergeo.io.registry import batches
from klastergeo.io.registry.columns import Columns
from klastergeo.io.registry.firms import FirmStore


def synthetic_firms(n: int, *, seed: int = 0, n_areas: int = 30) -> pd.DataFrame:
    """``n`` firms indexed by record id: an area code of ``n_areas``, a sector, workers
    (a fifth not reported), output with decimals, and a longitude."""
    rng = np.random.default_rng(seed)
    workers = rng.integers(1, 50, n).astype(float)
    workers[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame(
        {
            "area_code": rng.choice([f"33.{i:03d}" for i in range(n_areas)], n),
            "sector": rng.choice(["10", "13", "31"], n),
            "workers": workers,
            "output": np.round(rng.lognormal(3, 1, n), 2),
            "lon": rng.uniform(110, 111, n),
        },
        index=pd.Index([f"r{i}" for i in range(n)], name="record_id"),
    )


def store_of(firms: pd.DataFrame, sizes: list[int] | None, folder: Path) -> FirmStore:
    """``firms`` as a store: in memory (``sizes`` None) or as Parquet parts of ``sizes``
    firms each (written into ``folder``)."""
    empty = pd.DataFrame()
    common = {"rejected": empty, "repaired": empty, "n_read": len(firms), "n_kept": len(firms)}
    order = (*firms.columns, "geometry")
    if sizes is None:
        validation = batches.BatchValidation(
            parts=(), columns=Columns(), memory=firms, order=order, **common
        )
        return FirmStore(validation)
    parts, start = [], 0
    for i, size in enumerate(sizes):
        path = folder / f"part-{i}.parquet"
        firms.iloc[start : start + size].to_parquet(path)
        parts.append(path)
        start += size
    if start != len(firms):
        raise ValueError(f"the parts' sizes add up to {start}, not {len(firms)} firms")
    validation = batches.BatchValidation(
        parts=tuple(parts), columns=Columns(), order=order, **common
    )
    return FirmStore(validation)


def parts_store(
    folder: Path, *, n: int, sizes: list[int], seed: int = 0
) -> tuple[FirmStore, pd.DataFrame]:
    """A store of :func:`synthetic_firms` in parts of ``sizes``, and the firms."""
    firms = synthetic_firms(n, seed=seed)
    return store_of(firms, sizes, folder), firms
