"""The kept firms after validation: where later steps read them from.

A national registry has tens of millions of firms; as a GeoDataFrame (a point object and
a record-id string per firm) they would not fit in memory. The validation step leaves
them as Parquet parts on disk (or, for a registry read whole, as one frame in memory), and
:class:`FirmStore` reads back only what a step needs:

- :meth:`FirmStore.columns`: a few columns of every firm, text as categories (the counts,
  the concentration indices, the point patterns and the models read ``area_code``,
  ``sector``, ``workers``, ``lon``, ``lat`` and their predictors this way: some bytes
  per firm, not a Python object);
- :meth:`FirmStore.frame`: whole firms (with record id and point geometry) at given
  positions: the members of the sentra (typology, diagnosis), the firms drawn one by one
  on a province map;
- :meth:`FirmStore.parts`: every firm, one part at a time (the firms output).

A firm's *position* is its place among the kept firms in file order (0, 1, ...): the
same whatever the batch size, so outputs do not depend on it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from klastergeo.analysis.geometry import firm_points
from klastergeo.io.registry import batches

__all__ = ["BLOCK", "FirmStore"]

logger = logging.getLogger(__name__)

#: Firms per block of the steps that go over the firms part by part. Fixed, whatever the
#: batch size the registry was validated in or the workers the blocks go to: a sum over
#: the firms is the blocks' sums added in block order, each summed in file order, so it
#: comes out the same to the last bit however the firms were stored.
BLOCK = 1 << 20


def _numeric(kind: pa.DataType) -> bool:
    """Numbers and booleans: read as NumPy arrays (nulls of numbers as NaN)."""
    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
    )


class _Categories:
    """The categories of a text column read part by part, in order of first appearance,
    and each part's values as codes into them (-1 for a missing value)."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.known: pa.Array | None = None  # the same values, as Arrow

    def codes(self, column: pa.ChunkedArray) -> NDArray[np.int32]:
        import pyarrow.compute as pc

        encoded = pc.dictionary_encode(column).combine_chunks()
        dictionary = encoded.dictionary
        mapping = np.empty(len(dictionary) + 1, dtype=np.int32)
        known = np.full(len(dictionary), -1, dtype=np.int64)
        if self.known is not None and len(dictionary):
            found = pc.index_in(dictionary, value_set=self.known).fill_null(-1)
            known = np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)
        new = np.flatnonzero(known < 0)  # in order of first appearance, as they come
        if len(new):  # distinct values not seen in an earlier part
            added = dictionary.take(pa.array(new))
            self.values.extend(added.to_pylist())
            self.known = added if self.known is None else pa.concat_arrays([self.known, added])
        known[new] = len(self.values) - len(new) + np.arange(len(new))
        mapping[:-1] = known
        mapping[-1] = -1
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        indices = np.where(encoded.indices.is_null().to_numpy(zero_copy_only=False), -1, indices)
        return mapping[indices.astype(np.int64)]


@dataclass(frozen=True)
class FirmStore:
    """The kept firms of a validation, read back column by column or part by part.

    Parameters
    ----------
    validation
        The batch validation (:meth:`klastergeo.io.registry.batches.Registry.validate`): its Parquet
        ``parts``, or the ``memory`` frame of a registry read whole.
    """

    validation: batches.BatchValidation

    @cached_property
    def sizes(self) -> NDArray[np.int64]:
        """Firms in each part (one entry for a registry read whole)."""
        if self.validation.memory is not None:
            return np.array([len(self.validation.memory)], dtype=np.int64)
        return np.array(
            [pq.ParquetFile(p).metadata.num_rows for p in self.validation.parts], dtype=np.int64
        )

    def __len__(self) -> int:
        return int(self.sizes.sum())

    @property
    def names(self) -> list[str]:
        """The firms' columns (without the record id and the geometry)."""
        return [c for c in self.validation.order if c != "geometry"]

    def _tables(self, columns: Sequence[str]) -> Iterator[pa.Table]:
        memory = self.validation.memory
        if memory is not None:
            yield pa.Table.from_pandas(memory[list(columns)], preserve_index=False)
            return
        for part in self.validation.parts:
            yield pq.read_table(part, columns=list(columns))

    def columns(self, columns: Sequence[str], *, categorical: Sequence[str] = ()) -> pd.DataFrame:
        """Some columns of every firm, indexed by position; the ``categorical`` ones as
        pandas categories (a small integer per firm instead of a string).

        Parameters
        ----------
        columns
            Columns of the firms (e.g. ``area_code``, ``sector``, ``workers``); names
            they do not have are left out.
        categorical
            Text columns to return as categories.

        Returns
        -------
        DataFrame
            One row per kept firm, in file order, with a ``RangeIndex`` of positions.
        """
        wanted = [c for c in columns if c in self.names]
        index = pd.RangeIndex(len(self))
        if not wanted:
            return pd.DataFrame(index=index)
        # part by part into small arrays (category codes, numbers), joined column by
        # column: the memory is about that of the result, not three copies of it
        pieces: dict[str, list[Any]] = {name: [] for name in wanted}
        categories: dict[str, _Categories] = {
            name: _Categories() for name in wanted if name in categorical
        }
        for table in self._tables(wanted):
            for name in wanted:
                column = table.column(name)
                if name in categories:
                    pieces[name].append(categories[name].codes(column))
                elif _numeric(column.type):
                    pieces[name].append(column.to_numpy())
                else:
                    pieces[name].append(column.to_pandas())
        out: dict[str, Any] = {}
        for name in wanted:
            parts = pieces.pop(name)
            if name in categories:
                out[name] = pd.Categorical.from_codes(
                    np.concatenate(parts), categories=pd.Index(categories[name].values)
                )
            elif parts and isinstance(parts[0], np.ndarray):
                out[name] = np.concatenate(parts)
            else:
                out[name] = pd.concat(parts, ignore_index=True).to_numpy()
        return pd.DataFrame(out, index=index)

    def frame(
        self,
        positions: NDArray[np.int64] | None = None,
        *,
        columns: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """Whole firms (indexed by record id, with point geometry in EPSG:4326: missing
        for a firm placed by its area), as the
        validation report gives them: every firm, or those at ``positions``.

        Parameters
        ----------
        positions
            Positions of the wanted firms (sorted or not; returned in file order);
            None for every firm (small registries only).
        columns
            The columns wanted (those the firms have; ``lon`` and ``lat`` are always
            read, for the geometry); None for all.
        """
        wanted = None if positions is None else np.unique(np.asarray(positions, np.int64))
        names = None
        if columns is not None:
            names = [c for c in self.names if c in {*columns, "lon", "lat"}]
        frames = list(self._parts(wanted, columns=names))
        frames = [f for f in frames if len(f)] or frames[-1:]
        joined = frames[0] if len(frames) == 1 else pd.concat(frames)
        # a firm placed by its area has no point: a null geometry, not POINT (nan nan)
        points = firm_points(joined["lon"].to_numpy(), joined["lat"].to_numpy())
        firms = gpd.GeoDataFrame(joined, geometry=points, crs=4326)
        order = [c for c in self.validation.order if c in firms.columns]
        return firms[order] if order else firms

    def parts(self, columns: Sequence[str] | None = None) -> Iterator[tuple[int, pd.DataFrame]]:
        """Every firm, one part at a time: ``(position of its first firm, frame)``, the
        frame indexed by record id.

        Parameters
        ----------
        columns
            Columns to read (default: all).
        """
        start = 0
        for frame in self._parts(None, columns=columns):
            yield start, frame
            start += len(frame)

    def tables(self, columns: Sequence[str] | None = None) -> Iterator[tuple[int, pa.Table]]:
        """Every firm as Arrow, one part at a time: ``(position of its first firm,
        table)``, with the record id as a column and the pandas metadata (no pandas
        object is made: the firms output is written from these).

        Parameters
        ----------
        columns
            Only these columns (names the firms have; no record id, no pandas
            metadata): what a step reads part by part (the models' predictors); None
            for every column.
        """
        memory = self.validation.memory
        if columns is not None:
            start = 0
            for table in self._tables([c for c in columns if c in self.names]):
                yield start, table
                start += table.num_rows
            return
        if memory is not None:
            yield 0, pa.Table.from_pandas(memory, preserve_index=True)
            return
        start = 0
        for part in self.validation.parts:
            table = pq.read_table(part, use_pandas_metadata=True)
            yield start, table
            start += table.num_rows

    def n_blocks(self, size: int = BLOCK) -> int:
        """How many blocks :meth:`blocks` gives (at least one).

        Parameters
        ----------
        size
            Firms per block.
        """
        return max(1, -(-len(self) // size))

    def blocks(
        self,
        columns: Sequence[str] | None,
        *,
        size: int = BLOCK,
        only: Sequence[int] | None = None,
    ) -> Iterator[tuple[int, pa.Table]]:
        """The firms in blocks of ``size`` positions (the last one shorter), whatever the
        parts they are stored in: ``(position of the block's first firm, table)``, the
        table with the ``columns`` the firms have. Memory: a block and a part.

        Parameters
        ----------
        columns
            Columns to read (names the firms lack are left out); None for every column,
            the record id and the pandas metadata, as :meth:`tables` gives them.
        size
            Firms per block (:data:`BLOCK`).
        only
            The blocks wanted (their numbers, ascending); None for all. Only the parts
            they overlap are read (a worker reads its blocks this way).
        """
        every = columns is None
        wanted = list(self.names) if columns is None else [
            c for c in dict.fromkeys(columns) if c in self.names
        ]  # fmt: skip
        n, offsets = len(self), np.concatenate([[0], np.cumsum(self.sizes)])
        memory = self.validation.memory
        for b in range(self.n_blocks(size)) if only is None else only:
            lo, hi = b * size, min((b + 1) * size, n)
            if memory is not None or hi <= lo:
                frame = (memory if memory is not None else self._empty(wanted)).iloc[lo:hi]
                yield (
                    lo,
                    pa.Table.from_pandas(frame if every else frame[wanted], preserve_index=every),
                )
                continue
            first = int(np.searchsorted(offsets, lo, side="right")) - 1
            last = int(np.searchsorted(offsets, hi, side="left"))
            pieces = []
            for i in range(first, last):
                start = max(lo, int(offsets[i]))
                stop = min(hi, int(offsets[i + 1]))
                part = self.validation.parts[i]
                table = (
                    pq.read_table(part, use_pandas_metadata=True)
                    if every
                    else pq.read_table(part, columns=wanted)
                )
                pieces.append(table.slice(start - int(offsets[i]), stop - start))
            yield lo, pa.concat_tables(pieces).combine_chunks()

    def _empty(self, columns: list[str]) -> pd.DataFrame:
        """No firm, with the ``columns`` (their types as the first part stores them)."""
        if not self.validation.parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        schema = pq.read_schema(self.validation.parts[0])
        return schema.empty_table().select(columns).to_pandas()

    def _parts(
        self, positions: NDArray[np.int64] | None, *, columns: Sequence[str] | None
    ) -> Iterator[pd.DataFrame]:
        memory = self.validation.memory
        offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        sources: list[Any] = [memory] if memory is not None else list(self.validation.parts)
        for i, source in enumerate(sources):
            lo, hi = offsets[i], offsets[i + 1]
            local = None
            if positions is not None:
                inside = positions[(positions >= lo) & (positions < hi)]
                if not len(inside) and i < len(sources) - 1:
                    continue
                local = inside - lo
            if isinstance(source, pd.DataFrame):
                frame = source if columns is None else source[list(columns)]
                yield frame if local is None else frame.iloc[local]
                continue
            table = pq.read_table(
                source,
                columns=None if columns is None else list(columns),
                use_pandas_metadata=True,
            )
            if local is not None:  # only the wanted rows become pandas objects
                table = table.take(pa.array(local))
            yield table.to_pandas()

    def positions_where(self, column: str, values: Sequence[Any]) -> NDArray[np.int64]:
        """Positions of the firms whose ``column`` is one of ``values``.

        Parameters
        ----------
        column
            A column of the firms.
        values
            The accepted values.
        """
        import pyarrow.compute as pc

        accepted = pa.array(list(values))
        found, start = [], 0
        for table in self._tables([column]):
            mask = pc.is_in(table.column(0), value_set=accepted.cast(table.column(0).type))
            found.append(np.flatnonzero(mask.to_numpy(zero_copy_only=False)) + start)
            start += table.num_rows
        return np.concatenate(found).astype(np.int64) if found else np.empty(0, np.int64)
