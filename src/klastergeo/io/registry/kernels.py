"""Compiled loops over Arrow text (numba, cached on disk): the common case of a check
read in one pass over the bytes, where a chain of Arrow regular expressions would pass
over the column a dozen times.

- :func:`decimals` reads a plain decimal number with at most one mark (``-7.710251``,
  ``-7,710251``, ``110``), blanks around it, as :mod:`klastergeo.io.registry.coordinates`
  reads it. Values with more digits than a double holds exactly, or of any other form,
  are left to the callers' general path.
- :func:`hash_text` gives each value a 64-bit hash (the duplicate keys of a batch).

Both are exact where they answer: a decimal of at most 15 digits is an integer below
2**53 divided by a power of ten below 10**23, both exact doubles, so the one rounded
division is the correctly rounded value, the value Arrow's cast (and ``float()``) gives.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit
from numpy.typing import NDArray

__all__ = ["decimals", "hash_text"]

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


@njit(cache=True, nogil=True)
def _decimals(
    offsets: NDArray[np.int64],
    data: NDArray[np.uint8],
    valid: NDArray[np.bool_],
    powers: NDArray[np.float64],
    values: NDArray[np.float64],
    mark: NDArray[np.int8],
) -> None:  # pragma: no cover - compiled; tested through decimals
    """``values[i]`` and ``mark[i]`` (0 none, 1 a point, 2 a comma) where value i is
    ``[+-]?\\d+([.,]\\d+)?`` between ASCII blanks (space, tab, CR, LF), with at most
    MAX_DIGITS digits; ``mark[i] = -1`` elsewhere."""
    for i in range(len(values)):
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
        negative = False
        if s < e and (data[s] == 43 or data[s] == 45):
            negative = data[s] == 45
            s += 1
        whole, fraction, seen, number, good = 0, 0, 0, 0, True
        for j in range(s, e):
            c = data[j]
            if 48 <= c <= 57:
                number = number * 10 + (c - 48)
                if seen:
                    fraction += 1
                else:
                    whole += 1
            elif (c == 46 or c == 44) and seen == 0:
                seen = 1 if c == 46 else 2
            else:
                good = False
                break
        if not good or whole == 0 or (seen and fraction == 0) or whole + fraction > 15:
            continue
        value = number / powers[fraction]
        values[i] = -value if negative else value
        mark[i] = seen


def decimals(text: pa.Array) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    """Plain decimal numbers of a text column, read in one pass.

    Parameters
    ----------
    text
        Arrow ``string`` or ``large_string`` values (nulls allowed).

    Returns
    -------
    tuple
        ``(values, mark)``: each value (NaN where not read) and its mark: 0 for none,
        1 a decimal point, 2 a decimal comma, -1 where the value is not of this form
        (blank, null, words, groups, exponents, more than :data:`MAX_DIGITS` digits).

    Examples
    --------
    >>> values, mark = decimals(pa.array([" -7,75", "110.5", "12", "1.234.5", None, ""]))
    >>> values.tolist()[:3], mark.tolist()
    ([-7.75, 110.5, 12.0], [2, 1, 0, -1, -1, -1])
    """
    offsets, data, valid = _buffers(text)
    values = np.full(len(valid), np.nan)
    mark = np.empty(len(valid), dtype=np.int8)
    _decimals(offsets, data, valid, _POWERS, values, mark)
    return values, mark


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
