"""Every public function and method documents its parameters (numpydoc's own validator).

Public: defined in a module of klastergeo whose path has no part starting with ``_``,
with a name that does not start with ``_``. The CLI's commands are left out: their help
comes from the configuration's option table (typer prints their docstrings as help).
The examples in the docstrings run as doctests (``--doctest-modules`` in pyproject).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import klastergeo

numpydoc_validate = pytest.importorskip("numpydoc.validate")

#: numpydoc checks kept: a parameter undocumented (PR01) or documented but not taken (PR02).
CHECKED = ("PR01", "PR02")
#: Modules whose functions the docs' API reference leaves out: the command line and its
#: terminal output (documented by ``--help``).
LEFT_OUT = {"klastergeo.app.cli", "klastergeo.app.console"}


def _public_modules() -> Iterator[str]:
    yield "klastergeo"
    for info in pkgutil.walk_packages(klastergeo.__path__, "klastergeo."):
        parts = info.name.split(".")[1:]
        if info.name not in LEFT_OUT and not any(p.startswith("_") for p in parts):
            yield info.name


def _public_callables() -> Iterator[tuple[str, object]]:
    for name in _public_modules():
        module = importlib.import_module(name)
        for attr, obj in vars(module).items():
            if attr.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            if inspect.isfunction(obj):
                yield f"{name}.{attr}", obj
            elif inspect.isclass(obj):
                for method, member in vars(obj).items():
                    if not method.startswith("_") and inspect.isfunction(member):
                        yield f"{name}.{attr}.{method}", member


def _takes_parameters(function: object) -> bool:
    parameters = inspect.signature(function).parameters  # type: ignore[arg-type]
    return any(p not in ("self", "cls") for p in parameters)


PUBLIC = sorted(q for q, function in _public_callables() if _takes_parameters(function))


def test_the_walk_finds_the_public_api() -> None:
    """A guard on the walk itself: well-known functions are among those checked."""
    for known in (
        "klastergeo.analysis.sentra.delineate",
        "klastergeo.analysis.autocorrelation.by_sector",
        "klastergeo.app.pipeline.run",
        "klastergeo.publish.maps.build_map",
        "klastergeo.app.config.RunConfig.with_overrides",
    ):
        assert known in PUBLIC
    assert not any(q.startswith("klastergeo._") or "._" in q for q in PUBLIC)


@pytest.mark.parametrize("qualname", PUBLIC)
def test_public_function_documents_its_parameters(qualname: str) -> None:
    result = numpydoc_validate.validate(qualname)
    problems = [f"{code}: {text}" for code, text in result["errors"] if code in CHECKED]
    assert not problems, f"{qualname}: " + "; ".join(problems)


# --------------------------------------------------------------------------------------
# The docs site (mkdocs.yml, docs/): `make docs` builds it with warnings as errors; these
# check what a build does not: the README's size and links, and that every public module
# has its place in the API reference.
# --------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
#: The API reference: one page per layer.
API_PAGES = sorted((ROOT / "docs" / "reference").glob("*.md"))


def _api_directives() -> dict[str, bool]:
    """Each ``::: module`` of the API pages -> whether its submodules are shown with it
    (mkdocs.yml's ``show_submodules: true`` unless the directive turns it off)."""
    directives: dict[str, bool] = {}
    for page in API_PAGES:
        blocks = re.split(r"^::: ", page.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]
        for block in blocks:
            name, _, rest = block.partition("\n")
            options = rest.split("\n\n", 1)[0]
            directives[name.strip()] = "show_submodules: false" not in options
    return directives


def test_readme_is_short_and_its_links_resolve() -> None:
    """The README is a front page of at most 200 lines; the manual is the docs site, and
    every page the README links to exists."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [t for t in targets if "://" not in t]
    assert "docs/getting-started.md" in local and "docs/mulai.md" in local
    assert "docs/options.md" in local
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"


def test_every_public_module_is_in_the_api_reference() -> None:
    """A public module is on an API page: named by a ``:::`` directive, or inside a package
    whose directive shows its submodules (so a new module appears by itself)."""
    directives = _api_directives()
    assert {"klastergeo.analysis", "klastergeo.io", "klastergeo.publish", "klastergeo.app"} <= (
        set(directives)
    )

    def covered(module: str) -> bool:
        if module in directives:
            return True
        parts = module.split(".")
        return any(directives.get(".".join(parts[:i])) for i in range(1, len(parts)))

    missing = [m for m in _public_modules() if not covered(m)]
    assert not missing, f"public modules on no API page (docs/reference/): {missing}"


def test_the_docs_config_names_the_generating_hook_and_numpy_docstrings() -> None:
    """mkdocs.yml runs docs/hooks.py (the generated pages) and reads numpydoc docstrings;
    the benchmarks page includes benchmarks/README.md rather than a copy of it."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(r"^hooks:\n  - docs/hooks\.py$", config, flags=re.MULTILINE)
    assert "docstring_style: numpy" in config
    spec = importlib.util.spec_from_file_location("klastergeo_docs_hooks", ROOT / "docs/hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    written = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    page = hooks.fill(written, "benchmarks.md")
    included = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8").partition("\n")[2]
    assert included.strip() and included in page and included not in written
