"""The run's columns of every firm, made block by block from small tables.

A run adds columns to its firms: the ``sentra_id`` of their sentra, ``in_sentra``, the
sentra whose related industry they are part of (``colocated_with``), the models'
probabilities. Held for every firm of a national registry they would cost tens of bytes
a firm; :class:`FirmColumns` holds what they are made of instead (the sentra of every
(area, sector) cell, the few firms of related industries) and makes them for any block
of firms read from the store: each firm's cell comes from its ``area_code`` and
``sector``, its sentra from its cell.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray

from klastergeo.analysis import aggregate
from klastergeo.analysis.tally import Vocabulary
from klastergeo.io.registry.firms import FirmStore

__all__ = ["FirmColumns", "LazyFirms", "cell_codes", "frame_of"]

logger = logging.getLogger(__name__)


def cell_codes(area: Any, sector: Any, areas: pd.Index, sectors: pd.Index) -> NDArray[np.int64]:
    """Each firm's row in a table of every area x every sector (areas outer), or -1.

    Parameters
    ----------
    area, sector
        The firms' area and sector labels (Arrow, NumPy, pandas; missing: -1).
    areas, sectors
        The table's areas and sectors, in its order.
    """
    a = Vocabulary(areas).codes(area)
    s = Vocabulary(sectors).codes(sector)
    return np.where((a >= 0) & (s >= 0), a * len(sectors) + s, -1)


@dataclass(frozen=True)
class FirmColumns:
    """What the run's columns of every firm are made of, and how to make them for a
    block of firms.

    Parameters
    ----------
    store
        The kept firms.
    areas, sectors
        The counts' areas and sectors (each firm's cell: its row in their product).
    sentra_ids
        The sentra, in the order of the sentra codes.
    row_sentra
        The sentra code of every cell (-1: none): area-based sentra; None otherwise.
    point_sentra
        The sentra code of every firm (-1: none): point-based sentra, which cut cells;
        None otherwise.
    resolution
        An H3 run's resolution: the firms' cells are made from their points, their
        ``area_code`` becomes ``admin_code``.
    colocated
        The firms of significant related industries (sorted positions) and the
        ``;``-joined sentra each is related to; None when co-location was not measured.
    probabilities
        Each model's probability of every firm (``p_<kind>``).
    """

    store: FirmStore
    areas: pd.Index
    sectors: pd.Index
    sentra_ids: pd.Index
    row_sentra: NDArray[np.int32] | None = None
    point_sentra: NDArray[np.int32] | None = None
    resolution: int | None = None
    colocated: tuple[NDArray[np.int64], pd.Categorical] | None = None
    probabilities: Mapping[str, NDArray[np.float64]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.store)

    def with_related(
        self, colocated: tuple[NDArray[np.int64], pd.Categorical] | None
    ) -> FirmColumns:
        """These columns with the firms of related industries (the members found
        already are kept).

        Parameters
        ----------
        colocated
            The related firms' sorted positions and the ``;``-joined sentra of each
            (:func:`~.assembly.related_firms`); None when not measured.
        """
        out = dataclasses.replace(self, colocated=colocated)
        if "members" in self.__dict__:
            out.__dict__["members"] = self.__dict__["members"]
        return out

    def cells(self, block: pa.Table) -> NDArray[np.int64]:
        """Each firm's cell (row of the counts; -1 for none) of a block.

        Parameters
        ----------
        block
            The firms, read with :attr:`needs`.
        """
        if self.resolution is not None:
            area: Any = _h3(block, self.resolution)
        else:
            area = block.column("area_code")
        a = self._vocabularies[0].codes(area)
        s = self._vocabularies[1].codes(block.column("sector"))
        return np.where((a >= 0) & (s >= 0), a * len(self.sectors) + s, -1)

    @cached_property
    def _vocabularies(self) -> tuple[Vocabulary, Vocabulary]:
        """The areas and sectors numbered once (a look-up per block, not a new table)."""
        return Vocabulary(self.areas), Vocabulary(self.sectors)

    def sentra_codes(self, start: int, block: pa.Table) -> NDArray[np.int32]:
        """Each firm's sentra code (-1: none) of a block.

        Parameters
        ----------
        start
            The position of the block's first firm.
        block
            The firms, read with :attr:`needs`.
        """
        if self.point_sentra is not None:
            return self.point_sentra[start : start + block.num_rows]
        if self.row_sentra is None or not len(self.row_sentra):
            return np.full(block.num_rows, -1, dtype=np.int32)
        cell = self.cells(block)
        return np.where(cell >= 0, self.row_sentra[np.maximum(cell, 0)], -1).astype(np.int32)

    def sentra_of(self, area: NDArray[np.int64], sector: NDArray[np.int64]) -> NDArray[np.int32]:
        """The sentra code (-1: none) of firms given by their area's row in
        :attr:`areas` and their sector's in :attr:`sectors` (-1: none): area-based
        sentra (``row_sentra``), whose firms' cells are their area and sector.

        Parameters
        ----------
        area, sector
            Each firm's rows.
        """
        if self.row_sentra is None or not len(self.row_sentra):
            return np.full(len(area), -1, dtype=np.int32)
        cell = np.where((area >= 0) & (sector >= 0), area * len(self.sectors) + sector, -1)
        return np.where(cell >= 0, self.row_sentra[np.maximum(cell, 0)], -1).astype(np.int32)

    @property
    def needs(self) -> tuple[str, ...]:
        """The store's columns :meth:`added` reads."""
        if self.resolution is not None:
            return ("area_code", "sector", "lon", "lat")
        return ("area_code", "sector")

    def added(self, start: int, block: pa.Table) -> pd.DataFrame:
        """The run's columns of a block of firms: ``sentra_id`` (a category),
        ``in_sentra`` (0/1), ``colocated_with`` (when measured), ``p_<kind>``; in an H3
        run the cell as ``area_code`` and the administrative ``admin_code``. Indexed by
        position.

        Parameters
        ----------
        start
            The position of the block's first firm.
        block
            The firms, read with :attr:`needs` (or every column).
        """
        n = block.num_rows
        codes = self.sentra_codes(start, block)
        out = pd.DataFrame(index=pd.RangeIndex(start, start + n))
        if self.resolution is not None:
            out["area_code"] = pd.Categorical(_h3(block, self.resolution))
            out["admin_code"] = block.column("area_code").to_pandas().to_numpy()
        out["sentra_id"] = pd.Categorical.from_codes(codes, categories=self.sentra_ids)
        out["in_sentra"] = (codes >= 0).astype(np.int64)
        if self.colocated is not None:
            out["colocated_with"] = _colocated(self.colocated, start, n)
        for kind, values in self.probabilities.items():
            out[f"p_{kind}"] = values[start : start + n]
        return out

    def blocks(self, columns: Sequence[str] = ()) -> Iterator[tuple[int, pd.DataFrame]]:
        """Every firm block by block: the store's columns and the run's
        (:meth:`added`), indexed by position.

        Parameters
        ----------
        columns
            The store's columns wanted besides the run's.
        """
        wanted = [*dict.fromkeys([*self.needs, *columns])]
        for start, block in self.store.blocks(wanted):
            frame = self.added(start, block)
            for name in columns:
                if name in block.column_names and name not in frame:
                    frame[name] = block.column(name).to_numpy(zero_copy_only=False)
            yield start, frame

    def placed(self) -> tuple[NDArray[np.int64] | None, pd.Categorical, pd.Categorical, int]:
        """The firms with a point, block by block: their positions (None when every firm
        has one), sectors and sentra (categories: a small code a firm), and how many
        firms there are in all. What co-location measures, without a frame of the firms.
        """
        at: list[NDArray[np.int64]] = [np.empty(0, np.int64)]
        sectors: list[NDArray[np.int64]] = [np.empty(0, np.int64)]
        sentra: list[NDArray[np.int32]] = [np.empty(0, np.int32)]
        vocabulary = Vocabulary()
        for start, block in self.store.blocks([*self.needs, "lon", "lat"]):
            lon = np.asarray(block.column("lon").to_numpy(zero_copy_only=False), np.float64)
            lat = np.asarray(block.column("lat").to_numpy(zero_copy_only=False), np.float64)
            inside = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
            at.append(start + inside)
            codes = vocabulary.codes(block.column("sector"))[inside]
            sectors.append(codes)
            sentra.append(self.sentra_codes(start, block)[inside])
        positions = np.concatenate(at)
        n = len(self.store)
        width = np.int16 if len(vocabulary) < 2**15 else np.int32
        return (
            None if len(positions) == n else positions,
            pd.Categorical.from_codes(
                np.concatenate(sectors).astype(width), categories=pd.Index(vocabulary.labels)
            ),
            pd.Categorical.from_codes(np.concatenate(sentra), categories=self.sentra_ids),
            n,
        )

    @cached_property
    def members(self) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
        """The positions of the firms in a sentra (in file order) and their codes (one
        pass over the firms, kept: the sentra's firms are few)."""
        positions: list[NDArray[np.int64]] = [np.empty(0, np.int64)]
        codes: list[NDArray[np.int32]] = [np.empty(0, np.int32)]
        if not len(self.store):  # no firm (a counts file's run)
            return positions[0], codes[0]
        for start, block in self.store.blocks(self.needs):
            code = self.sentra_codes(start, block)
            inside = np.flatnonzero(code >= 0)
            positions.append(start + inside)
            codes.append(code[inside])
        return np.concatenate(positions).astype(np.int64), np.concatenate(codes).astype(np.int32)

    def remember_members(self, positions: NDArray[np.int64], codes: NDArray[np.int32]) -> None:
        """Keep the firms in a sentra found by another pass over the blocks (the profile
        step's one read, :mod:`~.firm_scan`) as :attr:`members`, which is then not read
        again.

        Parameters
        ----------
        positions, codes
            As :attr:`members` gives them.
        """
        self.__dict__["members"] = (
            np.asarray(positions, dtype=np.int64),
            np.asarray(codes, dtype=np.int32),
        )


class LazyFirms:
    """The firms' frame some steps read (area, sector, sizes, coordinates and the run's
    columns, by position), made when a step first asks for it: the steps of a registry
    above ``model.max_firms`` firms work block by block and never ask.

    Parameters
    ----------
    make
        Makes the frame (read from the store).
    size
        How many firms the frame has (known without making it).
    """

    def __init__(self, make: Callable[[], pd.DataFrame], size: int) -> None:
        self._make: Callable[[], pd.DataFrame] | None = make
        self._frame: pd.DataFrame | None = None
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getstate__(self) -> dict[str, Any]:
        # sent to a child process (the workbook, the figures): the frame if it was made,
        # never the function that makes it (a closure over the run's steps)
        return {"_frame": self._frame, "_make": None, "size": self.size}

    @property
    def made(self) -> bool:
        """Whether a step asked for the frame."""
        return self._frame is not None

    def get(self) -> pd.DataFrame:
        """The frame (made on the first call)."""
        if self._frame is None:
            assert self._make is not None
            logger.info("reading the %d firms' columns as one frame", self.size)
            self._frame, self._make = self._make(), None
        return self._frame


def frame_of(firms: pd.DataFrame | LazyFirms) -> pd.DataFrame:
    """The frame of some firms.

    Parameters
    ----------
    firms
        A frame, or a :class:`LazyFirms` (made now).
    """
    return firms.get() if isinstance(firms, LazyFirms) else firms


def _colocated(
    colocated: tuple[NDArray[np.int64], pd.Categorical], start: int, n: int
) -> pd.Categorical:
    """The ``colocated_with`` of the firms at positions ``start`` to ``start + n``."""
    positions, related = colocated
    lo, hi = np.searchsorted(positions, [start, start + n])
    codes = np.full(n, -1, dtype=np.int32)
    codes[positions[lo:hi] - start] = np.asarray(related.codes[lo:hi], dtype=np.int32)
    return pd.Categorical.from_codes(codes, categories=related.categories)


def _h3(block: pa.Table, resolution: int) -> NDArray[np.object_]:
    """The H3 cell of each firm with a point (None without)."""
    lon = np.asarray(block.column("lon").to_numpy(zero_copy_only=False), dtype=np.float64)
    lat = np.asarray(block.column("lat").to_numpy(zero_copy_only=False), dtype=np.float64)
    cells = np.full(len(lon), None, dtype=object)
    found = np.isfinite(lon) & np.isfinite(lat)
    if found.any():
        cells[found] = aggregate.h3_cells(lat[found], lon[found], resolution)
    return cells
