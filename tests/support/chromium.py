"""Debian's Chromium for the browser tests: where it is, the flags this machine needs, where shots go."""

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "outputs" / "screenshots"
# the flags this machine needs: no sandbox as root, and no background connections to a closed network
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
]


def chromium_path() -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is missing: make test installs it (tools/system-deps test)"
    return chromium
