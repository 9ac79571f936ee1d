"""Compiled loops over Arrow text (numba, cached on disk): the common case of a check
read in one pass over the bytes, where a chain of Arrow regular expressions would pass
over the column a dozen times.

- :func:`scan` and :func:`decimals` read a plain decimal number with at most one mark
  (``-7.710251``, ``-7,710251``, ``110``), blanks around it, as
  :mod:`klastergeo.io.registry.coordinates` and :mod:`klastergeo.io.registry.numbers`
  read it. Values with more digits than a double holds exactly, or of any other form,
  are left to the callers' general path.
- :func:`hash_text` gives each value a 64-bit hash (the duplicate keys of a batch).

Both are exact where they answer: a decimal of at most 15 digits is an integer below
2**53 divided by a power of ten below 10**23, both exact doubles, so the one rounded
division is the correctly rounded value, the value Arrow's cast (and ``float()``) gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numba import njit
from numpy.typing import NDArray

__all__ = ["MAX_DIGITS", "Scanned", "decimals", "hash_text", "scan"]

#: 10**k as exact doubles, k = 0..22.
_POWERS = np.array([10.0**k for k in range(23)])

#: Most digits of a decimal read here (the integer of its digits stays below 2**53).
MAX_DIGITS = 15


def _buffers(
    text: pa.Array,
) -> tuple[NDArray[np.int64], NDArray[np.uint8], NDArray[np.bool_]]:
    """The offsets (as int64), bytes and validity of a string or large_string array."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    n = len(text)
    kind = np.int64 if pa.types.is_large_string(text.type) else np.int32
    _, offsets_buffer, data_buffer = text.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=kind)[text.offset : text.offset + n + 1]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, dtype=np.uint8)
    )
    valid = (
        np.ones(n, dtype=bool)
        if text.null_count == 0
        else np.asarray(text.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    )
    return offsets.astype(np.int64), data, valid


@dataclass(frozen=True)
class Scanned:
    """Plain decimal numbers as written: the integer of the digits, the digits before
    (``whole``) and after (``fraction``) the mark, the ``mark`` (0 none, 1 a point, 2 a
    comma, -1 where the value is not of this form: blank, null, words, groups,
    exponents, more than :data:`MAX_DIGITS` digits) and a minus sign."""

    number: NDArray[np.int64]
    whole: NDArray[np.int8]
    fraction: NDArray[np.int8]
    mark: NDArray[np.int8]
    negative: NDArray[np.bool_]

    def value(self, grouped: NDArray[np.bool_] | None = None) -> NDArray[np.float64]:
        """Each number with its mark read as decimal (where ``grouped``, as grouping
        thousands: the integer of its digits), correctly rounded as Arrow's cast of the
        text reads it: the integer and the power of ten are exact doubles (below 2**53
        and 10**22), so one division rounds once; a minus zero keeps its sign.

        Parameters
        ----------
        grouped
            Values whose mark groups thousands (None: none).
        """
        fraction = self.fraction.astype(np.intp)
        if grouped is not None:
            fraction = np.where(grouped, 0, fraction)
        value = self.number.astype(np.float64) / _POWERS[fraction]
        return np.where(self.negative, -value, value)


@njit(cache=True, nogil=True)
def _scan(
    offsets: NDArray[np.int64],
    data: NDArray[np.uint8],
    valid: NDArray[np.bool_],
    number: NDArray[np.int64],
    whole: NDArray[np.int8],
    fraction: NDArray[np.int8],
    mark: NDArray[np.int8],
    negative: NDArray[np.bool_],
) -> None:  # pragma: no cover - compiled; tested through decimals
    """Where value i is ``[+-]?\\d+([.,]\\d+)?`` between ASCII blanks (space, tab, CR,
    LF) with at most MAX_DIGITS digits: the integer of its digits, how many digits come
    before and after the mark, the mark (0 none, 1 a point, 2 a comma) and a minus sign;
    ``mark[i] = -1`` elsewhere."""
    for i in range(len(mark)):
        mark[i] = -1
        if not valid[i]:
            continue
        s, e = offsets[i], offsets[i + 1]
        while s < e and (data[s] == 32 or data[s] == 9 or data[s] == 10 or data[s] == 13):
            s += 1
        while e > s and (
            data[e - 1] == 32 or data[e - 1] == 9 or data[e - 1] == 10 or data[e - 1] == 13
        ):
            e -= 1
        minus = False
        if s < e and (data[s] == 43 or data[s] == 45):
            minus = data[s] == 45
            s += 1
        before, after, seen, value, good = 0, 0, 0, 0, e - s <= MAX_DIGITS + 1
        for j in range(s, e if good else s):
            c = data[j]
            if 48 <= c <= 57:
                value = value * 10 + (c - 48)
                if seen:
                    after += 1
                else:
                    before += 1
            elif (c == 46 or c == 44) and seen == 0:
                seen = 1 if c == 46 else 2
            else:
                good = False
                break
        if not good or before == 0 or (seen and after == 0) or before + after > MAX_DIGITS:
            continue
        number[i], negative[i] = value, minus
        whole[i], fraction[i], mark[i] = before, after, seen


def scan(text: pa.Array) -> Scanned:
    """Plain decimal numbers of a text column, as written (see :class:`Scanned`).

    Parameters
    ----------
    text
        Arrow ``string`` or ``large_string`` values (nulls allowed).
    """
    offsets, data, valid = _buffers(text)
    n = len(valid)
    out = Scanned(
        number=np.zeros(n, dtype=np.int64),
        whole=np.zeros(n, dtype=np.int8),
        fraction=np.zeros(n, dtype=np.int8),
        mark=np.zeros(n, dtype=np.int8),
        negative=np.zeros(n, dtype=bool),
    )
    _scan(offsets, data, valid, out.number, out.whole, out.fraction, out.mark, out.negative)
    return out


def decimals(text: pa.Array) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    """Plain decimal numbers of a text column, each mark read as decimal.

    Parameters
    ----------
    text
        Arrow ``string`` or ``large_string`` values (nulls allowed).

    Returns
    -------
    tuple
        ``(values, mark)``: each value (NaN where not read) and its mark, as
        :func:`scan` gives it.

    Examples
    --------
    >>> values, mark = decimals(pa.array([" -7,75", "110.5", "12", "1.234.5", None, ""]))
    >>> values.tolist()[:3], mark.tolist()
    ([-7.75, 110.5, 12.0], [2, 1, 0, -1, -1, -1])
    """
    scanned = scan(text)
    return np.where(scanned.mark >= 0, scanned.value(), np.nan), scanned.mark


@njit(cache=True, nogil=True)
def _hash(
    offsets: NDArray[np.int64],
    data: NDArray[np.uint8],
    valid: NDArray[np.bool_],
    out: NDArray[np.uint64],
) -> None:  # pragma: no cover - compiled; tested through hash_text
    """FNV-1a over each value's bytes, then a splitmix64 finaliser; nulls hash apart
    from every text (the empty text included)."""
    for i in range(len(out)):
        h = np.uint64(0xCBF29CE484222325)
        if not valid[i]:
            h = np.uint64(0x9E3779B97F4A7C15)
        else:
            for j in range(offsets[i], offsets[i + 1]):
                h = (h ^ np.uint64(data[j])) * np.uint64(0x100000001B3)
            h ^= np.uint64(offsets[i + 1] - offsets[i])
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        out[i] = h ^ (h >> np.uint64(31))


def hash_text(text: pa.Array) -> NDArray[np.uint64]:
    """A 64-bit hash of each value of a text column (equal texts, equal hashes).

    Parameters
    ----------
    text
        Arrow ``string`` or ``large_string`` values (nulls allowed).

    Returns
    -------
    ndarray
        One ``uint64`` per value.

    Examples
    --------
    >>> h = hash_text(pa.array(["U1", "U2", "U1", None]))
    >>> bool(h[0] == h[2]), bool(h[0] == h[1]), bool(h[3] == h[0])
    (True, False, False)
    """
    offsets, data, valid = _buffers(text)
    out = np.empty(len(valid), dtype=np.uint64)
    _hash(offsets, data, valid, out)
    return out
