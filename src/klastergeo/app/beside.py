"""Work a run hands to a child process while it goes on: the report's figures are drawn
beside the map and the output files (matplotlib holds the interpreter's lock while it
draws, so a thread would not run them side by side).

The child is a fresh interpreter (``python -m klastergeo.app.beside``), not a fork: no
lock of the run's threads (rich's progress display, numba's or Arrow's pools) is copied
into it half taken, and, unlike :mod:`multiprocessing`'s ``spawn``, it never runs the
caller's ``__main__`` again (a user's script without an ``if __name__ == "__main__"``
guard would start a second run). It reads the call (pickled) on its standard input and
writes the outcome on its standard output; its log records and warnings are handed back
and re-issued in the run's process when the result is collected, so they reach the
run's log and pytest's filters as if the work had run inline. A child that dies
(killed, out of memory) is replaced by the work run inline; a run that stops before
collecting the result stops the child.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO, Generic, TypeVar

__all__ = ["Beside", "KeptRecords", "outcome_here", "spare_cores"]

logger = logging.getLogger(__name__)

#: The name of the thread that sends a call to its child.
SENDER = "klastergeo-beside-sender"

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
    later
        Keyword arguments of ``fn`` given as functions of no argument, called (and their
        values pickled) by the thread that posts the call: a value still being computed
        (the outlines dissolved in a thread) does not hold the run up.

    Examples
    --------
    >>> work = Beside(sum, [1, 2, 3], inline=True)
    >>> work.result()
    6
    """

    def __init__(
        self,
        fn: Callable[..., T],
        /,
        *args: Any,
        inline: bool = False,
        later: Mapping[str, Callable[[], Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        self._call = (fn, args, kwargs)
        self._later = dict(later or {})
        self._process: subprocess.Popen[bytes] | None = None
        if inline or not spare_cores():
            return
        # Pickled here, as the inputs are now (the run goes on with them once this
        # returns), and written from a thread: a pipe takes 64 kB until the child, still
        # importing, reads.
        head = pickle.dumps((sys.path, logging.getLogger().getEffectiveLevel()))
        call = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        # the child finds klastergeo (and the callers' modules) where this process does
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self._process.stdin is not None
        post = (self._process.stdin, [head, call], self._later)
        del head, call  # the thread's list holds them until they are written
        threading.Thread(target=_post, args=post, name=SENDER, daemon=True).start()

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (None inline or once collected)."""
        return None if self._process is None else self._process.pid

    def result(self) -> T:
        """The value of the call; the child's log records and warnings re-issued here, its
        exception raised here."""
        fn, args, kwargs = self._call
        if self._process is None:
            return fn(*args, **kwargs, **{k: f() for k, f in self._later.items()})
        process, self._process = self._process, None
        assert process.stdout is not None
        try:
            message = pickle.load(process.stdout)
        except (EOFError, pickle.UnpicklingError):  # it died (killed, out of memory)
            process.wait()
            logger.warning(
                "the child process computing %s stopped (exit code %s): computed here",
                getattr(fn, "__name__", "its work"),
                process.returncode,
            )
            return fn(*args, **kwargs, **{k: f() for k, f in self._later.items()})
        finally:
            process.stdout.close()
        process.wait()
        return outcome_here(*message)

    def cancel(self) -> None:
        """Stop the child if it still runs (a run that stopped before its result)."""
        if self._process is not None:
            process, self._process = self._process, None
            process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()

    def __enter__(self) -> Beside[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


def _post(stdin: BinaryIO, data: list[bytes], later: dict[str, Callable[[], Any]]) -> None:
    """Write the pickled call to the child (``data``, emptied as it is written: the
    bytes of a large call are freed while the ``later`` arguments are computed), then
    the ``later`` arguments once computed (a child that died leaves them unread)."""
    try:
        while data:
            stdin.write(data.pop(0))
        stdin.flush()
        values: dict[str, Any] = {}
        try:
            values = {name: f() for name, f in later.items()}
        except Exception as err:  # the child raises it as the call's error
            values = {"": err}
        stdin.write(pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:  # the child is gone: result() computes inline
        pass
    finally:  # closed even when the child is gone (an open pipe warns when collected)
        with contextlib.suppress(OSError):
            stdin.close()


def outcome_here(
    outcome: str,
    value: Any,
    records: list[logging.LogRecord],
    caught: list[warnings.WarningMessage],
) -> Any:
    """What a child process handed back, taken here: its log records and warnings
    re-issued (they reach the run's log and pytest's filters as if the work had run
    here), then its value returned or, for ``outcome == "error"``, its error raised.

    Parameters
    ----------
    outcome
        ``"ok"`` or ``"error"``.
    value
        The work's value, or its exception.
    records
        Its log records (:class:`KeptRecords`).
    caught
        Its warnings.
    """
    for record in records:
        logging.getLogger(record.name).handle(record)
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    if outcome == "error":
        raise value
    return value


class KeptRecords(logging.Handler):
    """Keeps a child process's log records to hand them to the run's process
    (:func:`outcome_here`)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None  # arguments may not pickle
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self.records.append(record)


def _serve() -> None:
    """The child: read the call, run it, write the outcome (the value or the error, the
    log records and the warnings)."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what the work prints goes to the run's standard error, not the outcome
    sys.stdout = sys.stderr
    source = sys.stdin.buffer
    path, level = pickle.load(source)
    sys.path[:] = path
    kept = KeptRecords()
    root = logging.getLogger()
    root.handlers[:] = [kept]
    root.setLevel(level)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn, args, kwargs = pickle.load(source)
            values = pickle.load(source)
            if "" in values:  # computing a later argument failed
                raise values[""]
            value, outcome = fn(*args, **kwargs, **values), "ok"
        except BaseException as err:  # the run's process raises it
            value, outcome = err, "error"
    shown = [warnings.WarningMessage(w.message, w.category, w.filename, w.lineno) for w in caught]
    try:
        data = pickle.dumps((outcome, value, kept.records, shown))
    except Exception as err:  # an exception that does not pickle: its text does
        problem = RuntimeError(f"{type(value).__name__}: {value} ({err})")
        data = pickle.dumps(("error", problem, kept.records, []))
    out.write(data)
    out.close()


if __name__ == "__main__":
    _serve()
