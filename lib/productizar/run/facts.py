"""Facts: what a step found, handed to later steps through files in the evidence folder.

Each step writes ``facts/<step>.json`` under ``outputs/HU<id>/<env>/``; later steps read them there,
never through globals, so a step can be re-run (or stepped through in JupyterLab) on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from productizar.core.errors import ProductizarError
from productizar.core.files import read_json, write_json


def facts_file(output_dir: Path, step: str) -> Path:
    return Path(output_dir) / "facts" / f"{step}.json"


def record(output_dir: Path, step: str, facts: dict[str, Any]) -> Path:
    return write_json(facts_file(output_dir, step), facts)


def load(output_dir: Path, step: str) -> dict[str, Any]:
    path = facts_file(output_dir, step)
    if not path.exists():
        raise ProductizarError(f"El paso «{step}» no ha dejado resultados en {path.parent}: ejecútelo antes de este.")
    return read_json(path)
