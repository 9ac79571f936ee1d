"""Progress when the output is not a terminal: one line per step and per tenth of work."""

from __future__ import annotations

import pytest

from klastergeo.app import console as _console


def test_line_reporter_writes_steps_and_tenths(capsys: pytest.CaptureFixture[str]) -> None:
    reporter = _console.LineReporter(("read", "validate"), "en")
    reporter.step("read")
    reporter.step("validate")
    for done in range(0, 1001, 10):  # 101 calls: only the tenths are written
        reporter.advance("checking records", done, 1000)
    reporter.finish()
    lines = capsys.readouterr().err.splitlines()
    assert any(line.endswith("step 1/2: read") for line in lines)
    assert any(line.endswith("step 2/2: validate") for line in lines)
    tenths = [line for line in lines if "checking records" in line]
    assert len(tenths) == 10
    assert "1,000/1,000 (100%" in tenths[-1]
    assert lines[-1].endswith("done")


def test_progress_is_plain_lines_when_not_a_terminal() -> None:
    with _console.progress(("read",)) as reporter:
        assert isinstance(reporter, _console.LineReporter)
