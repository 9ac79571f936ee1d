"""The installed package needs only its runtime dependencies: esda and pointpats are the
independent implementations the tests and benchmarks compare against (dev extras), so no
module of klastergeo may import them."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_ONLY = ("esda", "pointpats")


def test_test_only_packages_are_dev_extras() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = " ".join(project["dependencies"])
    dev = " ".join(project["optional-dependencies"]["dev"])
    for name in TEST_ONLY:
        assert name not in runtime and name in dev, name


@pytest.mark.slow
def test_every_module_imports_without_the_test_only_packages() -> None:
    """Every module of the package, imported where esda and pointpats cannot be."""
    code = (
        "import sys, pkgutil, importlib\n"
        f"for name in {TEST_ONLY!r}:\n"
        "    sys.modules[name] = None  # importing it raises ImportError\n"
        "import klastergeo\n"
        "for m in pkgutil.walk_packages(klastergeo.__path__, 'klastergeo.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]
