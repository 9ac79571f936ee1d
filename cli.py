"""Run klastergeo from a checkout without installing it: ``python cli.py --help``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from klastergeo.app.cli import main

if __name__ == "__main__":
    main()
