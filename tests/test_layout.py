"""The package is a house of layers, and its imports only go down.

======== ================================ ==============================================
level    folder                           what it holds
======== ================================ ==============================================
0 core   the modules at the top           errors, options, area codes, KBLI, schema
1        ``klastergeo/analysis``          pure statistics: no files, no language, no drawing
2        ``klastergeo/io``                reading registries and boundaries, atomic output
3        ``klastergeo/publish``           maps, figures, report, site, workbook, GIS layers
4        ``klastergeo/app``               pipeline, configuration, command line, API, demo
======== ================================ ==============================================

A module imports its own layer or those below, never one above; there is no circle of
imports; a private name (``_x``) is not used outside its module, and a private module
(``_engine``) not outside the package that holds it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "klastergeo"

#: Each layer of the package: its level and the folder or modules it is made of.
LEVEL = {"core": 0, "analysis": 1, "io": 2, "publish": 3, "app": 4}
CORE = {"__init__", "_docstrings", "areas", "errors", "kbli", "options", "schema"}
FOLDERS = {"analysis", "io", "publish", "app"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["klastergeo", *parts])


MODULES = {_module(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    """The layer of ``klastergeo.<...>``: its folder, or ``core`` for a top module."""
    parts = module.split(".")
    if len(parts) == 1:
        return "core"
    if parts[1] in FOLDERS:
        return parts[1]
    if parts[1] in CORE and len(parts) == 2:
        return "core"
    raise AssertionError(f"{module} is in no layer: put it in a layer folder or name it in CORE")


def _resolve(name: str) -> str:
    """The klastergeo module ``name`` refers to: itself, or its longest module prefix."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports(path: Path) -> list[tuple[str, str | None, int]]:
    """(module, imported name or None, line) of every klastergeo import in ``path``, at the
    top, inside functions or under ``TYPE_CHECKING``."""
    own = _module(path)
    package = own if path.name == "__init__.py" else own.rsplit(".", 1)[0]
    found: list[tuple[str, str | None, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [
                (a.name, None, node.lineno) for a in node.names if a.name.startswith("klastergeo")
            ]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if not base.startswith("klastergeo"):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in MODULES:
                    found.append((sub, None, node.lineno))
                else:
                    found.append((_resolve(base), alias.name, node.lineno))
    return found


def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in MODULES.items():
        for target, _, _ in _imports(path):
            target = _resolve(target)
            if target != module and target in MODULES:
                edges[module].add(target)
    return edges


def test_every_module_has_a_layer() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert set(top) == CORE, "the top of the package holds only the core modules"
    assert len(top) - 1 <= 8, "at most 8 modules beside the layer folders"
    folders = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    assert set(folders) == FOLDERS
    for module in MODULES:
        assert layer(module) in LEVEL


def _upward(module: str) -> list[str]:
    if module == "klastergeo":  # the facade: names its entry points, imported lazily
        return []
    level = LEVEL[layer(module)]
    return sorted(
        f"{target} ({layer(_resolve(target))}) line {line}"
        for target, _, line in _imports(MODULES[module])
        if LEVEL[layer(_resolve(target))] > level
    )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module: str) -> None:
    assert _upward(module) == [], f"{module} ({layer(module)}) imports upward"


def test_no_circle_of_imports() -> None:
    edges = _edges()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(MODULES):
        if module not in state:
            visit(module, [module])
    # a package importing its own submodules (its facade) is no circle
    cycles = [c for c in cycles if not all(m.startswith(c[0] + ".") or m == c[0] for m in c)]
    assert cycles == [], cycles


def _private_uses(module: str) -> list[str]:
    """Private names of other modules used in ``module``, and private modules imported
    from outside the package that holds them."""
    path = MODULES[module]
    found = []
    bound: dict[str, str] = {}
    for target, name, line in _imports(path):
        target_module = _resolve(target)
        if name is not None and name.startswith("_") and not name.startswith("__"):
            found.append(f"{target_module}.{name} line {line}")
        parts = target_module.split(".")
        for i, part in enumerate(parts):
            if part.startswith("_") and not part.startswith("__"):
                holder = ".".join(parts[:i])
                if module != holder and not module.startswith(holder + "."):
                    found.append(f"private module {'.'.join(parts[: i + 1])} line {line}")
                break
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("klastergeo")
        ):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in MODULES:
                    bound[alias.asname or alias.name] = full
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("klastergeo") and alias.asname:
                    bound[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in bound
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and bound[node.value.id] != module
        ):
            found.append(f"{bound[node.value.id]}.{node.attr} line {node.lineno}")
    return sorted(set(found))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_names_cross_modules(module: str) -> None:
    assert _private_uses(module) == []


#: What a module of the analysis layer must not import: drawing, pages, spreadsheets, and
#: the layers above it.
IMPURE_IMPORTS = ("matplotlib", "folium", "jinja2", "openpyxl", "branca")
IMPURE_LAYERS = ("io", "publish", "app")
#: Methods that write files.
WRITERS = ("to_csv", "to_parquet", "to_file", "write_text", "write_bytes", "savefig")


def _impurities(path: Path) -> list[str]:
    """Imports of drawing, page or spreadsheet libraries or of the layers above, file
    writes and ``open``, and public functions taking ``lang``, in one analysis module."""
    found = [
        f"imports {target} line {line}"
        for target, _, line in _imports(path)
        if layer(_resolve(target)) in IMPURE_LAYERS
    ]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        found += [
            f"imports {name} line {node.lineno}"
            for name in names
            if name.split(".")[0] in IMPURE_IMPORTS
        ]
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "open":
                found.append(f"open( line {node.lineno}")
            if isinstance(func, ast.Attribute) and func.attr in WRITERS:
                found.append(f".{func.attr} line {node.lineno}")
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith(
            "_"
        ):
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            if any(a.arg == "lang" for a in arguments):
                found.append(f"{node.name}(lang) line {node.lineno}")
    return found


@pytest.mark.parametrize("module", [m for m in MODULES if layer(m) == "analysis"])
def test_the_analysis_layer_is_pure(module: str) -> None:
    """No language, no files, no drawing in the statistics: they return numbers, codes
    and tables, which publish names, draws and the app writes."""
    assert _impurities(MODULES[module]) == [], module


# The tests' own layout ------------------------------------------------------------------

TESTS = Path(__file__).resolve().parent


def _test_file_imports(path: Path) -> list[str]:
    """Imports in ``path`` of a test file (``test_*``) or of ``conftest``: the worlds and
    helpers tests share live in ``tests/worlds``, their fixtures in ``conftest.py``."""
    found: list[str] = []
    text = path.read_text(encoding="utf-8")
    if "test_" not in text and "conftest" not in text:
        return found
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            names = [base, *(f"{base}.{a.name}" if base else a.name for a in node.names)]
        else:
            continue
        for name in names:
            last = name.split(".")[-1]
            if last.startswith("test_") or last == "conftest":
                found.append(f"{name} line {node.lineno}")
    return found


def test_no_test_file_imports_another() -> None:
    offenders = {
        str(path.relative_to(TESTS)): found
        for path in sorted(TESTS.rglob("*.py"))
        if (found := _test_file_imports(path))
    }
    assert offenders == {}, "import from tests/worlds or take a conftest.py fixture"


def test_the_check_sees_test_imports(tmp_path: Path) -> None:
    """The check above finds every way of importing a test file or conftest."""
    bad = tmp_path / "test_bad.py"
    bad.write_text(
        "from tests.conftest import lattice\n"
        "from tests import test_maps\n"
        "import tests.test_browser\n"
        "from .test_batches import x\n"
        "from tests.worlds import lattice\n",
        encoding="utf-8",
    )
    assert len(_test_file_imports(bad)) == 4
