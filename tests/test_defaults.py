"""One source for every option: the library's defaults are the configuration's, every
flag comes from the configuration table, and every key can be set from TOML."""

from __future__ import annotations

import importlib.util
import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest

from klastergeo.analysis import (
    autocorrelation,
    pointpattern,
    scale,
    sentra,
    specialisation,
    weights,
)
from klastergeo.analysis import regression as models
from klastergeo.analysis import spatial_regression as spatial_models
from klastergeo.app.config import (
    SECTIONS,
    RunConfig,
    load_config,
    options,
    parse_assignment,
    reference,
)
from klastergeo.io.registry import batches, distributed, records
from klastergeo.publish import maps, report

#: (function, parameter, configuration key): a library default that a run takes from
#: the configuration must be the configuration's default.
LIBRARY = [
    (weights.contiguity, "tolerance", "analysis.tolerance_m"),
    (weights.contiguity, "islands", "analysis.islands"),
    (weights.knn, "k", "analysis.k"),
    (weights.knn, "seed", "analysis.seed"),
    (scale.choose_scale, "k", "analysis.k"),
    *[
        (function, name, f"analysis.{name}")
        for function in (autocorrelation.by_sector,)
        for name in (
            "permutations",
            "seed",
            "alpha",
            "fdr",
            "alternative",
            "gi_inference",
            "lisa_inference",
        )
    ],
    *[
        (function, name, f"analysis.{name}")
        for function in (
            autocorrelation.local_moran,
            autocorrelation.local_gstar,
            autocorrelation.global_moran,
            autocorrelation.geary,
            autocorrelation.general_g,
            autocorrelation.join_counts,
        )
        for name in ("permutations", "seed")
    ],
    (spatial_models.residual_moran, "seed", "analysis.seed"),
    (specialisation.local_specialisation, "margin", "analysis.spec_margin"),
    *[
        (sentra.delineate, name, f"sentra.{name}")
        for name in (
            "min_firms",
            "lq_threshold",
            "confidence",
            "extend",
            "extend_min_firms",
            "extend_lq",
        )
    ],
    *[
        (sentra.delineate_points, name, f"sentra.{name}")
        for name in (
            "min_firms",
            "lq_threshold",
            "eps_m",
            "min_samples",
            "min_strength",
            "min_density_km2",
        )
    ],
    (records.validate_records, "snap_m", "area.snap_m"),
    (records.validate_records, "sector_digits", "records.sector_digits"),
    (records.validate_records, "decimal", "records.decimal"),
    (batches.validate_in_batches, "snap_m", "area.snap_m"),
    (batches.validate_in_batches, "sector_digits", "records.sector_digits"),
    (batches.validate_in_batches, "decimal", "records.decimal"),
    (batches.validate_in_batches, "batch_size", "records.batch_size"),
    (batches.validate_in_batches, "scheduler", "records.scheduler"),
    (batches.Registry.validate, "scheduler", "records.scheduler"),
    (batches.validate_in_batches, "workers", "records.workers"),
    (batches.Registry.validate, "workers", "records.workers"),
    (distributed.check_here, "workers", "records.workers"),
    *[
        (function, name, f"pointpattern.{name}")
        for function in (pointpattern.by_sector, pointpattern.by_sentra)
        for name in ("simulations", "max_points")
    ],
    (pointpattern.by_sector, "seed", "analysis.seed"),
    (models.fit, "cutoff", "model.cutoff"),
    (models.fit, "robust", "model.robust"),
    (maps.MapStyle, "lang", "map.lang"),
    (maps.MapStyle, "tiles", "map.tiles"),
    (maps.MapStyle, "max_firms", "map.max_firms"),
    (maps.MapStyle, "max_areas", "map.max_areas"),
    (report.build_report, "lang", "map.lang"),
]


@pytest.mark.parametrize(
    ("function", "parameter", "key"),
    LIBRARY,
    ids=[f"{f.__module__.split('.')[-1]}.{f.__name__}.{p}" for f, p, _ in LIBRARY],
)
def test_library_defaults_are_the_configuration_defaults(function, parameter, key) -> None:
    default = inspect.signature(function).parameters[parameter].default
    assert default == options()[key].default, (function.__qualname__, parameter, key)


def test_every_key_has_help_and_a_toml_round_trip(tmp_path: Path) -> None:
    """Every key is documented and settable from TOML (and from --set) with its default."""
    defaults = RunConfig()
    for key, option in options().items():
        assert option.help, key
        section, name = key.split(".")
        assert getattr(getattr(defaults, section), name) == option.default
    text = "\n".join(
        f"[{section}]\n" + "\n".join(f"{f} = {_toml(v)}" for f, v in values.items())
        for section, values in _sample().items()
    )
    path = tmp_path / "all.toml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    for section, values in _sample().items():
        for name, value in values.items():
            got = getattr(getattr(config, section), name)
            assert got == (tuple(value) if isinstance(value, list) else value) or str(got).endswith(
                str(value)
            ), (section, name, got)
    key, value = parse_assignment("analysis.permutations=99")
    assert load_config(None, overrides={key: value}).analysis.permutations == 99


def _sample() -> dict[str, dict[str, object]]:
    """A non-default value for a key of every section."""
    return {
        "records": {"decimal": ",", "sector_digits": 3, "strict": True, "workers": 1},
        "columns": {"lat": "lintang"},
        "area": {"code": "33", "snap_m": 50.0},
        "analysis": {"seed": 7, "tolerance_m": 5.0, "sectors": ["31"]},
        "sentra": {"min_samples": 4, "min_strength": 0.3, "extend": False},
        "typology": {"linkages": ["pemasok"]},
        "diagnosis": {"charts": False},
        "pointpattern": {"simulations": 19},
        "report": {"figures": "all"},
        "model": {"kinds": ["probit"], "cutoff": 0.4},
        "map": {"lang": "en", "title": "Peta"},
        "output": {"csv_locale": "id", "firms_gpkg": True},
        "dynamics": {"min_overlap": 0.5, "change": 0.2, "alpha": 0.1, "stable_ids": True},
        "colocation": {"k": 6, "permutations": 19, "min_firms": 3, "enabled": False},
        "disclosure": {"min_firms": 5, "dominance_k": 0.9, "grid_m": 500.0},
        "counts": {"format": "long", "count_col": "jumlah"},
    }


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def test_sections_and_flags_are_declared_once() -> None:
    """Each flag names one key; every section has its dataclass; sample covers them."""
    flags = [o.flag for o in options().values() if o.flag]
    assert len(flags) == len(set(flags))
    assert set(_sample()) == set(SECTIONS)


def test_problems_of_every_section_are_raised_at_once(tmp_path: Path) -> None:
    from klastergeo import ConfigError

    path = tmp_path / "bad.toml"
    path.write_text(
        "[analysis]\npermutations = -1\nalpha = 2.0\n[sentra]\nconfidence = 80\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    for part in ("analysis.permutations=-1", "analysis.alpha=2.0", "sentra.confidence=80"):
        assert part in message


def _docs_hooks() -> ModuleType:
    """``docs/hooks.py``, the mkdocs hook that writes the option reference at build time."""
    path = Path(__file__).resolve().parents[1] / "docs" / "hooks.py"
    spec = importlib.util.spec_from_file_location("klastergeo_docs_hooks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_option_reference_page_is_generated_from_the_configuration() -> None:
    """The docs' option reference is ``config.reference()``, word for word, written when the
    site is built: ``docs/options.md`` holds only the marker (no copy that can drift), and
    the page mkdocs renders has a section per configuration section and a row per key."""
    hooks = _docs_hooks()
    written = (Path(__file__).resolve().parents[1] / "docs" / "options.md").read_text(
        encoding="utf-8"
    )
    assert written.count(hooks.OPTIONS_MARKER) == 1
    assert "| key | default | flag | meaning |" not in written, "a copy of the table drifts"
    page = hooks.fill(written, "options.md")
    generated = page.split(written.split(hooks.OPTIONS_MARKER)[0], 1)[1]
    # the page's sections are reference()'s, raised to the page's second level, with "<"
    # escaped outside code (periods/<period>/ is text, not an HTML tag)
    unescaped = generated.replace("&lt;", "<")
    assert re.sub(r"^## `\[", "#### `[", unescaped, flags=re.MULTILINE) == (
        reference() + written.split(hooks.OPTIONS_MARKER)[1]
    )
    for key, option in options().items():
        section, name = key.split(".")
        assert f"## `[{section}]`" in generated and f"| `{name}` |" in generated
        if option.flag:
            assert f"`{option.flag}`" in generated
    with pytest.raises(ValueError, match="lost its marker"):
        hooks.fill(written.replace(hooks.OPTIONS_MARKER, ""), "options.md")
