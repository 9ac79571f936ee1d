"""The run record (``summary.json``, typed): read leniently, written back as read, and its
mirror of the configuration's settings kept in step with the configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from klastergeo.app.config import load_config
from klastergeo.errors import DataError
from klastergeo.publish.record import ConfigRecord, RunRecord

STOPPED = {
    "klastergeo": "0.1.0",
    "status": "stopped after validation",
    "created": "2026-11-22T10:00:00+00:00",
    "seed": 0,
    "period": "2019",
    "records": {
        "read": 10,
        "kept": 0,
        "rejected": 10,
        "repaired": 0,
        "by_reason": {"missing_coordinates": 10},
        "repaired_by_reason": {},
        "columns": {"id": "id"},
        "number_formats": {},
        "renamed_columns": {},
        "sector_column_numeric": False,
        "placement": {},
        "skipped": 2,
        "skipped_by_kind": {"total": 2},
        "layout": {
            "tables": [
                {
                    "sheet": "Kec A",
                    "header_rows": [3, 4],
                    "header_found": True,
                    "first_record_row": 5,
                    "records": 10,
                }
            ],
            "sheets_skipped": [{"sheet": "Notes", "why": "no header"}],
            "notes": ["merged cells"],
        },
        "implied_columns": {"kecamatan": "sheet"},
        "roles": {
            "id": {"column": "id"},
            "workers": {
                "column": "tk",
                "unit": "orang",
                "unit_from": "assumed",
                "written_unit": None,
                "stated_unit": "orang",
                "factor": 1,
            },
        },
        "roles_not_found": ["output"],
        "similar_columns": {"output": ["Nilai Produksi Lama"]},
        "passed_over": {},
    },
    "sentra": None,
    "timings": {"read": 0.5},
    "config": {"records": {"path": "/data/ukm.csv"}, "map": {"lang": "en", "title": None}},
    "versions": {"klastergeo": "0.1.0"},
    "disclosure": {
        "dominance_applied": False,
        "dominance_note": "counts per area",
        "enabled": True,
        "min_firms": 3,
        "dominance_n": 2,
        "dominance_k": 0.85,
        "grid_m": 250.0,
        "suppressed": {"cells": 4},
    },
    "output_notes": [{"file": "results.xlsx", "note": "1 cell cut"}],
    "something_new": {"kept": "as written"},
    "kind": "rejected",
    "files": {"rejected.csv": {"bytes": 10}},
}


def test_a_summary_is_written_back_as_it_was_read() -> None:
    record = RunRecord.from_json(STOPPED)
    assert json.dumps(record.to_json()) == json.dumps(STOPPED)
    assert record.records is not None and record.records.layout is not None
    assert record.records.layout.tables[0].header_rows == [3, 4]
    assert record.records.roles["workers"].measured
    assert record.config.records_path == "/data/ukm.csv" and record.config.map_lang == "en"
    assert record.disclosure is not None and not record.disclosure.dominance_applied
    assert record.extra == {"something_new": {"kept": "as written"}}
    # a new record (no order read) writes its keys in the order a run writes them
    fresh = record.replace(order=()).to_json()
    assert list(fresh)[:6] == ["klastergeo", "status", "created", "seed", "period", "records"]


def test_a_summary_of_another_command_is_written_back_as_read() -> None:
    validated = {k: STOPPED[k] for k in ("klastergeo", "status", "created", "seed", "records")}
    validated |= {"config": {}, "versions": {}, "kind": "validate", "files": {}}
    assert json.dumps(RunRecord.from_json(validated).to_json()) == json.dumps(validated)


def test_a_partial_or_edited_summary_reads_as_defaults() -> None:
    record = RunRecord.from_json({"klastergeo": "0.1.0", "sentra": "many", "areas": []})
    assert record.sentra == 0 and record.areas is not None and record.areas.count == 0
    assert record.config.map_lang == "id" and record.config.colocation_alpha == 0.05
    edited = RunRecord.from_json({"disclosure": {"enabled": True, "min_firms": "three"}})
    assert edited.disclosure is not None and not edited.disclosure.readable
    assert edited.to_json()["disclosure"] == {"enabled": True, "min_firms": "three"}


def test_load_reads_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no summary\.json"):
        RunRecord.load(tmp_path)
    (tmp_path / "summary.json").write_text(json.dumps(STOPPED), encoding="utf-8")
    assert RunRecord.load(tmp_path).to_json() == STOPPED
    (tmp_path / "summary.json").write_text("[1]", encoding="utf-8")
    with pytest.raises(DataError, match="not the summary"):
        RunRecord.load(tmp_path)


def test_the_typed_settings_are_settings_of_the_configuration() -> None:
    """A renamed setting fails here, not as an empty cell of the report."""
    config = load_config(None).to_dict()
    for name, key in ConfigRecord.SETTINGS.items():
        section, option = key.split(".")
        assert option in config[section], (name, key)
        assert name in ConfigRecord.__dataclass_fields__
    typed = ConfigRecord.from_json(config)
    assert typed.map_lang == config["map"]["lang"]
    assert typed.permutations == config["analysis"]["permutations"]
    assert typed.min_related_firms == config["colocation"]["min_related_firms"]
