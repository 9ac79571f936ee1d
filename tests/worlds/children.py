"""Functions a child process runs in the tests of klastergeo.app.beside (a child
imports what it runs by name, so they live in a module of their own)."""

from __future__ import annotations

import logging
import warnings

from klastergeo.errors import DataError

logger = logging.getLogger(__name__)


def noisy(n: int) -> int:
    """``2 * n``, after logging ``n`` in words and warning once."""
    logger.info("doubling %s", {3: "three"}.get(n, str(n)))
    warnings.warn(f"drawn {n} beside", UserWarning, stacklevel=1)
    return 2 * n


def fails(value: str) -> None:
    """Raises the DataError a bad input raises."""
    raise DataError(f"column 'x' has a {value} value; give numbers")


def joined(first: str, *, second: str) -> str:
    """The two texts, one after the other."""
    return first + second
