"""Spatial autocorrelation: global Moran's I, local Moran (LISA) and Getis-Ord Gi*.

This first engine wraps esda (PySAL); the interface is the toolkit's own, so that a faster
engine can replace it without changing callers. Conventions:

- ``y`` is a Series indexed by area code, or a DataFrame (areas x sectors) whose columns
  are analysed one by one; it is aligned to the graph's ids.
- ``p_norm`` is the two-sided p-value of the analytical z-score; ``p_sim`` is esda's
  conditional-permutation pseudo p-value (folded: the share of permutations at least as
  extreme in the observed direction, as GeoDa reports it).
- ``inference`` says which p-value decides significance (quadrants, bins):
  ``"permutation"`` uses ``p_sim`` (GeoDa's convention, the default for LISA) and
  ``"analytical"`` uses ``p_norm`` (ArcGIS's convention, the default for Gi*). With
  ``fdr=True`` the Benjamini-Hochberg adjusted values of the same are used.
- Why Gi* defaults to the analytical z: esda's permutation is *conditional* (the area's own
  value stays fixed and only its neighbours are shuffled). Gi* includes the area itself, and
  Getis and Ord derived its moments under total randomisation; under conditional
  permutation a single village with 60 firms among ordinary neighbours is not significant,
  although it is exactly the concentration a sentra is. Ties in sparse counts also make the
  folded pseudo p-value report its minimum for areas at the bottom of the distribution.
- LISA quadrants follow GeoDa: 1 HH, 2 LL, 3 LH, 4 HL, 0 not significant.
- Gi* bins follow ArcGIS: +-3/2/1 for 99/95/90 % confidence hot (+) or cold (-) spots.
- Gi* is the classical statistic: binary weights with the area itself included.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from libpysal.graph import Graph
from numpy.typing import NDArray
from scipy import stats

from klastergeo._errors import ConfigError

__all__ = [
    "GlobalMoran",
    "by_sector",
    "fdr_adjust",
    "global_moran",
    "hot_spot_bins",
    "local_gstar",
    "local_moran",
]

logger = logging.getLogger(__name__)

#: (confidence, alpha) pairs of the ArcGIS-style bins, strongest first.
LEVELS: tuple[tuple[int, float], ...] = ((3, 0.01), (2, 0.05), (1, 0.10))

ProgressFn = Callable[[str, int, int], None]


@contextmanager
def _quiet_esda() -> Iterator[None]:
    # esda 2.9 warns that its default alternative will change but does not let the local
    # statistics pass one; it also divides by zero for areas whose permutations have no
    # variance (isolates). Both are handled here: the alternative is documented above and
    # undefined values become NaN.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"esda\..*")
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"esda\..*")
        with np.errstate(divide="ignore", invalid="ignore"):
            yield


def _align(y: pd.Series, graph: Graph) -> NDArray[np.float64]:
    ids = pd.Index(graph.unique_ids)
    if not isinstance(y, pd.Series):
        raise ConfigError("y must be a pandas Series indexed by area code")
    missing = ids.difference(y.index)
    if len(missing):
        raise ConfigError(
            f"y has no value for {len(missing)} area(s) of the graph, e.g. {list(missing[:3])}"
        )
    values = y.reindex(ids).to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise ConfigError("y has missing or infinite values; fill or drop those areas first")
    return values


def fdr_adjust(p: NDArray[np.floating] | pd.Series) -> NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN stays NaN.

    An area is significant at level ``alpha`` after FDR control when its adjusted value
    is at most ``alpha``.

    >>> fdr_adjust(np.array([0.01, 0.04, 0.03, 0.5])).round(3).tolist()
    [0.04, 0.053, 0.053, 0.5]
    """
    values = np.asarray(p, dtype=float)
    out = np.full(values.shape, np.nan)
    ok = np.isfinite(values)
    if ok.any():
        out[ok] = stats.false_discovery_control(values[ok], method="bh")
    return out


def hot_spot_bins(z: NDArray[np.floating], p: NDArray[np.floating]) -> NDArray[np.int64]:
    """ArcGIS-style confidence bins: +-3 (99 %), +-2 (95 %), +-1 (90 %), 0 otherwise.

    >>> hot_spot_bins(np.array([3.0, -2.0, 1.0]), np.array([0.005, 0.04, 0.2])).tolist()
    [3, -2, 0]
    """
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    level = np.zeros(len(z), dtype=np.int64)
    for value, alpha in reversed(LEVELS):
        level = np.where(np.isfinite(p) & (p <= alpha), value, level)
    return (np.sign(np.nan_to_num(z)).astype(np.int64) * level).astype(np.int64)


Inference = Literal["analytical", "permutation"]


def _significance_p(
    p_norm: NDArray[np.float64],
    p_sim: NDArray[np.float64],
    permutations: int,
    fdr: bool,
    inference: Inference = "permutation",
) -> NDArray[np.float64]:
    if inference not in ("analytical", "permutation"):
        raise ConfigError(
            f"inference={inference!r} is not accepted; use 'analytical' or 'permutation'"
        )
    p = p_sim if inference == "permutation" and permutations > 0 else p_norm
    return fdr_adjust(p) if fdr else p


def _undefined(y: NDArray[np.float64], graph: Graph) -> NDArray[np.bool_]:
    """Areas where local statistics are undefined: isolates, or a constant variable."""
    isolated = pd.Index(graph.unique_ids).isin(graph.isolates)
    if np.ptp(y) == 0:
        return np.ones(len(y), dtype=bool)
    return np.asarray(isolated, dtype=bool)


def local_moran(
    y: pd.Series,
    graph: Graph,
    *,
    permutations: int = 999,
    seed: int | None = None,
    alpha: float = 0.05,
    fdr: bool = False,
    inference: Inference = "permutation",
) -> pd.DataFrame:
    """Local Moran's I (LISA) with GeoDa's cluster codes.

    Parameters
    ----------
    y
        Values indexed by area code (aligned to ``graph.unique_ids``).
    graph
        Spatial weights; row-standardised internally.
    permutations
        Conditional permutations for ``p_sim`` (0: analytical inference only).
    seed
        Seed of the permutations.
    alpha
        Significance level for ``quadrant``.
    fdr
        Control the false discovery rate (Benjamini-Hochberg) across areas.
    inference
        ``"permutation"`` (``p_sim`` decides, as in GeoDa) or ``"analytical"`` (``p_norm``).

    Returns
    -------
    DataFrame indexed by area code: ``statistic`` (I_i), ``z``, ``p_norm``, ``p_sim``,
    ``quadrant`` (1 HH, 2 LL, 3 LH, 4 HL, 0 not significant or undefined).

    Examples
    --------
    >>> local_moran(counts["31"], graph, seed=0).quadrant.value_counts()  # doctest: +SKIP
    """
    import esda

    values = _align(y, graph)
    ids = pd.Index(graph.unique_ids, name=y.index.name or "area_code")
    undefined = _undefined(values, graph)
    if undefined.all():
        return _empty_local(ids, "quadrant")
    with _quiet_esda():
        lisa = esda.Moran_Local(
            values,
            graph.transform("r"),
            permutations=max(permutations, 0),
            seed=seed,
            geoda_quads=True,
            keep_simulations=False,
            n_jobs=1,
        )
    statistic = np.asarray(lisa.Is, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):  # isolates: zero variance -> NaN
        z = (statistic - np.asarray(lisa.EI, dtype=float)) / np.sqrt(
            np.asarray(lisa.VI, dtype=float)
        )
    p_norm = 2.0 * stats.norm.sf(np.abs(z))
    p_sim = (
        np.asarray(lisa.p_sim, dtype=float) if permutations > 0 else np.full(len(values), np.nan)
    )
    statistic[undefined] = z[undefined] = p_norm[undefined] = p_sim[undefined] = np.nan
    p = _significance_p(p_norm, p_sim, permutations, fdr, inference)
    quadrant = np.where(np.isfinite(p) & (p <= alpha), np.asarray(lisa.q, dtype=np.int64), 0)
    return pd.DataFrame(
        {
            "statistic": statistic,
            "z": z,
            "p_norm": p_norm,
            "p_sim": p_sim,
            "quadrant": quadrant.astype(np.int64),
        },
        index=ids,
    )


def local_gstar(
    y: pd.Series,
    graph: Graph,
    *,
    permutations: int = 999,
    seed: int | None = None,
    fdr: bool = False,
    star: bool = True,
    inference: Inference = "analytical",
) -> pd.DataFrame:
    """Getis-Ord local G (Gi*, or Gi with ``star=False``) with ArcGIS-style bins.

    Parameters
    ----------
    y
        Non-negative values indexed by area code (e.g. firms of one sector per area).
    graph
        Spatial weights; binary weights are used, the area itself included for Gi*.
    permutations, seed, fdr
        As in :func:`local_moran`.
    star
        Include the area itself (Gi*, the classical hot-spot statistic).
    inference
        ``"analytical"`` (``p_norm`` decides, as in ArcGIS; see the module docstring for
        why) or ``"permutation"`` (esda's conditional ``p_sim``).

    Returns
    -------
    DataFrame indexed by area code: ``statistic`` (G_i), ``z``, ``p_norm``, ``p_sim``,
    ``bin`` (-3..3).
    """
    import esda

    values = _align(y, graph)
    ids = pd.Index(graph.unique_ids, name=y.index.name or "area_code")
    undefined = _undefined(values, graph)
    if undefined.all():
        return _empty_local(ids, "bin")
    with _quiet_esda():
        gstar = esda.G_Local(
            values,
            graph.transform("b"),
            transform="B",
            star=star,
            permutations=max(permutations, 0),
            seed=seed,
            keep_simulations=False,
            n_jobs=1,
        )
    statistic = np.asarray(gstar.Gs, dtype=float)
    z = np.asarray(gstar.Zs, dtype=float)
    p_norm = 2.0 * stats.norm.sf(np.abs(z))
    p_sim = (
        np.asarray(gstar.p_sim, dtype=float) if permutations > 0 else np.full(len(values), np.nan)
    )
    statistic[undefined] = z[undefined] = p_norm[undefined] = p_sim[undefined] = np.nan
    p = _significance_p(p_norm, p_sim, permutations, fdr, inference)
    return pd.DataFrame(
        {
            "statistic": statistic,
            "z": z,
            "p_norm": p_norm,
            "p_sim": p_sim,
            "bin": hot_spot_bins(z, p),
        },
        index=ids,
    )


def _empty_local(ids: pd.Index, code: str) -> pd.DataFrame:
    nan = np.full(len(ids), np.nan)
    return pd.DataFrame(
        {
            "statistic": nan,
            "z": nan,
            "p_norm": nan,
            "p_sim": nan,
            code: np.zeros(len(ids), dtype=np.int64),
        },
        index=ids,
    )


@dataclass(frozen=True)
class GlobalMoran:
    """Global Moran's I with analytical (randomisation) and permutation inference."""

    I: float  # noqa: E741 - the statistic's name
    expected: float
    z: float
    p_norm: float
    p_sim: float
    permutations: int

    def as_dict(self) -> dict[str, float]:
        return {
            "moran_i": self.I,
            "expected": self.expected,
            "z": self.z,
            "p_norm": self.p_norm,
            "p_sim": self.p_sim,
        }


def global_moran(
    y: pd.Series, graph: Graph, *, permutations: int = 999, seed: int | None = None
) -> GlobalMoran:
    """Global Moran's I on row-standardised weights.

    ``z`` and ``p_norm`` use the randomisation assumption (two-sided); ``p_sim`` is the
    permutation pseudo p-value. A constant ``y`` gives NaN.

    >>> global_moran(counts["31"], graph, seed=0).I  # doctest: +SKIP
    0.21
    """
    import esda

    values = _align(y, graph)
    if np.ptp(values) == 0:
        nan = float("nan")
        return GlobalMoran(nan, -1.0 / (len(values) - 1), nan, nan, nan, permutations)
    rng_state = np.random.get_state()  # noqa: NPY002 - esda.Moran has no seed
    try:
        if seed is not None:
            np.random.seed(seed)  # noqa: NPY002 - esda.Moran draws from the global RNG
        with _quiet_esda():
            moran = esda.Moran(values, graph.transform("r"), permutations=max(permutations, 0))
    finally:
        np.random.set_state(rng_state)  # noqa: NPY002
    return GlobalMoran(
        float(moran.I),
        float(moran.EI),
        float(moran.z_rand),
        float(moran.p_rand),
        float(moran.p_sim) if permutations > 0 else np.nan,
        permutations,
    )


def by_sector(
    matrix: pd.DataFrame,
    graph: Graph,
    *,
    permutations: int = 999,
    seed: int | None = 0,
    alpha: float = 0.05,
    fdr: bool = False,
    gi_inference: Inference = "analytical",
    lisa_inference: Inference = "permutation",
    progress: ProgressFn | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Local Moran, Gi* and global Moran for every column (sector) of an areas x sectors matrix.

    All sectors use the same seed, hence the same permutation draws.

    Returns
    -------
    local
        MultiIndex (``area_code``, ``sector``) with ``gi_z``, ``gi_p``, ``gi_p_sim``,
        ``gi_bin``, ``lisa_i``, ``lisa_p``, ``lisa_p_sim``, ``lisa_quadrant``; ``gi_p`` and
        ``lisa_p`` are the p-values the bins and quadrants were decided on (after FDR when
        on), ``*_p_sim`` the permutation pseudo p-values.
    global_
        Indexed by sector: ``moran_i``, ``expected``, ``z``, ``p_norm``, ``p_sim``.
    """
    parts = []
    rows = {}
    sectors = list(matrix.columns)
    for i, sector in enumerate(sectors):
        if progress:
            progress(f"sector {sector}", i, len(sectors))
        y = matrix[sector]
        gi = local_gstar(
            y, graph, permutations=permutations, seed=seed, fdr=fdr, inference=gi_inference
        )
        lisa = local_moran(
            y,
            graph,
            permutations=permutations,
            seed=seed,
            alpha=alpha,
            fdr=fdr,
            inference=lisa_inference,
        )
        gi_p = _significance_p(
            gi["p_norm"].to_numpy(), gi["p_sim"].to_numpy(), permutations, fdr, gi_inference
        )
        lisa_p = _significance_p(
            lisa["p_norm"].to_numpy(), lisa["p_sim"].to_numpy(), permutations, fdr, lisa_inference
        )
        part = pd.DataFrame(
            {
                "gi_z": gi["z"].to_numpy(),
                "gi_p": gi_p,
                "gi_p_sim": gi["p_sim"].to_numpy(),
                "gi_bin": gi["bin"].to_numpy(),
                "lisa_i": lisa["statistic"].to_numpy(),
                "lisa_p": lisa_p,
                "lisa_p_sim": lisa["p_sim"].to_numpy(),
                "lisa_quadrant": lisa["quadrant"].to_numpy(),
            },
            index=pd.MultiIndex.from_arrays(
                [gi.index.to_numpy(dtype=object), np.full(len(gi), sector, dtype=object)],
                names=["area_code", "sector"],
            ),
        )
        parts.append(part)
        rows[sector] = global_moran(y, graph, permutations=permutations, seed=seed).as_dict()
        logger.info(
            "sector %s: %d hot-spot areas (95 %%+), Moran's I %.3f",
            sector,
            int((part["gi_bin"] >= 2).sum()),
            rows[sector]["moran_i"],
        )
    if progress:
        progress("done", len(sectors), len(sectors))
    columns = [
        "gi_z",
        "gi_p",
        "gi_p_sim",
        "gi_bin",
        "lisa_i",
        "lisa_p",
        "lisa_p_sim",
        "lisa_quadrant",
    ]
    local = pd.concat(parts) if parts else pd.DataFrame(columns=columns)
    global_ = pd.DataFrame.from_dict(rows, orient="index")
    global_.index.name = "sector"
    return local, global_
