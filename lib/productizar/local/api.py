"""The HU's API running on loopback for ``local``, started and stopped by the tool like moto.

The reference API (the HU names no ``api.package``) runs from its zip under gunicorn in the project's own
environment. A delivered API (``api.package``) runs as its image would (``local.delivered``: its own
requirements in an isolated, cached virtual environment, ``manage.py migrate`` where the runbook says, the
Dockerfile's server). Either is extracted into the state dir and configured only through environment
variables: the DynamoDB table of each route, the moto endpoint, the region and placeholder credentials. It
outlives one notebook kernel (the smoke and load-test steps call it); ``productizar local down`` stops it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from productizar.core import naming, paths
from productizar.core.errors import ProductizarError
from productizar.core.hu import HU
from productizar.local import delivered, loopback

HOST = loopback.HOST
MARKER = "gunicorn"  # in the server's command line: how its pid is told from a reused one


@dataclass(frozen=True)
class ApiState:
    pid: int
    port: int
    fingerprint: str  # package bytes + moto endpoint: a change restarts the server
    marker: str = MARKER  # in the server's command line (gunicorn, or manage.py for runserver)
    health_path: str = "/salud"  # what answers once it is up (a delivered API: any page answering HTTP)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"


def _state_file() -> Path:
    return paths.state_dir() / "api.json"


def _health(port: int, path: str = "/salud") -> str:
    return f"http://{HOST}:{port}{path}"


def _read() -> ApiState | None:
    return loopback.read_state(_state_file(), ApiState)


def _alive(state: ApiState) -> bool:
    if not loopback.runs(state.pid, state.marker):
        return False
    if state.health_path == "/salud":
        return loopback.answers(_health(state.port))
    return loopback.responds(_health(state.port, state.health_path))


def environment(hu: HU, aws_env: dict[str, str]) -> dict[str, str]:
    """The API's whole configuration: what the release sets per environment, here pointing at moto
    (``aws_env``: ``aws.process_environment`` of the environment)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DYNAMO_TABLE_", "DJANGO_"))}
    env |= aws_env | {
        "DJANGO_SETTINGS_MODULE": "api_productizar.settings",
        "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for t in hu.tables:
        env[naming.api_table_variable(t.names.table)] = t.names.dynamo_table
    return env


def _project_dir(zip_path: Path, fingerprint: str) -> Path:
    """The zip extracted once per fingerprint (member paths checked: nothing lands outside the folder)."""
    target = paths.state_dir() / "api" / fingerprint
    if (target / ".ready").exists():
        return target
    with zipfile.ZipFile(zip_path) as zf:
        for member in zf.namelist():
            dest = (target / member).resolve()
            if not dest.is_relative_to(target.resolve()):
                raise ProductizarError(f"{zip_path.name}: la ruta {member} sale de la carpeta del proyecto")
        zf.extractall(target)
    (target / ".ready").touch()
    return target


def _manage_dir(root: Path) -> Path:
    found = sorted(root.rglob("manage.py"), key=lambda p: len(p.parts))
    if not found:
        raise ProductizarError(f"{root}: no se encontró manage.py")
    return found[0].parent


def running() -> ApiState | None:
    """The reference API of this state dir, if it is up."""
    state = _read()
    return state if state and _alive(state) else None


def stop() -> bool:
    """Stop the API of this state dir (True if one was running)."""
    state = _read()
    stopped = state is not None and loopback.stop(state.pid, state.marker)
    _state_file().unlink(missing_ok=True)
    return stopped


def start(hu: HU, zip_path: Path, aws_env: dict[str, str], reference: bool = True, wait_s: float = 60.0) -> ApiState:
    """The running API for this package and AWS endpoint; started (or restarted) when needed. ``reference``:
    the repository's reference API (the project's environment); otherwise the delivered package, served as its
    image serves it (``local.delivered``)."""
    settings = json.dumps(aws_env, sort_keys=True).encode()
    fingerprint = hashlib.sha256(zip_path.read_bytes() + settings + bytes([reference])).hexdigest()[:16]
    state = _read()
    if state and state.fingerprint == fingerprint and _alive(state):
        return state
    stop()
    project = _manage_dir(_project_dir(zip_path, fingerprint))
    log = paths.state_dir() / "api.log"
    if not reference:
        tables = {t.names.table: t.names.dynamo_table for t in hu.tables}
        served = delivered.serve(project, environment(hu, aws_env), tables, log, wait_s)
        state = ApiState(served.pid, served.port, fingerprint, served.marker, delivered.HEALTH_PATH)
        loopback.write_state(_state_file(), state)
        return state
    started = loopback.spawn(
        # gunicorn, as the image's CMD runs it (Django's runserver delays keep-alive replies by 40 ms)
        lambda port: [
            sys.executable,
            "-m",
            MARKER,
            "--bind",
            f"{HOST}:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            "2",
            "--threads",
            "4",
            "--access-logfile",
            "-",
            "api_productizar.wsgi:application",
        ],
        _health,
        log,
        wait_s,
        cwd=project,
        env=environment(hu, aws_env),
    )
    if not started:
        raise delivered.ApiStartFailed(f"El API de referencia no arrancó en {HOST}; {loopback.tail(log)}")
    state = ApiState(*started, fingerprint)
    loopback.write_state(_state_file(), state)
    return state
