"""The firm-level models part by part: the predictors read one part of the firms at a
time, the stratified sample drawn by a rule of each firm's position, and the sums behind
each model's mean probabilities and residuals.

Nothing here holds a number per firm beyond a part and the sample: the predictors of a
national registry (8 bytes per firm and predictor) are read from the firms' store when a
step needs them (the models step, the firms output), and every result is the same
whatever the parts' size:

- a text column's number format is decided once, from the evidence of every part
  (:func:`scan`), as :func:`~klastergeo.io.registry.numbers.numeric_column` decides it
  for the whole column;
- a firm enters the sample by its position and the seed alone
  (:func:`~klastergeo.analysis.draws.position_uniform`): in each stratum the firms with
  the smallest keys (:func:`sample_keys`, :func:`smallest`);
- a group's sum adds its firms' values one by one in file order (:class:`GroupSums`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import ArrayLike, NDArray

from klastergeo.analysis.draws import position_uniform
from klastergeo.errors import preview
from klastergeo.io.registry.firms import FirmStore
from klastergeo.io.registry.numbers import (
    NumberFormat,
    merge_formats,
    number_format,
    parse_numbers,
)

__all__ = [
    "GroupSums",
    "Keys",
    "PartColumns",
    "Predictors",
    "Scan",
    "key_bounds",
    "not_numeric",
    "sample_keys",
    "scan",
    "smallest",
    "strata_wanted",
]

#: Added to the analysis seed for the models' sample, so that its keys are not those
#: of another draw of the run (thinning) with the same seed.
SAMPLE_SALT = 0x6D6F64656C73


def _numeric_type(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
    )


def column_values(column: pa.ChunkedArray, dtype: Any = None) -> Any:
    """An Arrow column as :meth:`FirmStore.columns` reads it: numbers and booleans as a
    NumPy array (nulls of integers as NaN), cast to ``dtype`` (the whole column's type,
    so that a part without nulls reads as the others), text as a pandas array.

    Parameters
    ----------
    column
        A column of a part of the firms.
    dtype
        The NumPy type of its numbers over every part; None to keep the part's.
    """
    if _numeric_type(column.type):
        values = column.to_numpy()
        return values if dtype is None else values.astype(dtype, copy=False)
    return column.to_pandas().array


class PartColumns:
    """Some columns of the kept firms, one part at a time, by position.

    Parameters
    ----------
    records
        The kept firms in memory (the validation report's ``records``): read when
        ``store`` is None, else only their column names.
    store
        The firms' store; None to read ``records``.
    """

    def __init__(self, records: pd.DataFrame, store: FirmStore | None = None) -> None:
        self.records = records
        self.store = store

    @property
    def names(self) -> list[str]:
        """The firms' columns."""
        return list(self.store.names if self.store is not None else self.records.columns)

    @property
    def bounds(self) -> list[tuple[int, int]]:
        """Each part's first position and the position after its last."""
        if self.store is None:
            return [(0, len(self.records))]
        ends = np.cumsum(self.store.sizes)
        return [(int(e - s), int(e)) for s, e in zip(self.store.sizes, ends, strict=True)]

    def __len__(self) -> int:
        return self.bounds[-1][1] if self.bounds else 0

    def read(
        self, columns: Sequence[str], *, dtypes: dict[str, Any] | None = None
    ) -> Iterator[tuple[int, pd.DataFrame]]:
        """Every part's ``columns`` (those the firms have): ``(first position, frame)``,
        the frame indexed by position.

        Parameters
        ----------
        columns
            The wanted columns.
        dtypes
            The NumPy type of numeric columns over every part (:class:`Scan`).
        """
        wanted = [c for c in dict.fromkeys(columns) if c in self.names]
        dtypes = dtypes or {}
        if self.store is None:
            frame = self.records[wanted]
            yield 0, frame.set_axis(pd.RangeIndex(len(frame)), axis=0)
            return
        if not wanted:
            for lo, hi in self.bounds:
                yield lo, pd.DataFrame(index=pd.RangeIndex(lo, hi))
            return
        for (lo, _), (_, table) in zip(self.bounds, self.store.tables(wanted), strict=True):
            yield lo, table_frame(table, wanted, dtypes, start=lo)
            del table


def table_frame(
    table: pa.Table, columns: Sequence[str], dtypes: dict[str, Any], *, start: int
) -> pd.DataFrame:
    """Columns of a part of the firms (Arrow) as pandas, indexed by position.

    Parameters
    ----------
    table
        The part.
    columns
        Its columns wanted.
    dtypes
        The NumPy type of numeric columns over every part.
    start
        The position of the part's first firm.
    """
    data = {name: column_values(table.column(name), dtypes.get(name)) for name in columns}
    return pd.DataFrame(data, index=pd.RangeIndex(start, start + table.num_rows))


@dataclass(frozen=True)
class Predictors:
    """The models' predictors, checked at validation but not read: their names, the
    firms' column of each, which are categorical, and the number format of the others
    (decided on every firm), so that any part of the firms gives the same values as
    the whole column would.

    Attributes
    ----------
    names
        The predictors by the user's name, in the models' order.
    columns
        The firms' column of each name (mapped roles: ``tenaga_kerja`` -> ``workers``).
    categorical
        The categorical predictors (read as text).
    formats
        The number format of each numeric predictor.
    dtypes
        The NumPy type of the numeric firms' columns over every part.
    """

    names: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    categorical: frozenset[str] = frozenset()
    formats: dict[str, NumberFormat] = field(default_factory=dict)
    dtypes: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def frame(self, raw: pd.DataFrame) -> pd.DataFrame:
        """The predictors of some firms by name (numbers as floats, NaN where empty;
        categories as text), from their columns as :class:`PartColumns` reads them.

        Parameters
        ----------
        raw
            The firms' columns of the predictors.
        """
        out: dict[str, pd.Series] = {}
        for name in self.names:
            column = raw[self.columns[name]]
            if name in self.categorical:
                out[name] = column.astype("string")
            else:
                numbers = parse_numbers(column, fmt=self.formats[name])[0]
                out[name] = pd.Series(numbers, index=raw.index)
        return pd.DataFrame(out, index=raw.index)


@dataclass
class Scan:
    """What one look at some columns of every firm found: the number format of each
    numeric one, the NumPy type of each column over every part, the columns holding a
    value, and per numeric column its values that are not numbers in its format
    (count and the distinct values, in order of appearance)."""

    formats: dict[str, NumberFormat] = field(default_factory=dict)
    dtypes: dict[str, Any] = field(default_factory=dict)
    filled: set[str] = field(default_factory=set)
    invalid: dict[str, tuple[int, list[Any]]] = field(default_factory=dict)


def scan(
    source: PartColumns,
    numeric: Sequence[str],
    *,
    other: Sequence[str] = (),
    decimal: str = "auto",
    fallback: str | None = None,
) -> Scan:
    """Look at columns of every firm, part by part: the format of the ``numeric`` ones
    decided from every part's evidence (one pass), then their values checked in it (a
    second pass, for text columns only).

    Parameters
    ----------
    source
        The firms.
    numeric
        Columns read as numbers.
    other
        Columns whose type and whether they hold a value are wanted.
    decimal
        ``records.decimal``.
    fallback
        The file's decimal mark, for a column whose values fit both.
    """
    out = Scan()
    seen: dict[str, list[NumberFormat]] = {name: [] for name in numeric}
    bad: dict[str, list[pd.Series]] = {name: [] for name in numeric}
    counts = dict.fromkeys(numeric, 0)
    text: set[str] = set()
    for _, raw in source.read([*numeric, *other]):
        for name in raw.columns:
            values = raw[name]
            if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":
                known = out.dtypes.get(name)
                out.dtypes[name] = (
                    values.dtype if known is None else np.result_type(known, values.dtype)
                )
            if name not in out.filled and bool(values.notna().any()):
                out.filled.add(name)
            if name not in seen:
                continue
            fmt = number_format(values, decimal=decimal, fallback=fallback)  # type: ignore[arg-type]
            seen[name].append(fmt)
            if fmt.decided_by == "typed":
                _count_invalid(values, fmt, bad[name], counts, name)
            else:
                text.add(name)
    for name, formats in seen.items():
        if not formats:  # no firm: as an empty column
            formats = [number_format(pd.Series([], dtype=float))]
        out.formats[name] = _decided(formats, decimal=decimal, fallback=fallback)
    if text:
        for _, raw in source.read(sorted(text)):
            for name in raw.columns:
                if raw[name].dtype.kind not in "biuf":  # typed parts were checked above
                    _count_invalid(raw[name], out.formats[name], bad[name], counts, name)
    for name in numeric:
        if counts[name]:
            found = pd.unique(pd.concat(bad[name], ignore_index=True))
            out.invalid[name] = (counts[name], list(found))
    return out


def _count_invalid(
    values: pd.Series,
    fmt: NumberFormat,
    bad: list[pd.Series],
    counts: dict[str, int],
    name: str,
) -> None:
    invalid = parse_numbers(values, fmt=fmt)[2]
    if invalid.any():
        counts[name] += int(invalid.sum())
        bad.append(pd.Series(values.iloc[np.flatnonzero(invalid)].unique()))


def _decided(formats: list[NumberFormat], *, decimal: str, fallback: str | None) -> NumberFormat:
    """The format of a whole column from each part's (:func:`number_format` with the
    file's mark as fallback, as for the whole column)."""
    merged = merge_formats([{"x": f} for f in formats], decimal=decimal)["x"]  # type: ignore[arg-type]
    if merged.decided_by == "delimiter" and fallback is not None:
        conflicts = merged.point if fallback == "," else merged.comma
        merged = dataclasses.replace(
            merged, decimal=fallback, decided_by="file", conflicts=conflicts
        )
    return merged


def not_numeric(name: str, fmt: NumberFormat, count: int, values: Sequence[Any]) -> str:
    """What :func:`~klastergeo.io.registry.numbers.numeric_column` says of a column with
    values that are not numbers in its format.

    Parameters
    ----------
    name
        The column's name as the user gave it.
    fmt
        Its number format.
    count
        How many of its values are not numbers.
    values
        Some of them, distinct.
    """
    mark = {".": "a decimal point", ",": "a decimal comma"}[fmt.decimal]
    return (
        f"column {name!r} is not numeric: {count} value(s) such as {preview(values)} are not "
        f"finite numbers with {mark} ({fmt.decided_by}) as its other values use"
    )


class Keys:
    """Values met part by part, numbered in order of first appearance.

    Parameters
    ----------
    missing
        Number a missing value as any other (True) or give it -1 (False).
    """

    def __init__(self, *, missing: bool = False) -> None:
        self.values = pd.Index([], dtype=object)
        self.missing = missing

    def codes(self, values: ArrayLike) -> NDArray[np.int64]:
        """The number of each value (-1 for a missing one unless ``missing``).

        Parameters
        ----------
        values
            A part's values.
        """
        local, uniques = pd.factorize(values, use_na_sentinel=not self.missing)  # type: ignore[call-overload]
        plain = pd.Index(np.asarray(uniques, dtype=object), dtype=object)
        found = self.values.get_indexer(plain).astype(np.int64)
        new = found < 0
        if new.any():
            found[new] = len(self.values) + np.arange(int(new.sum()))
            self.values = self.values.append(plain[new])
        mapping = np.append(found, -1)  # a missing value (-1) maps to -1
        return mapping[np.asarray(local, dtype=np.int64)]


class GroupSums:
    """Sums and counts of values per group, added part by part: each group's sum adds
    its finite values one by one in the order given (:func:`numpy.add.at`), so the sums
    are the same however the firms are cut into parts.

    Parameters
    ----------
    width
        Values per firm (one column each).
    """

    def __init__(self, width: int) -> None:
        self.sums = np.zeros((0, width))
        self.counts = np.zeros((0, width), dtype=np.int64)

    def add(self, codes: NDArray[np.int64], values: NDArray[np.float64]) -> None:
        """Add a part: each firm's group (-1: none) and values (NaN: none).

        Parameters
        ----------
        codes
            The group of each firm.
        values
            One row per firm, one column per value.
        """
        keep = codes >= 0
        codes, values = codes[keep], values[keep]
        if not len(codes):
            return
        size = int(codes.max()) + 1
        if size > len(self.sums):
            grow = size - len(self.sums)
            self.sums = np.vstack([self.sums, np.zeros((grow, self.sums.shape[1]))])
            self.counts = np.vstack([self.counts, np.zeros((grow, self.sums.shape[1]), np.int64)])
        known = np.isfinite(values)
        for j in range(values.shape[1]):  # a column per model kind
            np.add.at(self.sums[:, j], codes, np.where(known[:, j], values[:, j], 0.0))
            np.add.at(self.counts[:, j], codes, known[:, j].astype(np.int64))

    def means(self, groups: int) -> NDArray[np.float64]:
        """Each group's mean of each column (NaN where it has no value).

        Parameters
        ----------
        groups
            How many groups there are (those without a firm are NaN).
        """
        sums, counts = self._padded(groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)

    def totals(self, groups: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """The sums and counts of ``groups`` groups (zero for those without a firm).

        Parameters
        ----------
        groups
            How many groups there are.
        """
        return self._padded(groups)

    def _padded(self, groups: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        extra = max(0, groups - len(self.sums))
        width = self.sums.shape[1]
        sums = np.vstack([self.sums, np.zeros((extra, width))])[:groups]
        counts = np.vstack([self.counts, np.zeros((extra, width), np.int64)])[:groups]
        return sums, counts


def sample_keys(positions: ArrayLike, *, seed: int) -> NDArray[np.float64]:
    """Each firm's key in the models' sample: a uniform number from its position and
    the seed (:func:`~klastergeo.analysis.draws.position_uniform`), the same whatever the
    parts.

    Parameters
    ----------
    positions
        Positions of firms.
    seed
        The sample's seed (:func:`sample_seed`).
    """
    return position_uniform(positions, seed=seed)


def sample_seed(seed: int | None) -> int:
    """The seed of the models' sample from the run's (``analysis.seed``; None draws
    one, once for every part).

    Parameters
    ----------
    seed
        The run's seed.
    """
    entropy = None if seed is None else [int(seed), SAMPLE_SALT]
    sequence = np.random.SeedSequence(entropy)
    return int(sequence.generate_state(1, dtype=np.uint64)[0])


def strata_wanted(sizes: NDArray[np.int64], *, size: int) -> NDArray[np.int64]:
    """Firms wanted from each stratum for a sample of about ``size``: the same
    fraction of every stratum (rounded, at least one, at most all of it).

    Parameters
    ----------
    sizes
        Firms in each stratum.
    size
        Firms wanted in all.
    """
    n = int(sizes.sum())
    wanted = np.where(sizes > 0, np.maximum(1, np.round(sizes * (size / max(n, 1)))), 0)
    return np.minimum(wanted.astype(np.int64), sizes)


def key_bounds(wanted: NDArray[np.int64], sizes: NDArray[np.int64]) -> NDArray[np.float64]:
    """A key below which, in each stratum, almost surely more than ``wanted`` of its
    firms lie (the keys are uniform: about ``wanted + 6 sqrt(wanted) + 6`` of them): the
    candidates one pass keeps, from which the sample is chosen exactly.

    Parameters
    ----------
    wanted
        Firms wanted from each stratum.
    sizes
        Firms in each stratum.
    """
    expected = wanted + 6.0 * np.sqrt(wanted) + 6.0
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(sizes > 0, expected / np.maximum(sizes, 1), 1.0)
    return np.where(wanted >= sizes, 1.0, np.minimum(bound, 1.0))


def smallest(
    strata: NDArray[np.int64],
    keys: NDArray[np.float64],
    positions: NDArray[np.int64],
    wanted: NDArray[np.int64],
) -> NDArray[np.bool_]:
    """Which firms have one of the ``wanted`` smallest keys of their stratum (a tie by
    position).

    Parameters
    ----------
    strata, keys, positions
        Each firm's stratum, key and position.
    wanted
        Firms wanted from each stratum.
    """
    order = np.lexsort((positions, keys, strata))
    sorted_strata = strata[order]
    starts = np.flatnonzero(np.r_[True, sorted_strata[1:] != sorted_strata[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    rank = np.arange(len(order)) - first
    chosen = np.zeros(len(order), dtype=bool)
    chosen[order] = rank < wanted[sorted_strata]
    return chosen
