"""Atomic output: a failed run leaves no half-written file behind.

Single files are written to a temporary sibling and renamed into place (``os.replace`` is
atomic on one file system). A whole run is staged in a hidden sibling directory of the
output directory and each finished file is then renamed into place, so an error before the
commit leaves the previous outputs untouched.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def _default_mode() -> int:
    # mkstemp creates files readable by the owner only; outputs are meant to be shared.
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _default_mode()


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    Examples
    --------
    >>> with atomic_path(tmp_dir / "a.csv") as tmp:  # doctest: +SKIP
    ...     frame.to_csv(tmp)
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.chmod(_FILE_MODE)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as indented JSON atomically."""
    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


class StagedOutput:
    """Collect a run's files in a staging directory and move them into place at the end.

    Use as a context manager: files are written below :attr:`path`; on a clean exit they
    replace the files of the same name in ``target``; on an exception the staging directory
    is removed and ``target`` is left as it was.
    """

    def __init__(self, target: str | os.PathLike[str]) -> None:
        self.target = Path(target)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(
            tempfile.mkdtemp(prefix=f".{self.target.name}.staging-", dir=self.target.parent)
        )

    def __enter__(self) -> StagedOutput:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self.commit()
        finally:
            shutil.rmtree(self.path, ignore_errors=True)

    def commit(self) -> list[Path]:
        """Move every staged file into the target directory, keeping the tree layout."""
        moved: list[Path] = []
        self.target.mkdir(parents=True, exist_ok=True)
        for src in sorted(p for p in self.path.rglob("*") if p.is_file()):
            dest = self.target / src.relative_to(self.path)
            dest.parent.mkdir(parents=True, exist_ok=True)
            src.replace(dest)
            moved.append(dest)
        logger.debug("committed %d files to %s", len(moved), self.target)
        return moved
