"""The package's layers import one way: analysis modules never import the publishing
layer, the pipeline or the command line; publishing never imports the pipeline or the
command line; the pipeline never imports the command line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "klastergeo"

#: Layer of each top-level module or package of klastergeo (bottom first).
LAYERS = {
    "analysis": 0,
    "publish": 1,
    "pipeline": 2,
    "demo": 3,
    "api": 4,  # the Python entry point, beside the command line
    "__init__": 4,  # the package facade: names its entry points (lazily, klastergeo.run)
    "cli": 4,
    "_console": 4,
}


def _layer(module: str) -> int:
    """The layer of ``klastergeo.<module>...`` (analysis unless listed)."""
    top = module.split(".")[1] if module.startswith("klastergeo.") else module
    return LAYERS.get(top, 0)


def _imports(path: Path) -> set[str]:
    """Every klastergeo module ``path`` imports, at the top or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("klastergeo")}
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("klastergeo")
        ):
            if node.module == "klastergeo":
                found |= {f"klastergeo.{a.name}" for a in node.names}
            else:
                found.add(node.module)
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_imports_go_down_the_layers(path: Path) -> None:
    rel = path.relative_to(PACKAGE)
    own = "klastergeo." + ".".join(rel.with_suffix("").parts)
    level = _layer(own)
    upward = sorted(m for m in _imports(path) if _layer(m) > level)
    assert upward == [], f"{rel} ({level}) imports {upward}"


def test_the_layers_are_what_the_package_holds() -> None:
    assert (PACKAGE / "publish" / "__init__.py").exists()
    assert (PACKAGE / "pipeline" / "__init__.py").exists()
    assert (PACKAGE / "_engine" / "kernels.py").exists()
    analysis = [p for p in MODULES if _layer("klastergeo." + p.relative_to(PACKAGE).parts[0]) == 0]
    assert len(analysis) >= 20
