"""The few exceptions klastergeo raises for bad input.

Every one is a ``ValueError``: the caller gave something the toolkit cannot use. The CLI
maps them to exit code 2; anything else is an internal error (exit code 1). Messages name
the input, the offending value(s) and what is accepted.

- :class:`ConfigError`: an option or configuration value;
- :class:`DataError`: the input data, with :class:`ValidationError` (records),
  :class:`BoundaryError` (boundaries), :class:`StatisticsError` (a statistic undefined for
  the data) and :class:`ModelError` (a regression that cannot be estimated);
- :class:`OutputError`: where outputs go (paths, permissions, a full disk);
- :class:`DownloadError`: fetching boundary sources.

A message is English (``str(err)``: logs, the library). The errors a new user meets first
also carry a catalogue key and the values the message names (``key``, ``params``; parts of
a message built from several are :class:`Phrase`), so that the command line can print them
in the run's language (the catalogue's ``errors`` group); an error without a key is printed
as its English message.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from typing import Any

__all__ = [
    "BoundaryError",
    "ConfigError",
    "DataError",
    "DownloadError",
    "KlastergeoError",
    "ModelError",
    "OutputError",
    "Phrase",
    "StatisticsError",
    "ValidationError",
    "memory_exhausted",
]


class Phrase(str):
    """A part of an error message: its English text (the string itself, so that parts
    join as text do) with its catalogue key and the values it names (text, a
    :class:`Phrase`, an error, or a list of them, joined by ``"; "``).

    Examples
    --------
    >>> part = Phrase("no lat column found", "no_column", {"role": "lat"})
    >>> part + "; more", part.key
    ('no lat column found; more', 'no_column')
    """

    key: str
    params: dict[str, object]

    def __new__(cls, english: str, key: str, params: Mapping[str, object] | None = None) -> Phrase:
        self = super().__new__(cls, english)
        self.key = key
        self.params = dict(params or {})
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Phrase, (str(self), self.key, self.params))


class KlastergeoError(ValueError):
    """Base class: the input (file, option, configuration) cannot be used as given.

    Parameters
    ----------
    *args
        The English message (``str(err)``).
    key
        The message's key in the catalogue's ``errors`` group, if it has one.
    params
        The values the message names, by the catalogue text's placeholders (text, a
        :class:`Phrase`, an error, or a list of them).

    Examples
    --------
    >>> err = ConfigError("config file 'a.toml' does not exist", key="config_missing",
    ...                   params={"path": "'a.toml'"})
    >>> str(err), err.key
    ("config file 'a.toml' does not exist", 'config_missing')
    """

    def __init__(
        self, *args: object, key: str | None = None, params: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(*args)
        self.key = key
        self.params: dict[str, object] = dict(params or {})


class ConfigError(KlastergeoError):
    """An option or configuration value is missing, unknown or out of range."""


class DataError(KlastergeoError):
    """The input data cannot be analysed as given (a column missing, too few points or
    areas, values of the wrong kind); the subclasses say which input."""


class ValidationError(DataError):
    """Records cannot be read, or (with ``strict``) contain rejected rows."""


class BoundaryError(DataError):
    """Boundaries cannot be found or read, or the study area selects nothing."""


class DownloadError(KlastergeoError):
    """A boundary source file could not be fetched or failed its checksum."""


class ModelError(DataError):
    """A regression cannot be estimated with the given outcome and predictors."""


class StatisticsError(DataError):
    """A statistic is not defined for the data given (too few areas, no variation)."""


class OutputError(KlastergeoError):
    """Outputs cannot be written where asked: the path is a file, not writable, holds
    files of something else, is in use by another run, or the disk is full."""


def preview(values: object, limit: int = 5, *, quote: bool = True) -> str:
    """Format the first few offending values for an error message (``quote=False``:
    as plain text, for file names).

    Parameters
    ----------
    values
        The offending values (any iterable; NumPy scalars are shown as the plain values
        they hold).
    limit
        How many to show; the count of all follows when there are more.
    quote
        Show each value as its ``repr`` (True) or as plain text (False).

    Returns
    -------
    The values joined by commas, e.g. ``'a', 'b', ... (7 in all)``.

    Examples
    --------
    >>> preview(["a", "b", "c", "d", "e", "f", "g"])
    "'a', 'b', 'c', 'd', 'e', ... (7 in all)"
    >>> preview(["map.html"], quote=False)
    'map.html'
    """
    items = list(values)  # type: ignore[call-overload]
    # numpy scalars as the plain values they hold (0.0, not np.float64(0.0))
    plain = [v.item() if hasattr(v, "dtype") and hasattr(v, "item") else v for v in items]
    shown = ", ".join((repr if quote else str)(v) for v in plain[:limit])
    if len(items) > limit:
        shown += f", ... ({len(items)} in all)"
    return shown


#: What libraries say when memory runs out without raising MemoryError: a shared
#: library that cannot be mapped (an import under a memory limit), C++'s bad_alloc, a
#: thread whose stack cannot be allocated (a thread pool under a memory limit).
_MEMORY_MARKS = (
    "failed to map segment",
    "Cannot allocate memory",
    "bad_alloc",
    "can't start new thread",
)


def memory_exhausted(err: BaseException) -> bool:
    """Whether ``err`` says the process ran out of memory, whatever its type (so that a
    reader does not call a good file damaged, or a package missing, when it was memory).

    Parameters
    ----------
    err
        The error raised (a ``MemoryError``, an ``OSError`` with ``ENOMEM``, or a library's
        error whose words say that memory could not be had).

    Returns
    -------
    True when the process ran out of memory.

    Examples
    --------
    >>> memory_exhausted(MemoryError()), memory_exhausted(OSError(errno.ENOMEM, "x"))
    (True, True)
    >>> memory_exhausted(ImportError("libgdal.so: failed to map segment from shared object"))
    True
    >>> memory_exhausted(ValueError("not a Parquet file"))
    False
    """
    if isinstance(err, MemoryError):
        return True
    if isinstance(err, OSError) and err.errno == errno.ENOMEM:
        return True
    return any(mark in str(err) for mark in _MEMORY_MARKS)
