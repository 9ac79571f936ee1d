"""The errors a new user meets first are printed in the run's language: a path, file,
column, option or area that is wrong prints the catalogue's ``errors`` text in Indonesian
(``--lang id`` and the default) with none of the listed English words apart from the
values it quotes, and the library's English message under ``--lang en``; the exit code
stays 2. Every key of the ``errors`` group is used by the code and has the same
placeholders in both languages."""

from __future__ import annotations

import re
import shutil
import string
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from klastergeo.app import console as _console
from klastergeo.app.cli import app
from klastergeo.errors import ConfigError, Phrase
from klastergeo.publish import messages
from tests.worlds.language import english
from tests.worlds.lattice import custom_study, lattice_args

runner = CliRunner()
ERRORS = {lang: messages.text("errors", lang) for lang in messages.LANGS}
WORDS = {lang: messages.text("terminal", lang) for lang in messages.LANGS}
BAD_ROWS = Path(__file__).parent / "data" / "registry_bad_rows.csv"


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4 x 4 lattice (custom boundaries) with its registry, and the wrong inputs a new
    user gives: files empty, of another kind, without a usable row, configurations with
    a typo."""
    folder = tmp_path_factory.mktemp("errors")
    registry = custom_study(folder, (4, 4), {"r1c1": 20}, background={"10": 3}, seed=1)
    registry.rename(columns={"workers": "tenaga_kerja"}).to_csv(folder / "firms.csv", index=False)
    (folder / "zero.csv").write_bytes(b"")
    (folder / "notes.txt").write_text("hello\n", encoding="utf-8")
    (folder / "letter.docx").write_text("x", encoding="utf-8")
    (folder / "header.csv").write_text("a,b\n", encoding="utf-8")
    (folder / "nowhere.csv").write_text("id,lat,lon,kbli\n1,x,y,10\n", encoding="utf-8")
    (folder / "broken.toml").write_text("[run\nx=", encoding="utf-8")
    (folder / "typo.toml").write_text("[analysis]\nfoo = 1\n", encoding="utf-8")
    (folder / "value.toml").write_text('[analysis]\nalpha = "x"\n', encoding="utf-8")
    (folder / "a folder").mkdir()
    return folder


#: name -> (the command line's options after ``run``, with {study} for the study's folder,
#: the Indonesian text's key, a fragment of the English message as the library words it).
LATTICE = {
    "records missing": (["--records", "{study}/nope.csv"], "records_missing", "does not exist"),
    "records folder": (["--records", "{study}/a folder"], "records_folder", "is a directory"),
    "records type": (["--records", "{study}/letter.docx"], "records_type", "unknown type"),
    "records empty": (["--records", "{study}/zero.csv"], "records_empty", "is empty"),
    "delimiter": (["--records", "{study}/notes.txt"], "csv_delimiter", "cannot tell the CSV"),
    "no columns": (["--records", "{study}/header.csv"], "no_sector_column", "no lat column"),
    "workers col": (
        ["--workers-col", "pekerja"],
        "column_absent_close",
        "column 'pekerja' for workers is not in the file (did you mean 'tenaga_kerja'?)",
    ),
    "sector col": (["--sector-col", "sektor"], "column_absent", "for sector is not in"),
    "id col": (["--id-col", "idx"], "column_absent", "column 'idx' for id is not in the file"),
    "lat col": (["--lat-col", "lintang"], "column_absent", "for lat is not in the file"),
    "area code col": (["--area-code-col", "kode_wil"], "column_absent", "for area_code"),
    "none kept": (["--records", "{study}/nowhere.csv"], "none_kept", "none kept"),
    "config missing": (["--config", "{study}/nope.toml"], "config_missing", "does not exist"),
    "config toml": (["--config", "{study}/broken.toml"], "config_toml", "is not valid TOML"),
    "config key": (["--config", "{study}/typo.toml"], "config_unknown_keys", "unknown key(s)"),
    "config value": (["--config", "{study}/value.toml"], "option_type", "is not accepted"),
    "set key": (["--set", "analysis.foo=1"], "set_unknown_close", "is not a configuration"),
    "set range": (["--set", "analysis.alpha=2"], "option_between", "must lie between 0 and 1"),
    "choice": (["--weights", "hexagons"], "option_type", "is not accepted: it must be one of"),
    "negative": (["--permutations", "-3"], "option_not_negative", "must be zero or positive"),
    "whole": (["--set", "analysis.seed=abc"], "option_type", "it must be a whole number"),
    "boundaries": (["--boundaries", "{study}/nope"], "boundaries_missing", "is neither"),
    "area id col": (["--area-id-col", "kode_desa"], "boundaries_column", "have no column"),
    "area name col": (["--area-name-col", "nm"], "boundaries_column", "have no column 'nm'"),
    "out": (["--out", "/proc/klastergeo-out"], "output_unwritable", "cannot write"),
}

#: The same, on the real boundaries (names and codes of Indonesia's areas).
REAL = {
    "area unknown": (["--area", "Kab"], "area_unknown", "is not the name of a province"),
    "area closest": (["--area", "Kota Slemn"], "area_unknown", "closest names"),
    "area ambiguous": (["--area", "Semarang"], "area_ambiguous", "matches 2 areas"),
    "area code": (["--area", "99.99"], "area_code_unknown", "selects no desa"),
    "level missing": (
        ["--boundaries", "{levels}", "--level", "desa"],
        "boundaries_level",
        "no desa",
    ),
    "outside": (["--area", "34.04"], "outside_area", "lie outside the study area"),
}


def _without_values(text: str) -> str:
    """``text`` without what it quotes (paths, values, names), the columns it lists, the
    configuration keys (``area.max_outside``) and the commands it shows."""
    text = re.sub(r"'[^']*'", " ", text)
    text = re.sub(r"(Kolom dalam berkas|kolomnya|The file's columns are):.*", " ", text)
    text = re.sub(r"(kunci|bagian) yang dikenal:[^;]*", " ", text)  # names of keys
    text = re.sub(r"\b[a-z_]+\.[a-z_]+\b", " ", text)
    return re.sub(r"`?klastergeo( [a-z]+)+`?", " ", text)


def _run(options: list[str], lang: str | None, **where: Path) -> tuple[int, str]:
    """``klastergeo run`` with ``options`` (``lang`` None: the default), its exit code
    and what it printed."""
    args = [part.format(**{k: str(v) for k, v in where.items()}) for part in options]
    if lang is not None:
        args += ["--lang", lang]
    result = runner.invoke(app, args)
    return result.exit_code, result.output


def _check(code: int, printed: str, key: str, fragment: str, lang: str | None) -> None:
    """Exit code 2 and the message in ``lang``: Indonesian with the key's words and no
    listed English word apart from the values; English as the library words it."""
    assert code == 2, printed
    line = printed.strip().splitlines()[-1]
    if lang == "en":
        assert line.startswith(WORDS["en"]["error"] + " "), printed
        assert fragment in line, printed
        return
    assert line.startswith(WORDS["id"]["error"] + " "), printed
    assert fragment not in line, printed
    # the text of the key, up to its first placeholder, is what is printed
    head = re.split(r"\{[a-z_]+\}", ERRORS["id"][key])
    assert any(len(part) > 6 and part in line for part in head), (head, printed)
    assert not english(_without_values(line)), (english(_without_values(line)), printed)


@pytest.mark.parametrize("lang", ["id", None, "en"])
@pytest.mark.parametrize("case", list(LATTICE))
def test_first_errors_in_the_run_language(study: Path, case: str, lang: str | None) -> None:
    options, key, fragment = LATTICE[case]
    out = study / f"out-{case.replace(' ', '-')}-{lang}"
    base = lattice_args("run", study, out, "--permutations", "0", "--tiles", "none")
    if "--records" in options:  # the case's records, not the study's
        at = base.index("--records")
        del base[at : at + 2]
    code, printed = _run([*base, *options], lang, study=study)
    _check(code, printed, key, fragment, lang)


@pytest.mark.parametrize("lang", ["id", None, "en"])
@pytest.mark.parametrize("case", list(REAL))
def test_area_errors_in_the_run_language(
    data_dir: Path, tmp_path: Path, case: str, lang: str | None
) -> None:
    options, key, fragment = REAL[case]
    levels = tmp_path / "levels"  # the boundaries of two levels, not the desa
    levels.mkdir()
    for level in ("provinsi", "kabupaten"):
        shutil.copy(data_dir / f"{level}.parquet", levels / f"{level}.parquet")
    base = ["run", "--records", str(BAD_ROWS), "--out", str(tmp_path / "out")]
    base += ["--boundaries", str(data_dir), "--permutations", "0", "--tiles", "none"]
    code, printed = _run([*base, *options], lang, levels=levels)
    _check(code, printed, key, fragment, lang)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_error_text_is_used_and_has_the_same_placeholders() -> None:
    assert ERRORS["id"].keys() == ERRORS["en"].keys()
    for key in ERRORS["en"]:
        assert _placeholders(ERRORS["id"][key]) == _placeholders(ERRORS["en"][key]), key
    root = resources.files("klastergeo")
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for path in Path(str(root)).rglob("*.py")
        if "__pycache__" not in path.parts
    )
    unused = [key for key in ERRORS["en"] if f'"{key}"' not in source]
    assert not unused, unused


def test_the_indonesian_error_texts_carry_no_english_words() -> None:
    for key, text in ERRORS["id"].items():
        found = english(_without_values(re.sub(r"\{[a-z_]+\}", " ", text)))
        assert not found, (key, found)


@pytest.mark.parametrize(
    ("err", "said"),
    [
        (ConfigError("plain"), "plain"),  # no key: the English message
        (ConfigError("keyed", key="no_such_key"), "keyed"),  # a key the catalogue lacks
        (ConfigError("short", key="config_missing"), "short"),  # a value missing
        (
            ConfigError(
                "x", key="problems", params={"problems": ["one", Phrase("two", "no_problems")]}
            ),
            "one; " + ERRORS["id"]["no_problems"],
        ),
    ],
)
def test_error_text_falls_back_to_the_english_message(err: ConfigError, said: str) -> None:
    assert _console.error_text(err, "id") == said
    assert _console.error_text(err, "en") == str(err)


def test_a_keyed_error_stays_english_for_the_library(study: Path) -> None:
    """``str(err)``, the logs and the Python API keep the English message."""
    from klastergeo.io.registry import reading

    with pytest.raises(Exception, match="does not exist") as caught:
        reading.check_source(study / "nope.csv")
    assert caught.value.key == "records_missing"  # type: ignore[attr-defined]
    assert _console.error_text(caught.value, "id") == ERRORS["id"]["records_missing"].format(
        path=repr(str(study / "nope.csv"))
    )
