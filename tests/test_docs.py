"""Every public function and method documents its parameters (numpydoc's own validator).

Public: defined in a module of klastergeo whose path has no part starting with ``_``,
with a name that does not start with ``_``. The CLI's commands are left out: their help
comes from the configuration's option table (typer prints their docstrings as help).
The examples in the docstrings run as doctests (``--doctest-modules`` in pyproject).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator

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
