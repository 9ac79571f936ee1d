"""Work a run hands to a child process while it goes on: the report's figures are drawn
beside the map and the output files (matplotlib holds the interpreter's lock while it
draws, so a thread would not run them side by side).

The child is started with ``spawn`` (a fresh interpreter: no lock of the run's threads,
rich's progress display, numba's or Arrow's pools, is copied into it half taken, as
``fork`` would). Its log records and warnings are handed back and re-issued in the run's
process when the result is collected, so they reach the run's log and pytest's filters as
if the work had run inline. A child that dies (killed, out of memory) is replaced by the
work run inline; a run that stops before collecting the result terminates the child.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import warnings
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Beside", "spare_cores"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


def spare_cores() -> int:
    """The cores this process may run on besides the one it runs on (0 on one core)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(cores - 1, 0)


class Beside(Generic[T]):
    """``fn(*args, **kwargs)`` in a child process, started now; :meth:`result` waits for
    it. With ``inline=True`` (or no spare core), nothing starts and :meth:`result` calls
    ``fn`` itself.

    Parameters
    ----------
    fn
        A module-level function (the child imports it by name); its arguments and result
        are pickled.
    inline
        Run ``fn`` in this process, when :meth:`result` is called.

    Examples
    --------
    >>> work = Beside(sum, [1, 2, 3], inline=True)
    >>> work.result()
    6
    """

    def __init__(
        self, fn: Callable[..., T], /, *args: Any, inline: bool = False, **kwargs: Any
    ) -> None:
        self._call = (fn, args, kwargs)
        self._process: Any = None
        self._inbox: Any = None
        if inline or not spare_cores():
            return
        context = multiprocessing.get_context("spawn")
        self._inbox, outbox = context.Pipe(duplex=False)
        level = logging.getLogger().getEffectiveLevel()
        self._process = context.Process(
            target=_child, args=(outbox, fn, args, kwargs, level), daemon=True
        )
        self._process.start()
        outbox.close()  # the child holds the sending end: its death ends our reading

    def result(self) -> T:
        """The value of the call; the child's log records and warnings re-issued here, its
        exception raised here."""
        fn, args, kwargs = self._call
        if self._process is None:
            return fn(*args, **kwargs)
        try:
            message = self._inbox.recv()
        except EOFError:  # the child died without a word (killed, out of memory)
            self._process.join()
            logger.warning(
                "the child process drawing %s stopped (exit code %s): drawn here instead",
                getattr(fn, "__name__", "its work"),
                self._process.exitcode,
            )
            self._process = None
            return fn(*args, **kwargs)
        finally:
            self._inbox.close()
        self._process.join()
        self._process = None
        outcome, value, records, caught = message
        for record in records:
            logging.getLogger(record.name).handle(record)
        for warning in caught:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
        if outcome == "error":
            raise value
        return value

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (None inline or once collected)."""
        return None if self._process is None else int(self._process.pid)

    def cancel(self) -> None:
        """Stop the child if it still runs (a run that stopped before its result)."""
        if self._process is not None:
            self._process.terminate()
            self._process.join()
            self._inbox.close()
            self._process = None

    def __enter__(self) -> Beside[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


class _Kept(logging.Handler):
    """Keeps the child's log records to send them to the run's process."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None  # arguments may not pickle
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self.records.append(record)


def _child(outbox: Any, fn: Callable[..., Any], args: Any, kwargs: Any, level: int) -> None:
    """The child's work: the call, its records and warnings, sent whole or as an error."""
    kept = _Kept()
    root = logging.getLogger()
    root.handlers[:] = [kept]
    root.setLevel(level)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value, outcome = fn(*args, **kwargs), "ok"
        except BaseException as err:  # the run's process raises it
            value, outcome = err, "error"
    shown = [warnings.WarningMessage(w.message, w.category, w.filename, w.lineno) for w in caught]
    try:
        outbox.send((outcome, value, kept.records, shown))
    except Exception as err:  # an exception that does not pickle: its text does
        outbox.send(("error", RuntimeError(f"{type(value).__name__}: {value} ({err})"), [], []))
    outbox.close()
