"""Step ``coordinadores``: one coordinator config per table, laid out as in the coordinators repository.

The team's coordinator schema is not public; this one carries what the runbook implies (results-zone
table, DynamoDB table and keys, Glue job, periodicity, paths per environment, log folder) and is checked
against ``schemas/coordinator.schema.json`` before anything is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema  # about a second to import (its format checkers): the steps' kernels import it ahead
import pandas as pd

from productizar.core import naming, paths
from productizar.core.environments import load_environments
from productizar.core.errors import ProductizarError
from productizar.core.files import write_text
from productizar.core.hu import HU, TableSpec

SCHEMA = paths.project_root() / "schemas" / "coordinator.schema.json"
WORK_ROOT = "/data01/Cloud/TMP_FILES"
RUNNER = "ProductizarPy3/coordinatorV2.py"
ENVIRONMENTS = ("dev", "qa", "prd")


def config(hu: HU, spec: TableSpec, roots: dict[str, str] | None = None) -> dict[str, Any]:
    """The coordinator config of one table (``roots``: coordinator root per environment, read once)."""
    n = spec.names
    roots = roots or coordinator_roots()
    envs = {}
    for env_name in ENVIRONMENTS:
        root = roots[env_name]
        envs[env_name] = {
            "config": f"{root}/{n.coordinator_config(hu.api.name)}",
            "logs": f"{root}/{naming.coordinator_logs_folder(hu.api.name)}",
            "work_dir": f"{WORK_ROOT}/{hu.api.name}",
        }
    return {
        "version": 1,
        "api": hu.api.name,
        "hu": hu.id,
        "coordinator": {
            "name": n.table,
            "periodicity": hu.coordinator.periodicity,
            "execution_day": hu.coordinator.execution_day,
            "execution_hour": hu.coordinator.execution_hour,
            "prerequisite": hu.coordinator.prerequisite,
        },
        "source": {"zone": n.zone, "table": n.table},
        "target": {
            "dynamo_table": n.dynamo_table,
            "partition_key": spec.partition_key.model_dump(),
            "sort_key": spec.sort_key.model_dump() if spec.sort_key else None,
            "write_share": hu.load.write_share,
        },
        "glue_job": {"name": naming.glue_job_name(hu.api.slug), "script": "scripts/cargar_dynamo.py"},
        "environments": envs,
    }


def coordinator_roots() -> dict[str, str]:
    envs = load_environments()
    return {name: envs[name].coordinator_root for name in ENVIRONMENTS}


def validate(cfg: dict[str, Any], name: str) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(cfg), key=lambda e: list(e.path))
    if errors:
        lines = [f"  {'/'.join(str(p) for p in e.path) or '(raíz)'}: {e.message}" for e in errors]
        raise ProductizarError(f"La configuración del coordinador {name} no cumple el esquema:\n" + "\n".join(lines))


@dataclass
class Written:
    folder: Path
    files: list[Path]


def write_all(hu: HU, out: Path) -> Written:
    """``<ApiName>/API/cfg/<table>.json`` per table and ``<ApiName>/TMP_FILES/logs/test.txt``, validated first."""
    roots = coordinator_roots()
    configs = {spec.names.coordinator_config(hu.api.name): config(hu, spec, roots) for spec in hu.tables}
    for name, cfg in configs.items():
        validate(cfg, name)  # all of them before any file is written
    folder = out / "coordinadores"
    files = [
        write_text(folder / rel, json.dumps(cfg, indent=2, ensure_ascii=False) + "\n") for rel, cfg in configs.items()
    ]
    files.append(write_text(folder / naming.coordinator_logs_folder(hu.api.name) / "test.txt", ""))
    return Written(folder, files)


def where(hu: HU) -> str:
    return (
        f"Rama del repositorio de coordinadores: {naming.coordinators_branch(hu.id)}. "
        "Copie en ella la carpeta coordinadores/ de la evidencia."
    )


def files_table(w: Written) -> pd.DataFrame:
    return pd.DataFrame([{"Archivo": str(f.relative_to(w.folder)), "Bytes": f.stat().st_size} for f in w.files])


def commands(hu: HU) -> pd.DataFrame:
    """Per environment: the folder to create, the command that runs each coordinator, where its logs land."""
    rows = []
    roots = coordinator_roots()
    for env_name in ("dev", "qa"):
        root = roots[env_name]
        label = "DEV" if env_name == "dev" else "CER (QA)"
        rows.append(
            {
                "Ambiente": label,
                "Paso": "crear carpeta de trabajo",
                "Comando o ruta": f"mkdir -p {WORK_ROOT}/{hu.api.name}",
            }
        )
        for spec in hu.tables:
            cfg = f"{root}/{spec.names.coordinator_config(hu.api.name)}"
            rows.append(
                {
                    "Ambiente": label,
                    "Paso": f"ejecutar {spec.names.table}",
                    "Comando o ruta": f"cd {root}/{Path(RUNNER).parent} && nohup python3 {Path(RUNNER).name} {cfg} &",
                }
            )
        rows.append(
            {
                "Ambiente": label,
                "Paso": "revisar logs",
                "Comando o ruta": f"{root}/{naming.coordinator_logs_folder(hu.api.name)}",
            }
        )
    return pd.DataFrame(rows)


def facts(hu: HU, w: Written, job_upload: Any = None) -> dict[str, Any]:
    """Configs written, and where the Glue job's script and package went (None: not uploaded, a dry run)."""
    return {
        "branch": naming.coordinators_branch(hu.id),
        "folder": str(w.folder),
        "configs": {spec.source: spec.names.coordinator_config(hu.api.name) for spec in hu.tables},
        "glue_job": None
        if job_upload is None
        else {
            "job": job_upload.job,
            "script": job_upload.script,
            "package": job_upload.package,
            "updated": job_upload.job_updated,
        },
    }
