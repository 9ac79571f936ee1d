"""Progress when the output is not a terminal: one line per step and per tenth of work."""

from __future__ import annotations

import itertools

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


def test_slow_parts_show_no_rate(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    """Parts that take seconds each: their rate would read 0.0/s, so none is shown."""
    clock = itertools.count(step=30.0)  # every reading of the clock 30 s later
    monkeypatch.setattr(_console.time, "perf_counter", lambda: next(clock))
    reporter = _console.LineReporter(("write",), "id")
    reporter.step("write")
    reporter.advance("writing firms", 1, 2)
    reporter.advance("writing firms", 2, 2)
    lines = [x for x in capsys.readouterr().err.splitlines() if "1/2" in x or "2/2 (" in x]
    assert lines and all(x.endswith("%)") for x in lines), lines
    assert _console._rate(2.5, "en") == "2.5/s" and _console._rate(0.4, "en") == ""
