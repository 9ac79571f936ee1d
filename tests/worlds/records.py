"""Random registries: the rows an agency's export repeats and leaves blank."""

from __future__ import annotations

import numpy as np
import pandas as pd


def random_registry(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Random records with many repeated rows and ids, some without coordinates."""
    ids = rng.integers(0, n // 2, n).astype(str)
    lat = np.round(rng.uniform(-7.8, -7.7, n), 2).astype(str)
    lon = np.round(rng.uniform(110.5, 110.9, n), 2).astype(str)
    lat[rng.random(n) < 0.05] = ""
    frame = pd.DataFrame(
        {
            "id": ids,
            "lat": lat,
            "lon": lon,
            "kbli": rng.choice(["13134", "31001", "16221", "99999"], n),
            "workers": rng.integers(1, 4, n).astype(str),
        }
    )
    repeat = rng.random(n) < 0.2
    donors = rng.integers(0, n, n)
    frame.loc[repeat] = frame.iloc[donors[repeat]].to_numpy()
    return frame
