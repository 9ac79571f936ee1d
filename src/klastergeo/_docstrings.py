"""Docstring pieces shared by several public functions, filled in at import.

A docstring holds a line with only ``{name}`` where the piece ``name`` goes; :func:`fill`
puts the piece there with that line's indentation (as pandas' ``@doc`` and matplotlib's
``_docstring.interpd`` do), so a parameter documented for several functions is written
once and cannot drift between them.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import TypeVar

__all__ = ["fill"]

_F = TypeVar("_F", bound=Callable[..., object])


def fill(**pieces: str) -> Callable[[_F], _F]:
    """Decorator replacing each ``{name}`` line of a docstring by ``pieces[name]``.

    Parameters
    ----------
    **pieces
        Text of each piece (dedented here; its first line goes at the marker's indentation,
        the others keep their relative indentation).

    Returns
    -------
    The decorator; it raises ``RuntimeError`` at import when a marker or a piece is unused.

    Examples
    --------
    >>> @fill(common="x\\n    The value.")
    ... def f(x):
    ...     '''Do nothing.
    ...
    ...     Parameters
    ...     ----------
    ...     {common}
    ...     '''
    >>> print(f.__doc__.strip())
    Do nothing.
    <BLANKLINE>
        Parameters
        ----------
        x
            The value.
    """

    def decorate(func: _F) -> _F:
        doc = func.__doc__ or ""
        used: set[str] = set()

        def replace(match: re.Match[str]) -> str:
            indent, name = match.group(1), match.group(2)
            if name not in pieces:
                raise RuntimeError(f"{func.__qualname__}: no docstring piece {name!r}")
            used.add(name)
            text = textwrap.dedent(pieces[name]).strip("\n")
            return textwrap.indent(text, indent, lambda line: bool(line.strip()))

        func.__doc__ = re.sub(r"(?m)^([ \t]*)\{(\w+)\}[ \t]*$", replace, doc)
        if unused := set(pieces) - used:
            raise RuntimeError(f"{func.__qualname__}: unused docstring pieces {sorted(unused)}")
        return func

    return decorate
