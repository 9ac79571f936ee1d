"""Atomic outputs: a failure leaves no half-written file and keeps the previous outputs."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from klastergeo._io import StagedOutput, atomic_path, write_json


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


def test_staged_output_commits_all_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    with pytest.raises(ValueError), StagedOutput(out) as stage:
        write_json(stage.path / "summary.json", {"sentra": 3})
        (stage.path / "models").mkdir()
        (stage.path / "models" / "lpm.md").write_text("x")
        raise ValueError("bad input found late")
    assert (out / "summary.json").read_text() == "{}"
    assert not (out / "models").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    with StagedOutput(out) as stage:
        write_json(stage.path / "summary.json", {"sentra": 3})
        (stage.path / "models").mkdir()
        (stage.path / "models" / "lpm.md").write_text("x")
    assert '"sentra": 3' in (out / "summary.json").read_text()
    assert (out / "models" / "lpm.md").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
