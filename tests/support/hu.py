"""The demo HU changed for a test: whole sections replaced in memory, or a line of its file rewritten."""

from pathlib import Path
from typing import Any

import yaml

from productizar.core import paths
from productizar.core.hu import HU

DEMO = paths.project_root() / "parameters" / "hu" / "demo.yaml"


def demo_data() -> dict[str, Any]:
    """The demo HU file as plain data (a fresh copy each call)."""
    return yaml.safe_load(DEMO.read_text(encoding="utf-8"))


def demo_with(**sections: Any) -> HU:
    """The demo HU with these top-level sections replaced (``load={...}``, ``tables=[...]``)."""
    return HU.model_validate(demo_data() | sections)


def demo_file_with(folder: Path, old: str, new: str) -> Path:
    """A copy of the demo HU file in ``folder`` with the text ``old`` replaced by ``new``."""
    path = folder / "hu.yaml"
    path.write_text(DEMO.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return path
