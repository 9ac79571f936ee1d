"""Atomic output: a reader sees a run's folder entirely old or entirely new, never a mix.

Single files are written to a temporary sibling and renamed into place (``os.replace`` is
atomic on one file system). A whole run is a :class:`RunFolder`: every output is written
into a hidden staging folder beside the target, and the staging folder then takes the
target's place with *one* rename - on Linux ``renameat2(RENAME_EXCHANGE)`` swaps the two
folders atomically (the way git moves a lock file over a ref), elsewhere the old folder is
moved aside first and restored by the next run if the process dies in between.

The run folder also

- checks the target before any computing (a file, an unwritable parent, a folder holding
  files no klastergeo run wrote, another run writing to it: :class:`OutputError`, exit 2);
- holds an exclusive lock (``.<name>.lock`` beside the target) while it runs;
- removes what killed runs left behind (``.<name>.staging-*``, ``.<name>.old-*``);
- lists every file with its size and SHA-256 in ``summary.json`` (``files``), so the next
  run knows which files are its own and a reader can check a folder is complete;
- turns a full disk, a read-only file system or a denied write into :class:`OutputError`
  naming the file (:func:`output_error`, the one place that does; the errors of GDAL and
  ``shutil`` that stand for such a failure are mapped to it by :func:`environment_cause`).

Every CSV file goes through :func:`write_csv`, which neutralises text a spreadsheet would
run as a formula.

Fault injection (for tests): ``KLASTERGEO_FAULT="N:MODE"`` stops a run at its N-th write
boundary (each file written into the staging folder, then each step of the commit). MODE
``raise`` raises :class:`FaultInjected`, ``exit`` ends the process at once (``os._exit``),
``enospc`` raises the "no space left on device" error a full disk gives.
"""

from __future__ import annotations

import contextvars
import ctypes
import errno
import glob
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from klastergeo.errors import OutputError, Phrase, preview

try:  # POSIX; Windows locks with msvcrt
    import fcntl
except ImportError:  # pragma: no cover - not on the Linux CI
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "FaultInjected",
    "RunFolder",
    "atomic_path",
    "check_output",
    "environment_cause",
    "neutralise_formulas",
    "note",
    "output_error",
    "same_file",
    "write_csv",
    "write_json",
    "write_text",
    "writing",
]

logger = logging.getLogger(__name__)

#: The environment variable of fault injection (see the module docstring).
FAULT_ENV = "KLASTERGEO_FAULT"
#: ``errno`` values that mean "the environment cannot take this", not a bug: a full or
#: read-only disk, a denied write, and paths the system cannot use (too long, a loop of
#: links, a mount point that cannot be renamed, another file system).
STORAGE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.EFBIG,
        errno.ENAMETOOLONG,
        errno.ELOOP,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EBUSY,
        errno.EXDEV,
        errno.ENOENT,
        errno.EIO,
    }
)
MANIFEST = "summary.json"

_ACTIVE: contextvars.ContextVar[RunFolder | None] = contextvars.ContextVar(
    "klastergeo_run_folder", default=None
)


class FaultInjected(BaseException):
    """Raised at a write boundary by ``KLASTERGEO_FAULT="N:raise"`` (tests only).

    A ``BaseException``, like ``KeyboardInterrupt``: nothing in the library may catch it.
    """


def _default_mode() -> int:
    # mkstemp creates files readable by the owner only; outputs are meant to be shared.
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _default_mode()
_DIR_MODE = _FILE_MODE | 0o111 if _FILE_MODE & 0o444 else 0o755


def output_error(
    err: OSError, what: str, *, path: str | os.PathLike[str] | None = None, option: str = "--out"
) -> OutputError:
    """An :class:`OutputError` that names the path, what was being done and why it failed.

    The one place an error of the environment becomes the project's error: the CLI, the
    run folder and the wrappers of GDAL and ``shutil`` (:func:`environment_cause`) all
    come here.

    Parameters
    ----------
    err
        The error; its ``filename`` is the path named, else ``path``.
    what
        What was being done (``"writing the --out folder"``).
    path
        The path to name when ``err`` names none (a full disk met by ``write()`` or by
        Arrow names no file).
    option
        The option that chose the place (``--out``, ``--site``), in the advice.

    Examples
    --------
    >>> err = OSError(errno.ENOSPC, "No space left on device")
    >>> print(output_error(err, "writing the --out folder", path="/data/out/areas.gpkg"))
    cannot write '/data/out/areas.gpkg' (writing the --out folder): No space left on \
device; free some disk space or choose --out on another disk
    """
    where = err.filename or path
    reason = err.strerror or str(err)
    hint, hint_key = {
        errno.ENOSPC: (f"free some disk space or choose {option} on another disk", "hint_space"),
        errno.EDQUOT: (
            f"the disk quota is used up; free space or choose another {option}",
            "hint_quota",
        ),
        errno.EROFS: (f"the file system is read-only; choose a writable {option}", "hint_ro"),
        errno.EACCES: ("you may not write there; choose a folder you can write to", "hint_access"),
        errno.EPERM: ("you may not write there; choose a folder you can write to", "hint_access"),
        errno.EFBIG: ("the file is too large for this file system", "hint_big"),
        errno.ENAMETOOLONG: ("use a shorter path", "hint_long"),
        errno.EBUSY: ("the folder is in use or a mount point; use a folder inside it", "hint_busy"),
        errno.EXDEV: ("use a folder on one disk", "hint_disks"),
        errno.EIO: (
            f"the disk reported an error; check it, or choose {option} on another disk",
            "hint_io",
        ),
    }.get(err.errno or 0, ("check the folder and try again", "hint_check"))
    doing = re.fullmatch(r"(checking|preparing|writing|committing) the (\S+) folder", what)
    named = {
        "path": repr(os.fsdecode(where)) if where is not None else "",
        "what": Phrase(what, _DOING[doing[1]], {"folder": doing[2]}) if doing else what,
        "why": Phrase(reason, _WHY[err.errno]) if err.errno in _WHY else reason,
        "hint": Phrase(hint, hint_key, {"option": option}),
    }
    if where is None:
        return OutputError(
            f"cannot finish {what}: {reason}; {hint}", key="output_unfinished", params=named
        )
    return OutputError(
        f"cannot write {os.fsdecode(where)!r} ({what}): {reason}; {hint}",
        key="output_unwritable",
        params=named,
    )


#: What was being done when an output could not be written, by its first word.
_DOING = {
    "checking": "doing_checking",
    "preparing": "doing_preparing",
    "writing": "doing_writing",
    "committing": "doing_committing",
}

#: The system's reasons a write fails, by ``errno`` (others are the system's words).
_WHY = {
    errno.ENOENT: "why_enoent",
    errno.EACCES: "why_eacces",
    errno.EPERM: "why_eperm",
    errno.ENOSPC: "why_enospc",
    errno.EROFS: "why_erofs",
    errno.ENOTDIR: "why_enotdir",
    errno.EEXIST: "why_eexist",
}


#: What GDAL (and SQLite under it) says when the environment fails a write, and the
#: ``errno`` it stands for. GDAL's errors carry no ``errno``, only these words.
_GDAL_CAUSES = (
    (re.compile(r"no space left on device|database or disk is full", re.I), errno.ENOSPC),
    (re.compile(r"disk quota exceeded", re.I), errno.EDQUOT),
    (re.compile(r"read-only file system|readonly database", re.I), errno.EROFS),
    (re.compile(r"permission denied", re.I), errno.EACCES),
    (re.compile(r"file too large", re.I), errno.EFBIG),
    (re.compile(r"disk I/O error|failed to commit transaction", re.I), errno.EIO),
)
_ERRNO_TEXT = re.compile(r"\[Errno (\d+)\]")
#: Free bytes below which a disk counts as full when GDAL fails without saying why (it
#: then reports what failed next: "no such table: gpkg_contents", "cannot rollback").
LOW_SPACE = 1 << 20


def _free_bytes(path: str | os.PathLike[str]) -> int | None:
    """Bytes free to this user on the file system of ``path`` (its nearest existing
    folder); None if it cannot be asked."""
    folder = Path(path)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):  # statvfs is POSIX
        return None
    return stats.f_bavail * stats.f_frsize


def environment_cause(
    err: BaseException, path: str | os.PathLike[str] | None = None
) -> OSError | None:
    """The error of the environment (a full or read-only disk, a denied write) that a
    library's error while writing ``path`` stands for, as an ``OSError`` with its
    ``errno`` and file name; None when it is not one (then it is a bug, and stays one).

    - an ``OSError`` with a storage ``errno`` (:data:`STORAGE_ERRNOS`) is itself (named
      ``path`` when it names no file, as Arrow's and ``write()``'s do not);
    - ``shutil.Error`` (``copytree`` gathers the error of every file) stands for the
      first of its errors;
    - GDAL's errors (pyogrio's ``DataSourceError``, ``FeatureError``...) carry no
      ``errno``; their words say it (``database or disk is full``, ``Permission
      denied``; a transaction GDAL could not commit is an I/O error, ``EIO``), and a
      disk with less than :data:`LOW_SPACE` free is full whatever GDAL said (it often
      reports what failed next, ``no such table: gpkg_contents``).

    Parameters
    ----------
    err
        The error a library raised while writing.
    path
        The file being written (named in the result when the error names none).

    Returns
    -------
    The ``OSError`` of the environment, or None.

    Examples
    --------
    >>> import shutil
    >>> err = shutil.Error([("a.png", "site/a.png", "[Errno 28] No space left on device")])
    >>> environment_cause(err).errno == errno.ENOSPC
    True
    >>> environment_cause(ValueError("a bug")) is None
    True
    """
    if isinstance(err, shutil.Error):
        for entry in err.args[0] if err.args and isinstance(err.args[0], list) else []:
            if not (isinstance(entry, tuple) and len(entry) == 3):
                continue
            _, target, why = entry
            match = _ERRNO_TEXT.search(str(why))
            if match and int(match.group(1)) in STORAGE_ERRNOS:
                number = int(match.group(1))
                return OSError(number, os.strerror(number), str(target))
        return None
    if isinstance(err, OSError):
        if err.errno not in STORAGE_ERRNOS:
            return None
        if err.filename is None and path is not None:
            err.filename = os.fspath(path)
        return err
    if type(err).__module__.split(".")[0] != "pyogrio":
        return None
    text = str(err)
    code: int | None = next((c for pattern, c in _GDAL_CAUSES if pattern.search(text)), None)
    if code in (None, errno.EIO) and path is not None:
        free = _free_bytes(path)
        if free is not None and free < LOW_SPACE:
            code = errno.ENOSPC
    if code is None:
        return None
    logger.info("GDAL's error writing %s taken for %s: %s", path, os.strerror(code), text)
    reason = os.strerror(code)
    if code == errno.EIO:  # GDAL's words say more than "Input/output error"
        reason = f"GDAL: {text.strip().splitlines()[-1][:200]}"
    return OSError(code, reason, None if path is None else os.fspath(path))


@contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Errors of the environment while writing ``path`` as ``OSError`` naming ``path``
    (:func:`environment_cause`), which the run folder and the CLI turn into an
    :class:`OutputError` (:func:`output_error`); any other error passes unchanged.

    Parameters
    ----------
    path
        The file the block writes (as it will be named in the message).

    Yields
    ------
    Nothing; errors raised in the block are translated.

    Examples
    --------
    >>> with writing("out/areas.gpkg"):
    ...     raise OSError(errno.ENOSPC, "No space left on device")
    Traceback (most recent call last):
    OSError: [Errno 28] No space left on device: 'out/areas.gpkg'
    """
    try:
        yield
    except BaseException as err:
        cause = environment_cause(err, path) if isinstance(err, Exception) else None
        if cause is None or cause is err:
            raise
        raise cause from err


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    Parameters
    ----------
    path
        The file to write; it is replaced only when the block ends without an error
        (else the temporary file is removed and ``path`` is as it was).

    Yields
    ------
    The temporary path to write to, in the same folder as ``path``.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "a.csv"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("x")
    ...     target.exists()
    False
    >>> target.read_text()
    'x'
    """
    target = Path(path)
    try:
        with writing(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            os.close(fd)
    except OSError as err:
        _name_target(err, target)
        raise
    tmp = Path(name)
    try:
        with writing(target):
            yield tmp
            tmp.chmod(_FILE_MODE)
            tmp.replace(target)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError):
            _name_target(err, target)
        raise
    folder = _ACTIVE.get()
    if folder is not None:
        folder.written(target)


def note(file: str, text: str) -> None:
    """Say that writing ``file`` changed something to make it fit its format (a column
    renamed for a GeoPackage, a cell cut for Excel): logged as a warning and, during a run,
    listed in its ``summary.json`` (``output_notes``, with the file's name).

    Parameters
    ----------
    file
        The file's name (``results.xlsx``).
    text
        What was changed and where.
    """
    logger.warning("%s: %s", file, text)
    folder = _ACTIVE.get()
    if folder is not None:
        folder.notes.append({"file": file, "note": text})


def _name_target(err: OSError, target: Path) -> None:
    """Name ``target`` in an error about its temporary sibling (or about no file): the
    user knows the file, not the temporary name it was written under."""
    name = err.filename
    if name is None or Path(os.fsdecode(name)).name.startswith(f".{target.name}."):
        err.filename = str(target)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) atomically.

    Parameters
    ----------
    path
        The file to write (replaced in one rename, :func:`atomic_path`).
    text
        Its content.

    Returns
    -------
    ``path``.
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


#: CSV styles by ``[output] csv_locale``: field separator and decimal mark. ``id`` is
#: what Excel in an Indonesian locale (decimal comma, list separator ``;``) opens as
#: columns and numbers.
CSV_STYLES = {"en": (",", "."), "id": (";", ",")}

#: The first characters by which a spreadsheet takes a cell for a formula, as OWASP's
#: "CSV Injection" lists them: ``=``, ``+``, ``-``, ``@``, tab and carriage return.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA = re.compile("[" + re.escape("".join(FORMULA_START)) + "]")
#: Text that is a number (``-7.5``, ``+62812``, ``-7,5``, ``-1e5``, ``-12%``): a
#: spreadsheet reads it as the number, so it stays as it is.
_NUMBER = re.compile(r"[+-]?(?:\d[\d.,]*|[.,]\d[\d.,]*)(?:[eE][+-]?\d+)?%?")
#: A lone sign, as registries write "nothing" (``-``): a spreadsheet shows it as text.
_PLAIN = re.compile(r"[+-]|" + _NUMBER.pattern)


def _neutral_values(values: Any) -> Any:
    """``values`` (a Series or Index) with every text cell a spreadsheet would run as a
    formula prefixed with ``'``; None when there is none (nothing is copied)."""
    import pandas as pd

    if isinstance(values.dtype, pd.CategoricalDtype):
        if _neutral_values(pd.Series(values.dtype.categories)) is None:
            return None
        values = values.astype(object)
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return None
    series = pd.Series(values, copy=False)
    try:
        matched = series.str.match(_FORMULA)
    except AttributeError:  # an object column without text (lists, bytes, numbers)
        return None
    risky = matched.eq(True).to_numpy(dtype=bool, na_value=False, copy=True)  # NA: not text
    if not risky.any():
        return None
    numbers = series[risky].str.fullmatch(_PLAIN).eq(True).to_numpy(dtype=bool, na_value=False)
    risky[risky] = ~numbers
    if not risky.any():
        return None
    fixed = series.astype(object)  # a copy: the caller's frame is never changed
    fixed[risky] = "'" + series[risky].astype(str)
    return fixed if isinstance(values, pd.Series) else pd.Index(fixed, name=values.name)


def neutralise_formulas(frame: Any, *, index: bool = False) -> Any:
    """``frame`` with text a spreadsheet would run as a formula made plain text.

    A cell (or a column name) that starts with one of :data:`FORMULA_START` is prefixed
    with ``'``, as OWASP recommends against CSV injection, so that Excel and LibreOffice
    show ``=cmd|' /C calc'!A0`` instead of running it. Text that is a number (``-7.5``,
    ``+62812``) stays as it is: the spreadsheet reads it as that number; so does a lone
    ``-`` or ``+`` (a registry's "nothing"), which it shows as text. Numeric columns
    are never touched. The frame is returned as it is when nothing needs a prefix.

    Parameters
    ----------
    frame
        The table to write.
    index
        Whether its index is written too (its values and names are then neutralised).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"name": ["=cmd|' /C calc'!A0", "-7.5", "@SUM(A1)", "UD Jati", "-"]})
    >>> neutralise_formulas(frame)["name"].tolist()
    ["'=cmd|' /C calc'!A0", '-7.5', "'@SUM(A1)", 'UD Jati', '-']
    """
    import pandas as pd

    out = frame
    for position in range(frame.shape[1]):
        fixed = _neutral_values(frame.iloc[:, position])
        if fixed is not None:
            if out is frame:
                out = frame.copy(deep=False)
            out.isetitem(position, fixed.to_numpy())
    names = _neutral_values(pd.Index(frame.columns.astype(object), dtype=object))
    if names is not None and not isinstance(frame.columns, pd.MultiIndex):
        out = out.copy(deep=False) if out is frame else out
        out.columns = names
    if index:
        levels = [frame.index.get_level_values(i) for i in range(frame.index.nlevels)]
        fixed_levels = [_neutral_values(level) for level in levels]
        index_names = _neutral_values(pd.Index(list(frame.index.names), dtype=object))
        if any(f is not None for f in fixed_levels) or index_names is not None:
            out = out.copy(deep=False) if out is frame else out
            arrays = [
                f if f is not None else level for f, level in zip(fixed_levels, levels, strict=True)
            ]
            new_names = list(index_names) if index_names is not None else frame.index.names
            out.index = (
                pd.MultiIndex.from_arrays(arrays, names=new_names)
                if frame.index.nlevels > 1
                else pd.Index(arrays[0], name=new_names[0])
            )
    return out


def write_csv(
    frame: Any,
    path: str | os.PathLike[str],
    *,
    index: bool = False,
    locale: str = "en",
    sep: str | None = None,
    bom: bool | None = None,
) -> Path:
    """Write a DataFrame as UTF-8 CSV atomically, in the style of ``locale``
    (:data:`CSV_STYLES`); text holding the separator is quoted. The ``id`` style starts
    with a byte-order mark, by which Excel knows the file is UTF-8 (a village name with
    an accent stays whole).

    Every CSV file klastergeo writes goes through here, so that none carries a formula
    into a spreadsheet: text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return (and is not a number) is prefixed with ``'`` (:func:`neutralise_formulas`).
    Rows end with CRLF, as RFC 4180 has them, so that a text holding a carriage return
    is quoted and stays in its row.

    Parameters
    ----------
    frame
        The table.
    path
        The file, replaced only once written whole.
    index
        Write the index as columns too.
    locale
        ``"en"`` (``,`` and a decimal point) or ``"id"`` (``;``, a decimal comma and a
        byte-order mark).
    sep
        Another field separator than the locale's (the demo's registry: ``;`` with a
        decimal point).
    bom
        Start with a byte-order mark; default: with the ``id`` style only.
    """
    style_sep, decimal = CSV_STYLES[locale]
    encoding = "utf-8-sig" if (locale == "id" if bom is None else bom) else "utf-8"
    safe = neutralise_formulas(frame, index=index)
    with atomic_path(path) as tmp:
        # rows end with CRLF (RFC 4180), so that a text holding a lone carriage return is
        # quoted: with "\n" alone, the csv module writes it bare and every reader
        # (pandas, Excel) starts a new row there
        safe.to_csv(
            tmp,
            index=index,
            encoding=encoding,
            sep=sep or style_sep,
            decimal=decimal,
            lineterminator="\r\n",
        )
    return Path(path)


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as indented JSON atomically.

    Parameters
    ----------
    path
        The file to write (replaced in one rename, :func:`atomic_path`).
    data
        What to write: JSON types; any other value is written as its ``str()``.

    Returns
    -------
    ``path``.
    """
    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
        os.fsync(handle.fileno())  # the bytes are on disk before the folder is swapped in
    return digest.hexdigest()


def _entries(folder: Path) -> list[str]:
    """Every file, folder and link below ``folder`` (links are not followed), relative."""
    out = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        base = Path(root).relative_to(folder)
        out += [(base / d).as_posix() for d in dirs]
        out += [(base / f).as_posix() for f in files]
    return sorted(out)


def same_file(path: Path, entry: Any) -> bool:
    """Whether ``path`` is still the file a manifest entry describes.

    Parameters
    ----------
    path
        The file as it is now.
    entry
        Its entry in a run's file manifest (``bytes`` and ``sha256``).
    """
    if path.is_symlink() or not path.is_file() or not isinstance(entry, dict):
        return False
    if path.stat().st_size != entry.get("bytes"):
        return False
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == entry.get("sha256")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a directory; the rename still holds
        pass
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically (Linux ``renameat2``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        rename = libc.renameat2
    except (OSError, AttributeError):
        return False
    rename.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if rename(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _try_lock(fd: int) -> bool:
    """Take an exclusive lock on ``fd`` without waiting; False if another process has it."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    import msvcrt  # pragma: no cover - Windows

    try:  # pragma: no cover
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:  # pragma: no cover
        return False
    return True  # pragma: no cover


def _version() -> str:
    from klastergeo import __version__

    return __version__


def _fault_spec() -> tuple[int, str] | None:
    text = os.environ.get(FAULT_ENV)
    if not text:
        return None
    count, _, mode = text.partition(":")
    return int(count), mode or "raise"


def check_output(target: str | os.PathLike[str], *, what: str = "--out") -> None:
    """Raise :class:`OutputError` now if ``target`` cannot take a run's outputs (a file,
    an unwritable parent, files no klastergeo run wrote); :class:`RunFolder` checks the
    same when it is entered.

    Parameters
    ----------
    target
        The folder a run would write (new, empty, or an earlier run's as it wrote it).
    what
        How the folder is named in the message (``--out``, ``--site``).
    """
    folder = RunFolder(target, what=what)
    try:
        folder._check_target()
        folder._check_foreign()
    except OSError as err:
        raise output_error(
            err, f"checking the {what} folder", path=folder.target, option=what
        ) from err


_SCRATCH = ".scratch"


class RunFolder:
    """A run's output folder, staged beside ``target`` and swapped in whole.

    Use as a context manager around the whole run: entering checks the target and takes
    the lock (so an unusable ``--out`` fails before any computing), files are written below
    :attr:`path`, and :meth:`commit` makes them the target's content in one rename. Leaving
    without a commit (an error, Ctrl-C, SIGTERM) removes the staging folder and leaves the
    target exactly as it was.

    Parameters
    ----------
    target
        The output folder (created if missing). It must be empty, missing, or a folder an
        earlier klastergeo run wrote (its ``summary.json`` lists every file); anything else
        is refused so that no file of the user's is ever replaced.
    what
        What the folder is for, in messages (``"--out"``, ``"--site"``).
    kind
        What writes the folder (``"run"``, ``"validate"``, ``"model"``, ``"site"``,
        ``"rejected"``), recorded in ``summary.json``: a folder is replaced only by the
        same kind of output, so ``validate`` never replaces a run's map and sentra.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "out"
    >>> with RunFolder(out) as folder:
    ...     _ = write_text(folder.path / "report.html", "<p>hello</p>")
    ...     files = folder.commit({"status": "complete"})
    >>> sorted(p.name for p in out.iterdir())
    ['report.html', 'summary.json']
    """

    def __init__(
        self, target: str | os.PathLike[str], *, what: str = "--out", kind: str = "run"
    ) -> None:
        path = Path(target).expanduser()
        try:
            if path.is_symlink() and path.resolve().is_dir():
                path = path.resolve()  # swap the folder the link points to, keep the link
        except OSError as err:
            raise output_error(err, f"checking the {what} folder", path=path, option=what) from err
        self.target = path.absolute()
        self.what = what
        self.kind = kind
        self.path = self.target  # the staging folder once entered
        self.committed = False
        self.files: list[Path] = []
        #: What writers changed to fit a file's format (:func:`note`).
        self.notes: list[dict[str, str]] = []
        self._lock_fd: int | None = None
        self._token: contextvars.Token[RunFolder | None] | None = None
        self._boundaries = 0
        self._fault = _fault_spec()

    # -- entering ----------------------------------------------------------------------

    def __enter__(self) -> RunFolder:
        try:
            self._check_target()
            self._lock()
            try:
                self._clean_leftovers()
                self._check_foreign()
                self.path = Path(
                    tempfile.mkdtemp(
                        prefix=f".{self.target.name}.staging-{os.getpid()}-",
                        dir=self.target.parent,
                    )
                )
                self.path.chmod(_DIR_MODE)
            except BaseException:
                self._unlock()
                raise
        except OSError as err:
            raise output_error(
                err, f"preparing the {self.what} folder", path=self.target, option=self.what
            ) from err
        self._token = _ACTIVE.set(self)
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self._token is not None:
            _ACTIVE.reset(self._token)
            self._token = None
        try:
            # uncommitted: the staging folder; after a swap: the previous run
            if self.path != self.target and self.path.exists():
                shutil.rmtree(self.path, ignore_errors=True)
        finally:
            self._unlock()
        if not isinstance(exc, Exception):
            return
        cause = environment_cause(exc)
        if cause is not None and self._concerns(cause):
            raise self._error(cause, f"writing the {self.what} folder") from exc

    def _error(self, err: OSError, what: str) -> OutputError:
        """:func:`output_error` naming the file as it will be in the target folder (not
        in the staging folder, which is gone by then), or the target folder itself."""
        names = [err.filename, err.filename2]
        for i, name in enumerate(names):
            if name is None:
                continue
            text = str(Path(os.fsdecode(name)).absolute())
            staging = str(self.path)
            if self.path != self.target and (text == staging or text.startswith(staging + os.sep)):
                names[i] = str(self.target) + text[len(staging) :]
        named = OSError(err.errno, err.strerror or str(err), names[0], None, names[1])
        return output_error(named, what, path=self.target, option=self.what)

    def _concerns(self, err: OSError) -> bool:
        """Whether an OS error is about this folder (not, say, an unreadable input)."""
        names = [n for n in (err.filename, err.filename2) if n]
        if not names:
            return True
        ours = (
            str(self.target),
            str(self.path),
            str(self.target.parent / f".{self.target.name}."),  # staging, aside, lock
        )
        return any(str(Path(os.fsdecode(n)).absolute()).startswith(ours) for n in names)

    def _check_target(self) -> None:
        target = self.target
        if target.is_symlink() and not target.exists():
            raise OutputError(
                f"{self.what} {str(target)!r} is a broken symbolic link; remove it or point "
                "it at a folder"
            )
        if target.is_dir() and os.path.ismount(target):
            raise OutputError(
                f"{self.what} {str(target)!r} is a mount point, which cannot be replaced in "
                f"one rename; use a folder inside it, e.g. {str(target / 'run')!r}"
            )
        if target.exists() and not target.is_dir():
            raise OutputError(
                f"{self.what} {str(target)!r} is a file; give a folder for the outputs "
                "(it is created if missing)"
            )
        parent = target.parent
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"{self.what} {str(target)!r}: {str(parent)!r} is a file")
        parent.mkdir(parents=True, exist_ok=True)
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError(
                f"{self.what} {str(target)!r}: cannot write to its folder {str(parent)!r}; "
                "choose a folder you can write to"
            )

    def _lock(self) -> None:
        lock_path = self.target.parent / f".{self.target.name}.lock"
        while True:
            fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
            if not _try_lock(fd):
                os.lseek(fd, 0, os.SEEK_SET)
                owner = os.read(fd, 32).decode("ascii", "replace").strip()
                os.close(fd)
                raise OutputError(
                    f"another klastergeo run (process {owner or '?'}) is writing to "
                    f"{str(self.target)!r}; wait for it to finish or choose another "
                    f"{self.what}"
                )
            # The holder before us may have removed the file after we opened it: only a
            # lock on the file that is still there counts.
            try:
                same = os.fstat(fd).st_ino == lock_path.stat().st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
                os.write(fd, str(os.getpid()).encode())
                self._lock_fd = fd
                self._lock_path = lock_path
                return
            os.close(fd)

    def _unlock(self) -> None:
        if self._lock_fd is None:
            return
        try:
            self._lock_path.unlink(missing_ok=True)
        except OSError:  # Windows keeps an open file; the lock file then stays
            pass
        finally:
            os.close(self._lock_fd)  # closing releases the lock
            self._lock_fd = None

    def _clean_leftovers(self) -> None:
        """Remove staging folders of killed runs; put back a folder moved aside by a run
        that died between the two renames of the non-Linux commit."""
        parent, name = self.target.parent, glob.escape(self.target.name)
        aside = sorted(parent.glob(f".{name}.old-*"), key=lambda p: p.stat().st_mtime)
        if aside and not self.target.exists():
            logger.warning("restoring %s from an interrupted commit", self.target)
            aside.pop().rename(self.target)
        for stale in [*parent.glob(f".{name}.staging-*"), *aside]:
            logger.info("removing %s, left by an interrupted run", stale)
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)

    def _check_foreign(self) -> None:
        """Refuse a target holding anything a klastergeo run of this kind did not write
        exactly as it is now: files and folders it did not list, listed files changed
        since (size or SHA-256), or the outputs of another kind of command."""
        if not self.target.is_dir():
            return
        present = _entries(self.target)
        if not present:
            return
        summary: dict[str, Any] = {}
        manifest = self.target / MANIFEST
        try:
            loaded = json.loads(manifest.read_text(encoding="utf-8"))
            if isinstance(loaded, dict) and "klastergeo" in loaded:
                summary = loaded
        except (OSError, ValueError):
            pass
        listed = summary.get("files") if isinstance(summary.get("files"), dict) else None
        if listed is None:
            self._refuse(present)
        assert listed is not None
        owned = {MANIFEST, *listed}
        owned |= {parent.as_posix() for name in listed for parent in Path(name).parents}
        foreign = [entry for entry in present if entry not in owned]
        if foreign:
            self._refuse(foreign)
        changed = [
            name for name, entry in listed.items() if not same_file(self.target / name, entry)
        ]
        if changed:
            raise OutputError(
                f"{self.what} {str(self.target)!r}: {preview(changed, quote=False)} changed "
                "since klastergeo wrote them; a run replaces its whole folder, so copy what "
                f"you need elsewhere or choose another {self.what}"
            )
        kind = summary.get("kind")
        # (a folder without a kind is of an earlier version; its files are verified above)
        if kind is not None and kind != self.kind:
            raise OutputError(
                f"{self.what} {str(self.target)!r} holds the outputs of klastergeo "
                f"{kind}; the {self.kind} outputs would replace them, so "
                f"choose another {self.what}"
            )

    def _refuse(self, foreign: list[str]) -> None:
        raise OutputError(
            f"{self.what} {str(self.target)!r} holds files that no klastergeo run wrote "
            f"({preview(foreign, quote=False)}); a run replaces its whole folder, so move "
            f"them or choose an empty or new {self.what}"
        )

    # -- writing -------------------------------------------------------------------------

    def written(self, path: Path) -> None:
        """Count a write boundary (a file finished in the staging folder).

        Parameters
        ----------
        path
            The file finished, inside the staging folder.
        """
        self.files.append(path)
        self._boundary(f"wrote {path.name}")

    def sync(self) -> None:
        """Count files that other writers (matplotlib, pandas) left in the staging folder."""
        known = set(self.files)
        for path in sorted(p for p in self.path.rglob("*") if p.is_file()):
            if path not in known:
                self.written(path)

    def _boundary(self, label: str) -> None:
        self._boundaries += 1
        if self._fault is None or self._boundaries != self._fault[0]:
            return
        mode = self._fault[1]
        logger.warning("fault injected at write boundary %d (%s)", self._boundaries, label)
        if mode == "exit":
            os._exit(86)
        if mode == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path / "injected"))
        raise FaultInjected(f"write boundary {self._boundaries}: {label}")

    @property
    def boundaries(self) -> int:
        """Write boundaries passed so far (files written, commit steps)."""
        return self._boundaries

    # -- committing ----------------------------------------------------------------------

    def manifest(self) -> dict[str, dict[str, Any]]:
        """Size and SHA-256 of every staged file but ``summary.json``, by relative path."""
        out: dict[str, dict[str, Any]] = {}
        for path in sorted(p for p in self.path.rglob("*") if p.is_file()):
            rel = path.relative_to(self.path).as_posix()
            if rel != MANIFEST:
                out[rel] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        return out

    def scratch(self) -> Path:
        """A private folder for the run's intermediate files (a staged registry, spilled
        batches) inside the staging folder: removed at :meth:`commit`, or with the
        staging folder when the run fails."""
        path = self.path / _SCRATCH
        path.mkdir(exist_ok=True)
        return path

    def commit(self, summary: dict[str, Any] | None = None) -> list[Path]:
        """Write ``summary.json`` (with the ``files`` manifest) and swap the staging folder
        in as the target, in one rename.

        Parameters
        ----------
        summary
            What ``summary.json`` holds beside the manifest, the package version and the
            kind of run (None: only those).

        Returns
        -------
        The target's files.
        """
        if self.committed:
            raise RuntimeError("this run folder is committed already")
        try:
            shutil.rmtree(self.path / _SCRATCH, ignore_errors=True)
            self.sync()
            data = dict(summary or {})
            data.setdefault("klastergeo", _version())
            data["kind"] = self.kind
            if self.notes:
                data.setdefault("output_notes", list(self.notes))
            data["files"] = self.manifest()
            write_json(self.path / MANIFEST, data)
            _fsync_dir(self.path)
            # anything put into the target while the run computed is refused, not replaced
            self._check_foreign()
            self._swap()
        except OSError as err:
            if err.errno in STORAGE_ERRNOS:
                raise self._error(err, f"committing the {self.what} folder") from err
            raise
        files = sorted(p for p in self.target.rglob("*") if p.is_file())
        logger.debug("committed %d files to %s", len(files), self.target)
        return files

    def _swap(self) -> None:
        target, staging = self.target, self.path
        if not target.exists():
            staging.rename(target)
            self.committed = True
            _fsync_dir(target.parent)
            self._boundary("renamed the staging folder into place")
            return
        if _exchange(staging, target):
            # ``staging`` now holds the previous run; the target is the new one.
            self.committed = True
            _fsync_dir(target.parent)
            self._boundary("swapped the staging folder in")
            shutil.rmtree(staging, ignore_errors=True)
            self._boundary("removed the previous run")
            return
        aside = target.parent / f".{target.name}.old-{os.getpid()}"
        target.rename(aside)
        try:
            self._boundary("moved the previous run aside")
            staging.rename(target)
        except BaseException:
            if not target.exists():  # put the previous run back (a dead process: next run)
                aside.rename(target)
            raise
        self.committed = True
        _fsync_dir(target.parent)
        self._boundary("renamed the staging folder into place")
        shutil.rmtree(aside, ignore_errors=True)
        self._boundary("removed the previous run")
