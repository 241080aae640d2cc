"""Headless Chromium (Debian's chromium package) for the HTML views' tests.

Without the browser the tests skip, unless FLEETROUTE_REQUIRE_BROWSER is set (CI sets it
after installing chromium), so a missing browser there fails instead of passing quietly.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

#: The flags that keep Chromium off the network and quiet on this machine.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--virtual-time-budget=4000",
)  # fmt: skip

#: Where screenshots are kept for people to look at (CI keeps the folder).
ARTIFACTS = Path(os.environ.get("FLEETROUTE_ARTIFACTS", "out/test-artifacts"))


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("FLEETROUTE_REQUIRE_BROWSER"):
            pytest.fail("chromium is required (FLEETROUTE_REQUIRE_BROWSER) but not installed")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    return found


def _run(page: Path | str, *extra: str) -> str:
    """Chromium's output for a page file, or for a URL (``http://127.0.0.1:...``)."""
    where = page if isinstance(page, str) else page.resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, where],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def body_marks(page: Path | str) -> dict[str, str]:
    """The ``data-*`` attributes of ``<body>`` once the page (a file or a URL) has run its
    scripts."""
    dom = _run(page, "--dump-dom")
    body = re.search(r"<body([^>]*)>", dom)
    assert body is not None, dom[:500]
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))


def screenshot(page: Path, name: str, size: str = "1000,800") -> Path:
    """A PNG of the page, kept in :data:`ARTIFACTS`."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = (ARTIFACTS / name).resolve()
    _run(page, f"--window-size={size}", f"--screenshot={out}")
    assert out.stat().st_size > 0
    return out
