"""Atomic outputs: a run's folder is entirely the old run or entirely the new one."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from klastergeo import OutputError
from klastergeo.io import files as _io
from klastergeo.io.files import FaultInjected, RunFolder, atomic_path, check_output, write_json


def test_atomic_path_replaces_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary left
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & stat.S_IRGRP  # readable like any other output


def _commit(out: Path, files: dict[str, str], **summary: object) -> list[Path]:
    with RunFolder(out) as folder:
        for name, text in files.items():
            _io.write_text(folder.path / name, text)
        return folder.commit({"klastergeo": "test", **summary})


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_run_folder_commits_all_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _commit(out, {"a.csv": "old", "models/lpm.md": "old model", "scale.csv": "old"}, seed=0)
    old = _tree(out)
    with pytest.raises(ValueError), RunFolder(out) as folder:
        write_json(folder.path / "summary.json", {"sentra": 3})
        _io.write_text(folder.path / "a.csv", "half")
        raise ValueError("bad input found late")
    assert _tree(out) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging, no lock left
    # a new run replaces the whole folder: scale.csv of the old run does not survive
    _commit(out, {"a.csv": "new", "models/lpm.md": "new model"}, seed=1)
    assert sorted(_tree(out)) == ["a.csv", "models/lpm.md", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 1
    assert set(summary["files"]) == {"a.csv", "models/lpm.md"}
    assert summary["files"]["a.csv"]["bytes"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_the_manifest_hashes_every_file(tmp_path: Path) -> None:
    import hashlib

    out = tmp_path / "run"
    _commit(out, {"x.txt": "hello", "sub/y.txt": "world"})
    files = json.loads((out / "summary.json").read_text())["files"]
    for name, entry in files.items():
        data = (out / name).read_bytes()
        assert entry == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_an_unusable_target_is_refused_before_any_work(tmp_path: Path) -> None:
    file = tmp_path / "a-file"
    file.write_text("x")
    with pytest.raises(OutputError, match=r"is a file; give a folder"):
        RunFolder(file).__enter__()
    with pytest.raises(OutputError, match="is a file"):
        check_output(file / "below")
    # a folder with files of the user's is never replaced
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(
        OutputError, match=r"holds files that no klastergeo run wrote \(notes.txt\)"
    ):
        RunFolder(mine).__enter__()
    assert (mine / "notes.txt").read_text() == "keep me"
    # nor is a run folder to which the user added a file
    run = tmp_path / "run"
    _commit(run, {"a.csv": "x"})
    (run / "extra.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"extra\.txt"):
        check_output(run)
    # a parent that cannot exist
    with pytest.raises(OutputError, match="cannot write"):
        RunFolder("/proc/klastergeo-test/out").__enter__()


def test_an_empty_folder_and_a_symlink_are_fine(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    _commit(empty, {"a.csv": "1"})
    assert (empty / "a.csv").read_text() == "1"
    real = tmp_path / "real"
    _commit(real, {"a.csv": "1"})
    link = tmp_path / "link"
    link.symlink_to(real)
    _commit(link, {"a.csv": "2"})
    assert link.is_symlink() and (real / "a.csv").read_text() == "2"


def test_a_second_run_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with RunFolder(out) as first:
        with pytest.raises(OutputError, match=r"another klastergeo run .* is writing"):
            RunFolder(out).__enter__()
        first.commit({})
    _commit(out, {"a.csv": "after"})  # the lock is released with the first run


def test_leftovers_of_killed_runs_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _commit(out, {"a.csv": "old"})
    stale = tmp_path / ".run.staging-1-abc"
    stale.mkdir()
    (stale / "half.csv").write_text("x")
    _commit(out, {"a.csv": "new"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_folder_moved_aside_by_a_dead_commit_is_restored(tmp_path: Path) -> None:
    """Without renameat2 the old folder is moved aside first; if the process dies before
    the new one is in place, the next run puts the old one back before anything else."""
    out = tmp_path / "run"
    _commit(out, {"a.csv": "old"})
    out.rename(tmp_path / ".run.old-4242")
    check = RunFolder(out)
    with check:
        assert (out / "a.csv").read_text() == "old"  # restored on entry
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_commit_without_renameat2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_io, "_exchange", lambda a, b: False)
    out = tmp_path / "run"
    _commit(out, {"a.csv": "old", "b.csv": "old"})
    _commit(out, {"a.csv": "new"})
    assert sorted(_tree(out)) == ["a.csv", "summary.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_fault_at_every_boundary_leaves_old_or_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    if not exchange:
        monkeypatch.setattr(_io, "_exchange", lambda a, b: False)
    out = tmp_path / "run"
    _commit(out, {"a.csv": "old", "old-only.csv": "old"}, seed=0)
    old = _tree(out)
    new_files = {"a.csv": "new", "b/c.csv": "new", "d.csv": "new"}
    with RunFolder(out) as probe:
        for name, text in new_files.items():
            _io.write_text(probe.path / name, text)
        probe.commit({"seed": 1})
        total = probe.boundaries
    new = _tree(out)
    _commit(out, {"a.csv": "old", "old-only.csv": "old"}, seed=0)  # back to the old run
    assert total >= 5
    for n in range(1, total + 1):
        monkeypatch.setenv(_io.FAULT_ENV, f"{n}:raise")
        with pytest.raises(FaultInjected), RunFolder(out) as folder:
            for name, text in new_files.items():
                _io.write_text(folder.path / name, text)
            folder.commit({"seed": 1})
        monkeypatch.delenv(_io.FAULT_ENV)
        now = _tree(out)
        if now != old:
            assert now.keys() == new.keys() and json.loads(now["summary.json"])["seed"] == 1
            assert {k: v for k, v in now.items() if k != "summary.json"} == {
                k: v for k, v in new.items() if k != "summary.json"
            }
            _commit(out, {"a.csv": "old", "old-only.csv": "old"}, seed=0)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["run"], n


def test_a_full_disk_is_an_output_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    _commit(out, {"a.csv": "old"})
    monkeypatch.setenv(_io.FAULT_ENV, "2:enospc")
    with pytest.raises(OutputError, match=r"No space left on device.*free some disk space"):
        _commit(out, {"a.csv": "new", "b.csv": "new"})
    assert (out / "a.csv").read_text() == "old"


_KILL = """
import sys
from klastergeo.io import files as _io
with _io.RunFolder(sys.argv[1]) as folder:
    for name in ("a.csv", "b.csv", "c/d.csv"):
        _io.write_text(folder.path / name, "new")
    folder.commit({"seed": 1})
"""


@pytest.mark.slow
@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_a_killed_process_leaves_old_or_new(tmp_path: Path, exchange: bool) -> None:
    """``os._exit`` at every boundary (no cleanup runs, as with SIGKILL): the folder is
    old or new, and the next run removes what the dead one left."""
    out = tmp_path / "run"
    script = (
        _KILL
        if exchange
        else _KILL.replace(
            "from klastergeo.io import files as _io",
            "from klastergeo.io import files as _io\n_io._exchange = lambda a, b: False",
        )
    )
    _commit(out, {"a.csv": "old"}, seed=0)
    old = _tree(out)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    for n in range(1, 9):
        env[_io.FAULT_ENV] = f"{n}:exit"
        done = subprocess.run([sys.executable, "-c", script, str(out)], env=env, check=False)
        if not out.exists():  # between the two renames: the next run restores the old one
            with RunFolder(out):
                pass
        now = _tree(out)
        assert now == old or (
            json.loads(now["summary.json"])["seed"] == 1
            and sorted(now) == ["a.csv", "b.csv", "c/d.csv", "summary.json"]
        ), (n, sorted(now))
        if done.returncode == 0:
            break
        assert done.returncode == 86
        _commit(out, {"a.csv": "old"}, seed=0)  # cleans up and starts again from the old run
        assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
        old = _tree(out)
    else:
        pytest.fail("the run never completed")


def test_only_an_untouched_folder_of_the_same_kind_is_replaced(tmp_path: Path) -> None:
    """A summary.json that is not klastergeo's, a listed file edited since, an empty
    folder or a link not listed, and another command's outputs: all refused, all kept."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.docx").write_text("draft")
    (other / "summary.json").write_text('{"files": {"thesis.docx": {}}}')
    with pytest.raises(OutputError, match=r"thesis.docx"):
        check_output(other)
    run = tmp_path / "run"
    _commit(run, {"sentra.csv": "a,b\n"})
    (run / "sentra.csv").write_text("a,b\nedited in Excel\n")
    with pytest.raises(OutputError, match=r"sentra.csv changed since klastergeo wrote them"):
        check_output(run)
    assert "edited" in (run / "sentra.csv").read_text()
    run2 = tmp_path / "run2"
    _commit(run2, {"a.csv": "x"})
    (run2 / "empty").mkdir()
    with pytest.raises(OutputError, match=r"\(empty\)"):
        check_output(run2)
    (run2 / "empty").rmdir()
    (run2 / "link").symlink_to(tmp_path)
    with pytest.raises(OutputError, match=r"\(link\)"):
        check_output(run2)
    (run2 / "link").unlink()
    with pytest.raises(OutputError, match=r"holds the outputs of klastergeo run; the validate"):
        RunFolder(run2, kind="validate").__enter__()
    with RunFolder(run2) as folder:  # the same kind replaces it
        folder.commit({})


def test_a_file_put_into_the_target_during_a_run_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _commit(out, {"a.csv": "old"})
    with pytest.raises(OutputError, match=r"notes.txt"), RunFolder(out) as folder:
        _io.write_text(folder.path / "a.csv", "new")
        (out / "notes.txt").write_text("written while the run computed")
        folder.commit({})
    assert (out / "notes.txt").exists() and (out / "a.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_glob_characters_in_the_name_touch_no_other_folder(tmp_path: Path) -> None:
    busy = tmp_path / ".out1.staging-123-abc"
    busy.mkdir()
    aside = tmp_path / ".out2.old-77"
    aside.mkdir()
    _commit(tmp_path / "out[12]", {"a.csv": "x"})
    assert busy.exists() and aside.exists()
    assert (tmp_path / "out[12]" / "a.csv").read_text() == "x"


def test_a_broken_link_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "missing")
    with pytest.raises(OutputError, match=r"broken symbolic link"):
        check_output(link)
