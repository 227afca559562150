"""Resolve an environment's ``embedded`` values once, into the running local emulation's URL and path.

A run resolves when it starts and each step when it starts (a notebook kernel is its own process); below
the run every layer simply uses a URL and a path, and never asks the local process supervisor.
"""

from __future__ import annotations

from pathlib import Path

from productizar.api import package as api_package
from productizar.cloud import aws
from productizar.core import paths
from productizar.core.environments import EMBEDDED, CapacityModel, DuckDBZone, Environment
from productizar.core.hu import HU
from productizar.local import api as local_api
from productizar.local import embedded

EMBEDDED_ZONE_LABEL = "DuckDB embebido (entorno local)"


def _zone_label(copy: str) -> str:
    return EMBEDDED_ZONE_LABEL if copy == "local" else f"DuckDB embebido (copia {copy.upper()} de los datos demo)"


def resolve(env: Environment) -> Environment:
    """The environment with ``embedded`` replaced by the running moto server's URL (with placeholder
    credentials) and the demo results zone's file; ``LocalNotRunning`` when it is not up."""
    update: dict[str, object] = {}
    if env.aws.endpoint == EMBEDDED:
        state = embedded.running_state()
        model = None
        if state.capacity_rules:  # the server meters DynamoDB itself: say with what
            model = CapacityModel(source=paths.shown(Path(state.capacity_rules)), time_scale=state.time_scale)
        update["aws"] = env.aws.model_copy(
            update={"endpoint": state.endpoint, "placeholder_credentials": True, "capacity_model": model}
        )
    zone = env.results_zone
    if isinstance(zone, DuckDBZone) and zone.path == EMBEDDED:
        update["results_zone"] = zone.model_copy(
            update={
                "path": str(embedded.duckdb_path(zone.demo_data)),
                "label": zone.label or _zone_label(zone.demo_data),
            }
        )
    return env.model_copy(update=update) if update else env


def embedded_api(hu: HU, hu_path: Path, output_dir: Path, env: Environment) -> str:
    """The URL of the HU's API started on loopback against the (resolved) environment's endpoint: its delivered
    package (``api.package``), or the reference API packed for it under ``output_dir``."""
    zip_path, reference = api_package.package_path(hu, hu_path, output_dir)
    return local_api.start(hu, zip_path, aws.process_environment(env), reference).base_url
