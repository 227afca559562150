"""Delivered API packages for the tests: the reference API packed for an HU as an analyst would deliver it,
with its requirements pinned to what this environment has (installed from the local cache, quickly), and
optionally broken in one place."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

from productizar.api.package import reference_files
from productizar.core.files import write_bytes, zip_bytes
from productizar.core.hu import HU


def pinned_requirements() -> bytes:
    return "".join(f"{name}=={version(name)}\n" for name in ("Django", "boto3", "gunicorn")).encode()


def package(hu: HU, out: Path, wrong_key_in: str | None = None, files: dict[str, bytes] | None = None) -> Path:
    """``<ApiName>.zip``: the reference API for the HU; ``wrong_key_in`` (a table source) gets a partition key
    name its DynamoDB table does not have in ``config.json`` (a copy-paste slip of the refactor: that
    table's endpoints cannot read it); ``files`` replaces or adds files."""
    content = reference_files(hu) | {"requirements.txt": pinned_requirements()}
    if wrong_key_in:
        config = json.loads(content["config.json"])
        route = next(t.names.table for t in hu.tables if t.source == wrong_key_in)
        for entry in config["tablas"]:
            if entry["ruta"] == route:
                entry["partition_key"]["name"] += "_mal"
        content["config.json"] = json.dumps(config, indent=2, ensure_ascii=False).encode()
    content |= files or {}
    return write_bytes(out, zip_bytes({f"{hu.api.name}/{rel}": data for rel, data in content.items()}))
