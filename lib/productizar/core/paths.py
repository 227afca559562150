"""Where the project, its local state and its evidence live on disk.

Each can be moved with an environment variable (tests use that to keep their state private); the
defaults are the folders of the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

MARKER = Path("parameters") / "environments.yaml"


def project_root() -> Path:
    """The checkout: $PRODUCTIZAR_HOME, else the repository this package sits in, else cwd or a parent."""
    if os.environ.get("PRODUCTIZAR_HOME"):
        return Path(os.environ["PRODUCTIZAR_HOME"]).resolve()
    here = Path(__file__).resolve().parents[3]
    if (here / MARKER).is_file():
        return here
    for candidate in [Path.cwd(), *Path.cwd().parents]:
        if (candidate / MARKER).is_file():
            return candidate
    raise FileNotFoundError(f"cannot find the productizar checkout ({MARKER}); set PRODUCTIZAR_HOME")


def state_dir() -> Path:
    """The embedded default's state (moto pid and port, DuckDB file): git-ignored."""
    return Path(os.environ.get("PRODUCTIZAR_STATE_DIR") or project_root() / ".productizar" / "local")


def cache_dir() -> Path:
    """What is kept only to avoid repeating work (a template's scan): $PRODUCTIZAR_CACHE_DIR, else beside the
    embedded default's state; removing it costs time, never a result."""
    return Path(os.environ.get("PRODUCTIZAR_CACHE_DIR") or project_root() / ".productizar" / "cache")


def output_root() -> Path:
    return Path(os.environ.get("PRODUCTIZAR_OUTPUT_ROOT") or project_root() / "outputs")


def hu_output_dir(hu_id: int, env: str) -> Path:
    """``outputs/HU<id>/<env>/``: everything a run writes for one HU and environment."""
    return output_root() / f"HU{hu_id}" / env


def regression_hu() -> Path:
    """``parameters/hu/regresion.yaml``: the small HU the golden notebooks and most tests run on; its
    exported tables are in the folder of the same name beside it."""
    return project_root() / "parameters" / "hu" / "regresion.yaml"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def environments_file() -> Path:
    """``parameters/environments.yaml``, or the file named by $PRODUCTIZAR_ENVIRONMENTS."""
    return Path(os.environ.get("PRODUCTIZAR_ENVIRONMENTS") or project_root() / MARKER)


def gates_file() -> Path:
    """``parameters/gates.yaml`` (the runbook's manual gates), or the file named by $PRODUCTIZAR_GATES."""
    return Path(os.environ.get("PRODUCTIZAR_GATES") or project_root() / "parameters" / "gates.yaml")


def drift_file() -> Path:
    """``parameters/drift.yaml`` (the differences between environments that are expected), or the file named
    by $PRODUCTIZAR_DRIFT."""
    return Path(os.environ.get("PRODUCTIZAR_DRIFT") or project_root() / "parameters" / "drift.yaml")


def shown(path: Path) -> str:
    """``path`` as the evidence names it: relative to the checkout when inside it (no machine's folders)."""
    resolved, root = path.resolve(), project_root()
    return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(path)
