"""Decoders of what the map pages ship, written from the formats' definitions rather than
from the page's script or :mod:`klastergeo.publish.maps`, so tests compare two
implementations."""

from __future__ import annotations

import numpy as np


def varints(text: str) -> list[int]:
    """The polyline-style integers of ``maps.varint_text``: five bits a character, 32
    set when more characters follow, offset 63."""
    out, value, shift = [], 0, 0
    for char in text:
        c = ord(char) - 63
        value += (c & 31) << shift
        if c & 32:
            shift += 5
        else:
            out.append(value)
            value, shift = 0, 0
    return out


def unzig(v: np.ndarray) -> np.ndarray:
    """Zigzag-decoded integers (0, 1, 2, 3 ... -> 0, -1, 1, -2 ...)."""
    return np.where(v % 2 == 1, -(v + 1) // 2, v // 2)
