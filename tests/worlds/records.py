"""Random registries: the rows an agency's export repeats and leaves blank."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray


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


def dirty_registry(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Records near Klaten (the four 0.1-degree squares of ``tests/test_batches.py``)
    with every kind of dirt a check looks at: coordinates in many notations (decimal
    point or comma, a spreadsheet's dot groups, degrees-minutes-seconds with Indonesian
    hemispheres, words, exponents), blank or zero, out of range, swapped or at sea; KBLI
    codes that lost their leading zero, are unknown or not codes; numbers that are
    negative, too large or not numbers; missing and reused ids, and rows repeated
    exactly (also far apart)."""
    lat = rng.uniform(-7.8, -7.7, n)
    lon = rng.uniform(110.5, 110.9, n)
    digits = rng.integers(1, 8, n)
    lat_text = np.array([f"{v:.{d}f}" for v, d in zip(lat, digits, strict=True)], dtype=object)
    lon_text = np.array([f"{v:.{d}f}" for v, d in zip(lon, digits, strict=True)], dtype=object)
    comma = rng.random(n) < 0.5
    lat_text[comma] = [t.replace(".", ",") for t in lat_text[comma]]
    lon_text[comma] = [t.replace(".", ",") for t in lon_text[comma]]
    kind = rng.random(n)

    def some(lo: float, hi: float) -> NDArray[np.intp]:
        return np.flatnonzero((kind >= lo) & (kind < hi))

    for i in some(0.00, 0.02):  # degrees, minutes, seconds
        _, m = divmod(abs(lat[i]) * 60, 60)
        word = rng.choice(["S", "LS", "Lintang Selatan", "selatan"])
        lat_text[i] = f"{int(abs(lat[i]))}°{int(m)}'{(m % 1) * 60:.1f}\" {word}"
        lon_text[i] = f"{int(lon[i])} {int((lon[i] % 1) * 60)} {((lon[i] * 60) % 1) * 60:.2f} BT"
    for i in some(0.02, 0.03):  # a spreadsheet took the decimal point for thousands
        lat_text[i] = f"-7.{rng.integers(700, 800)}.{rng.integers(0, 1000):03d}"
        lon_text[i] = f"110.{rng.integers(500, 900)}.{rng.integers(0, 1000):03d}"
    swapped = some(0.03, 0.04)
    lat_text[swapped], lon_text[swapped] = lon_text[swapped], lat_text[swapped].copy()
    junk = ["", "NA", "-", "0", "abc", "1e2", "-7,7,7", "7.75 S", "  -7.75 ", "+110.6", "99,5"]
    for column in (lat_text, lon_text):
        rows = some(0.04, 0.08)
        pick = rng.random(len(rows)) < 0.5
        column[rows[pick]] = rng.choice(junk, int(pick.sum()))
    sea = some(0.08, 0.09)
    lat_text[sea] = "-6,5"
    codes = rng.choice(["13134", "31001", "16221", "47111", "1111", "99999", "abc", ""], n,
                       p=[0.3, 0.25, 0.2, 0.15, 0.03, 0.03, 0.02, 0.02])  # fmt: skip
    workers = rng.integers(1, 50, n).astype(object).astype(str)
    workers[rng.random(n) < 0.02] = rng.choice(["-3", "x", "", "2000000", "1.250", "Rp 5"], 1)[0]
    omzet = np.array([f"{v:,.2f}" for v in rng.gamma(2.0, 50.0, n)], dtype=object)
    omzet[rng.random(n) < 0.02] = "tidak tahu"
    ids = np.array([f"U{i:06d}" for i in range(n)], dtype=object)
    ids[rng.random(n) < 0.02] = ""
    reused = rng.random(n) < 0.02
    ids[reused] = ids[rng.integers(0, n, int(reused.sum()))]
    frame = pd.DataFrame(
        {
            "id": ids,
            "nama": rng.choice(["UD Jaya", "CV Makmur", "Toko Abadi", ""], n),
            "lintang": lat_text,
            "bujur": lon_text,
            "kbli": codes,
            "tenaga_kerja": workers,
            "omzet": omzet,
            "catatan": rng.choice(["", "baru", "pindah"], n),
        }
    )
    repeat = np.flatnonzero(rng.random(n) < 0.03)
    donors = rng.integers(0, n, len(repeat))
    frame.iloc[repeat] = frame.iloc[donors].to_numpy()
    return frame
