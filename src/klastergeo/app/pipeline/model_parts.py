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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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
    "Cells",
    "GroupSums",
    "Keys",
    "Labels",
    "Part",
    "PartColumns",
    "Predictors",
    "Scan",
    "key_bounds",
    "not_numeric",
    "running_bounds",
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

    def parts(
        self, columns: Sequence[str], *, dtypes: dict[str, Any] | None = None
    ) -> Iterator[Part]:
        """Every part's ``columns`` (those the firms have) as they are stored: Arrow
        from the store (nothing made of pandas until asked, :meth:`Part.frame`), the
        frame of the records in memory.

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
            yield Part(0, self.records[wanted], dtypes)
            return
        if not wanted:
            for lo, hi in self.bounds:
                yield Part(lo, pd.DataFrame(index=pd.RangeIndex(hi - lo)), dtypes)
            return
        for (lo, _), (_, table) in zip(self.bounds, self.store.tables(wanted), strict=True):
            yield Part(lo, table, dtypes)
            del table


@dataclass(frozen=True)
class Part:
    """One part of the firms' columns (:meth:`PartColumns.parts`): Arrow as the store
    gives them, or a pandas frame of records in memory.

    Attributes
    ----------
    start
        The position of the part's first firm.
    data
        Its columns.
    dtypes
        The NumPy type of numeric columns over every part.
    """

    start: int
    data: pa.Table | pd.DataFrame
    dtypes: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.data.num_rows if isinstance(self.data, pa.Table) else len(self.data)

    @property
    def names(self) -> list[str]:
        """Its columns."""
        return list(self.data.column_names if isinstance(self.data, pa.Table) else self.data)

    def column(self, name: str) -> Any:
        """One column as stored (an Arrow column, or a pandas Series).

        Parameters
        ----------
        name
            A column of the part.
        """
        return self.data.column(name) if isinstance(self.data, pa.Table) else self.data[name]

    def frame(self, columns: Iterable[str], rows: NDArray[np.int64] | None = None) -> pd.DataFrame:
        """Some columns (those the part has) as :meth:`PartColumns.read` gives them,
        indexed by position: of every firm of the part, or of its ``rows``.

        Parameters
        ----------
        columns
            The wanted columns.
        rows
            The firms wanted (their rows in the part, ascending); None for all.
        """
        wanted = [c for c in dict.fromkeys(columns) if c in self.names]
        n = len(self)
        index: pd.Index = pd.RangeIndex(self.start, self.start + n)
        if rows is not None:
            index = pd.Index(self.start + np.asarray(rows, dtype=np.int64))
        if isinstance(self.data, pd.DataFrame):
            frame = self.data[wanted]
            frame = frame if rows is None else frame.iloc[rows]
            return frame.set_axis(index, axis=0)
        table = self.data.select(wanted)
        if rows is not None:
            table = table.take(pa.array(rows, type=pa.int64()))
        data = {name: column_values(table.column(name), self.dtypes.get(name)) for name in wanted}
        return pd.DataFrame(data, index=index)


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

    def __init__(self, *, missing: bool = False, dtype: Any = object) -> None:
        self.values = pd.Index([], dtype=dtype)
        self.missing = missing
        self.dtype = dtype

    def codes(self, values: Any) -> NDArray[np.int64]:
        """The number of each value (-1 for a missing one unless ``missing``).

        Parameters
        ----------
        values
            A part's values: an Arrow column is numbered per distinct value (its
            dictionary), not per value.
        """
        if isinstance(values, pa.Array | pa.ChunkedArray):
            return self._arrow_codes(values)
        local, uniques = pd.factorize(values, use_na_sentinel=not self.missing)
        plain = pd.Index(np.asarray(uniques, dtype=self.dtype), dtype=self.dtype)
        found = self.values.get_indexer(plain).astype(np.int64)
        new = found < 0
        if new.any():
            found[new] = len(self.values) + np.arange(int(new.sum()))
            self.values = self.values.append(plain[new])
        mapping = np.append(found, -1)  # a missing value (-1) maps to -1
        return mapping[np.asarray(local, dtype=np.int64)]

    def _arrow_codes(self, values: pa.Array | pa.ChunkedArray) -> NDArray[np.int64]:
        """:meth:`codes` of an Arrow column: its distinct values (in order of first
        appearance, as :func:`pandas.factorize` gives them) numbered, then looked up by
        each value's index into them."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if pa.types.is_dictionary(values.type):  # its dictionary in any order: decode
            values = values.dictionary_decode()
        encoded = pc.dictionary_encode(values, null_encoding="encode" if self.missing else "mask")
        indices = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False))
        distinct = encoded.dictionary.to_pandas()
        mapping = np.append(self.codes(distinct), -1)  # a missing value (-1) maps to -1
        return mapping[indices.astype(np.int64, copy=False)]


class Labels:
    """The labels of a column numbered part by part in order of first appearance, as
    :class:`Keys` numbers them, and each one's row in a fixed list of labels (-1: not
    in it). An Arrow column's labels are looked up in the list by Arrow
    (:func:`pyarrow.compute.index_in`, one hash pass over the part); only those
    outside the list are numbered as :class:`Keys` does.

    Parameters
    ----------
    fixed
        The list (unique labels; e.g. the run's areas).
    missing
        Number a missing label as any other (True) or give it -1 (False).
    """

    def __init__(self, fixed: pd.Index, *, missing: bool = False) -> None:
        self.fixed = pd.Index(fixed)
        self.others = Keys(missing=missing)
        self.others_rows = np.empty(0, dtype=np.int64)  # row of each other label
        self.number = np.full(len(self.fixed), -1, dtype=np.int64)  # of each slot
        self.order: list[NDArray[np.int64]] = []  # the slots, numbered
        self._sets: dict[pa.DataType, pa.Array | None] = {}

    @property
    def values(self) -> pd.Index:
        """The labels by number (as :attr:`Keys.values`)."""
        slots = np.concatenate([np.empty(0, np.int64), *self.order])
        n = len(self.fixed)
        labels = np.empty(len(slots), dtype=object)
        mine = slots < n
        labels[mine] = np.asarray(self.fixed, dtype=object)[slots[mine]]
        labels[~mine] = np.asarray(self.others.values, dtype=object)[slots[~mine] - n]
        # the type pandas infers for them, as :class:`Keys` appends them
        return pd.Index([], dtype=object).append(pd.Index(labels, dtype=object))

    def codes(self, column: Any) -> NDArray[np.int64]:
        """Each label's number (as :meth:`Keys.codes`).

        Parameters
        ----------
        column
            A part's labels.
        """
        numbers = self.lookup(column)[0]
        assert numbers is not None
        return numbers

    def lookup(
        self, column: Any, *, numbered: bool = True
    ) -> tuple[NDArray[np.int64] | None, NDArray[np.int64]]:
        """Each label's number and its row in the list (-1 for none).

        Parameters
        ----------
        column
            A part's labels (Arrow, or anything :class:`Keys` numbers).
        numbered
            False to leave the labels unnumbered (None for their numbers): only their
            rows in the list are wanted.
        """
        n = len(self.fixed)
        rows = self._rows(column)
        slots = rows.copy()
        outside = np.flatnonzero(rows < 0)
        if len(outside):  # labels outside the list, or missing
            picked = column.take(pa.array(outside)) if _is_arrow(column) else _take(column, outside)
            other = self.others.codes(picked)
            if len(self.others.values) > len(self.others_rows):  # look them up too
                fresh = self.others.values[len(self.others_rows) :]
                found = self.fixed.get_indexer(fresh).astype(np.int64)
                found[np.asarray(pd.isna(fresh))] = -1
                self.others_rows = np.concatenate([self.others_rows, found])
            slots[outside] = np.where(other >= 0, n + other, -1)
            rows[outside] = np.where(other >= 0, self.others_rows[np.maximum(other, 0)], -1)
        return (self._numbered(slots) if numbered else None), rows

    def _rows(self, column: Any) -> NDArray[np.int64]:
        """Each label's row in the list by Arrow (-1: none, or not Arrow)."""
        value_set = self._value_set(column.type) if _is_arrow(column) else None
        if value_set is None:
            return np.full(len(column), -1, dtype=np.int64)
        found = pc.index_in(column, value_set=value_set).fill_null(-1)
        if isinstance(found, pa.ChunkedArray):
            found = found.combine_chunks()
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)

    def _value_set(self, kind: pa.DataType) -> pa.Array | None:
        if kind not in self._sets:
            try:
                self._sets[kind] = pa.array(list(self.fixed), type=kind)
            except (pa.ArrowException, TypeError, ValueError):
                self._sets[kind] = None  # looked up as other labels
        return self._sets[kind]

    def _numbered(self, slots: NDArray[np.int64]) -> NDArray[np.int64]:
        """The number of each slot (-1: none), new slots numbered in order of first
        appearance."""
        if len(slots) and slots.max() >= len(self.number):
            grow = int(slots.max()) + 1 - len(self.number)
            self.number = np.concatenate([self.number, np.full(grow, -1, np.int64)])
        valid = slots >= 0
        numbers = np.where(valid, self.number[np.maximum(slots, 0)], -1)
        fresh = valid & (numbers < 0)
        if not fresh.any():  # every label met before (most parts)
            return numbers
        new = pd.unique(slots[fresh])  # in order of first appearance
        if len(new):
            done = sum(len(o) for o in self.order)
            self.number[new] = done + np.arange(len(new))
            self.order.append(np.asarray(new, dtype=np.int64))
        return np.where(valid, self.number[np.maximum(slots, 0)], -1)


def _is_arrow(values: Any) -> bool:
    return isinstance(values, pa.Array | pa.ChunkedArray)


def _take(values: Any, rows: NDArray[np.int64]) -> Any:
    """Some values (pandas or NumPy) by row."""
    return values.iloc[rows] if isinstance(values, pd.Series) else np.asarray(values)[rows]


class Cells:
    """(area, sector) cells numbered part by part in order of first appearance, from
    the numbers of their area and sector (:class:`Keys`, :class:`Labels`): a table of
    every area x sector met so far, grown as they are met (a look-up per firm, no
    hashing), or :class:`Keys` of ``area * room + sector`` once that table would pass
    ``limit`` entries.

    Parameters
    ----------
    room
        Sectors a cell's key leaves room for (:attr:`values`: ``area * room + sector``).
    limit
        Most entries of the table.
    """

    def __init__(self, *, room: int, limit: int = 1 << 25) -> None:
        self.room, self.limit = room, limit
        self.table = np.full((0, 0), -1, dtype=np.int64)
        self.order: list[NDArray[np.int64]] = []  # area * room + sector, numbered
        self.keys: Keys | None = None  # past the limit

    @property
    def values(self) -> pd.Index:
        """The cells' keys (``area * room + sector``) by number (as :attr:`Keys.values`)."""
        if self.keys is not None:
            return self.keys.values
        return pd.Index(np.concatenate([np.empty(0, np.int64), *self.order]), dtype=np.int64)

    def codes(self, area: NDArray[np.int64], sector: NDArray[np.int64]) -> NDArray[np.int64]:
        """Each firm's cell number (-1 where its area or sector is none).

        Parameters
        ----------
        area, sector
            The numbers of each firm's area and sector (-1: none).
        """
        out = np.full(len(area), -1, dtype=np.int64)
        valid = np.flatnonzero((area >= 0) & (sector >= 0))
        if not len(valid):
            return out
        a, s = area[valid], sector[valid]
        if self.keys is None:
            self._grow(int(a.max()) + 1, int(s.max()) + 1)
        if self.keys is not None:
            out[valid] = self.keys.codes(a * self.room + s)
            return out
        flat = self.table.reshape(-1)  # a view
        slot = a * self.table.shape[1] + s
        fresh = flat[slot] < 0
        new = pd.unique(slot[fresh]) if fresh.any() else slot[:0]  # in order of appearance
        if len(new):
            done = sum(len(o) for o in self.order)
            flat[new] = done + np.arange(len(new))
            width = self.table.shape[1]
            self.order.append((new // width) * self.room + new % width)
        out[valid] = flat[slot]
        return out

    def _grow(self, areas: int, sectors: int) -> None:
        rows, columns = self.table.shape
        if areas <= rows and sectors <= columns:
            return
        rows, columns = max(rows, areas, 2 * rows), max(columns, sectors)
        if rows * columns > self.limit:  # as keys from here
            keys = Keys(dtype=np.int64)
            keys.codes(self.values.to_numpy())  # the cells met so far, in order
            self.keys = keys
            return
        table = np.full((rows, columns), -1, dtype=np.int64)
        table[: self.table.shape[0], : self.table.shape[1]] = self.table
        self.table = table


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
        self.width = width
        self.groups = 0
        # one row per value column, one entry per group (room to grow: doubled)
        self._sums = np.zeros((width, 0))
        self._counts = np.zeros((width, 0), dtype=np.int64)

    @property
    def sums(self) -> NDArray[np.float64]:
        """The sums so far, one row per group."""
        return self._sums[:, : self.groups].T

    @property
    def counts(self) -> NDArray[np.int64]:
        """The counts so far, one row per group."""
        return self._counts[:, : self.groups].T

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
        if not keep.all():
            codes, values = codes[keep], values[keep]
        if not len(codes):
            return
        size = int(codes.max()) + 1
        if size > self._sums.shape[1]:
            room = max(size, 2 * self._sums.shape[1])
            grow = room - self._sums.shape[1]
            self._sums = np.hstack([self._sums, np.zeros((self.width, grow))])
            self._counts = np.hstack([self._counts, np.zeros((self.width, grow), np.int64)])
        self.groups = max(self.groups, size)
        columns = np.ascontiguousarray(values.T)  # one row per value column
        known = np.isfinite(columns)
        for j in range(len(columns)):  # a column per model kind
            np.add.at(self._sums[j], codes, np.where(known[j], columns[j], 0.0))
            counted = codes if known[j].all() else codes[known[j]]
            self._counts[j, : self.groups] += np.bincount(counted, minlength=self.groups)

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
        extra = max(0, groups - self.groups)
        sums = np.vstack([self.sums, np.zeros((extra, self.width))])[:groups]
        counts = np.vstack([self.counts, np.zeros((extra, self.width), np.int64)])[:groups]
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


def strata_wanted(
    sizes: NDArray[np.int64], *, size: int, total: int | None = None
) -> NDArray[np.int64]:
    """Firms wanted from each stratum for a sample of about ``size``: the same
    fraction of every stratum (rounded, at least one, at most all of it).

    Parameters
    ----------
    sizes
        Firms in each stratum.
    size
        Firms wanted in all.
    total
        Firms in all strata (default: the sum of ``sizes``; the firms of every part
        when ``sizes`` counts those read so far).
    """
    n = int(sizes.sum()) if total is None else total
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


def running_bounds(sizes: NDArray[np.int64], *, size: int, total: int) -> NDArray[np.float64]:
    """Key bounds from the firms of each stratum counted so far (``sizes``, of
    ``total`` firms in all) that are never below :func:`key_bounds` of the whole
    strata: a pass can keep its candidates while it counts the strata.

    With ``f = size / total``, a stratum of ``C`` firms wants ``W <= max(1, C f +
    1/2)`` of them and its bound is ``g(W) / C`` with ``g(w) = w + 6 sqrt(w) + 6``
    increasing; ``g(C f + 1/2) / C`` and ``g(1) / C`` both decrease with ``C``, so
    their larger one at the count so far ``c <= C`` bounds the final one.

    Parameters
    ----------
    sizes
        Firms of each stratum counted so far.
    size
        Firms wanted in all.
    total
        Firms in all strata (every part's).
    """
    c = np.maximum(sizes, 1).astype(np.float64)
    w = c * (size / max(total, 1)) + 0.5
    bound = np.maximum(w + 6.0 * np.sqrt(w) + 6.0, 13.0) / c
    return np.where(sizes > 0, np.minimum(bound, 1.0), 1.0)


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
