"""The headless Chromium the browser tests drive: Debian's package (``.ci/run`` installs
it), never a browser Playwright downloads, and its flags for a page with no network."""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
