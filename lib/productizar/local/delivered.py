"""A delivered Django API (the HU's ``api.package``) served on loopback as its image would serve it.

The runbook asks to try the refactored API locally before it goes on ("probar en local luego de los
cambios"): this is that trial, against the environment's endpoint, so a delivery that cannot reach its
tables fails on ``local``, before DEV. The package's own ``requirements.txt`` is installed in an isolated
virtual environment cached by the file's hash; ``manage.py migrate`` runs when the settings use SQLite and
the package ships no ``db.sqlite3`` (the runbook's step); its tables' names and the AWS endpoint reach it
through the environment variables its ``config.json`` names; the server is the Dockerfile's (gunicorn, or
``manage.py runserver``), bound to loopback. What does not install or start fails with its own last lines
of output, within a time limit, and leaves nothing running.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from productizar.core import paths
from productizar.core.errors import ProductizarError
from productizar.core.files import locked
from productizar.local import loopback

HEALTH_PATH = "/"  # a delivered API has no agreed health page: any HTTP answer means it is serving
INSTALL_TIMEOUT_S = float(os.environ.get("PRODUCTIZAR_API_INSTALL_TIMEOUT_S", "900"))
MIGRATE_TIMEOUT_S = 120.0


class ApiStartFailed(ProductizarError):
    """The API did not install, migrate or start on loopback: the message quotes its own output."""


@dataclass(frozen=True)
class Served:
    pid: int
    port: int
    marker: str  # what its command line holds (how its pid is told from a reused one)


@dataclass(frozen=True)
class Plan:
    """How the image serves the API: gunicorn with the Dockerfile's arguments, or Django's runserver."""

    server: str  # "gunicorn" | "runserver"
    args: tuple[str, ...]  # gunicorn's arguments without its bind address
    settings_module: str
    source: str  # where the plan comes from, for the evidence ("Dockerfile: CMD [...]")

    def argv(self, python: Path, port: int) -> list[str]:
        bind = f"{loopback.HOST}:{port}"
        if self.server == "gunicorn":
            return [str(python), "-m", "gunicorn", "--bind", bind, *self.args]
        return [str(python), "manage.py", "runserver", "--noreload", bind]


# ------------------------------------------------------------------------------------------ the plan


def _command(dockerfile: str) -> list[str]:
    """The last CMD (after any ENTRYPOINT) of a Dockerfile, as argv; empty when it has none."""
    entry: list[str] = []
    cmd: list[str] = []
    text = re.sub(r"\\\n", " ", dockerfile)  # continued lines
    for line in text.splitlines():
        m = re.match(r"(?i)^\s*(CMD|ENTRYPOINT)\s+(.*)$", line)
        if not m:
            continue
        body = m.group(2).strip()
        try:
            argv = json.loads(body) if body.startswith("[") else shlex.split(body)
        except (ValueError, json.JSONDecodeError):
            argv = shlex.split(body.strip("[]").replace(",", " "))
        if m.group(1).upper() == "ENTRYPOINT":
            entry = [str(a) for a in argv]
        else:
            cmd = [str(a) for a in argv]
    return entry + cmd


def _without_bind(args: list[str]) -> list[str]:
    """gunicorn's arguments less the address it binds (loopback replaces it) and daemon mode."""
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-b", "--bind"):
            skip = True
            continue
        if a.startswith(("--bind=", "-b=")) or a in ("-D", "--daemon"):
            continue
        out.append(a)
    return out


def settings_module(project: Path) -> str:
    """The settings module ``manage.py`` sets (``DJANGO_SETTINGS_MODULE``)."""
    manage = (project / "manage.py").read_text(encoding="utf-8", errors="replace")
    m = re.search(r"DJANGO_SETTINGS_MODULE['\"]\s*,\s*['\"]([\w.]+)['\"]", manage)
    if not m:
        raise ApiStartFailed(
            f"{project.name}/manage.py no dice su módulo de settings (os.environ.setdefault("
            '"DJANGO_SETTINGS_MODULE", "<proyecto>.settings")): agréguelo como lo crea django-admin.'
        )
    return m.group(1)


def plan(project: Path) -> Plan:
    """How to serve the project as its image does: the Dockerfile's CMD when it runs gunicorn or
    ``manage.py runserver``; without a Dockerfile, gunicorn on the settings' WSGI module."""
    module = settings_module(project)
    dockerfile = next((p for p in sorted(project.glob("Dockerfile*")) if p.is_file()), None)
    if dockerfile is None:
        wsgi = module.rsplit(".", 1)[0] + ".wsgi:application"
        return Plan("gunicorn", (wsgi,), module, "sin Dockerfile: gunicorn con " + wsgi)
    argv = _command(dockerfile.read_text(encoding="utf-8", errors="replace"))
    shown = f"{dockerfile.name}: {' '.join(argv) or '(sin CMD)'}"
    words = [os.path.basename(a) for a in argv]
    if "gunicorn" in words:
        return Plan("gunicorn", tuple(_without_bind(argv[words.index("gunicorn") + 1 :])), module, shown)
    if "runserver" in words and any(a.endswith("manage.py") for a in argv):
        return Plan("runserver", (), module, shown)
    raise ApiStartFailed(
        f"No sé servir este API como su imagen: el CMD de {shown} no corre gunicorn ni manage.py runserver. "
        "Sírvalo con gunicorn (vea reference_api/Dockerfile)."
    )


# --------------------------------------------------------------------------------------- environment


def _run_limited(argv: list[str], log: Path, timeout_s: float, what: str, **popen: Any) -> None:
    """Run a command to its end within ``timeout_s``, its output appended to ``log``; a failure or a time
    limit ends its whole process group and raises with the log's last lines."""
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, **popen
        )
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise ApiStartFailed(f"{what}: no terminó en {timeout_s:.0f} s y se detuvo; {loopback.tail(log)}") from None
    if code != 0:
        raise ApiStartFailed(f"{what}: falló (código {code}); {loopback.tail(log)}")


def virtualenv(requirements: Path, timeout_s: float = INSTALL_TIMEOUT_S, echo: Callable[[str], None] = print) -> Path:
    """The python of an isolated virtual environment with ``requirements`` installed, built once per
    content of the file (and Python version) and reused after; a failed build is removed whole."""
    key = hashlib.sha256(requirements.read_bytes() + sys.version.encode()).hexdigest()[:16]
    root = paths.state_dir() / "venvs"
    target = root / key
    python = target / "bin" / "python"
    with locked(root / f"{key}.lock"):
        if (target / ".ready").exists():
            return python
        shutil.rmtree(target, ignore_errors=True)
        echo(
            f"Instalando {requirements.name} del paquete en un entorno virtual aislado (una vez por contenido; "
            f"hasta {timeout_s:.0f} s)..."
        )
        log = root / f"{key}.log"
        log.unlink(missing_ok=True)
        uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
        try:
            if uv:
                create = [uv, "venv", "--quiet", "--python", sys.executable, str(target)]
                install = [uv, "pip", "install", "--python", str(python), "-r", str(requirements)]
            else:
                create = [sys.executable, "-m", "venv", str(target)]
                install = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-r", str(requirements)]
            _run_limited(create, log, 120, "crear el entorno virtual del API")
            _run_limited(install, log, timeout_s, f"instalar {requirements.name} del paquete")
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        (target / ".ready").touch()
    return python


def _uses_sqlite(project: Path, module: str) -> bool:
    settings = project / (module.replace(".", "/") + ".py")
    text = settings.read_text(encoding="utf-8", errors="replace") if settings.exists() else ""
    return "django.db.backends.sqlite3" in text


def table_variables(project: Path, tables: dict[str, str]) -> dict[str, str]:
    """The variables the package's ``config.json`` reads its DynamoDB tables from, each set to its table:
    ``tables`` maps a results-zone table (the route) to its DynamoDB table; an entry names its route in
    ``ruta`` and its variable in ``variable_tabla``, as the refactor leaves them."""
    config = project / "config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8")) if config.exists() else {}
    except ValueError as exc:
        raise ApiStartFailed(f"{project.name}/config.json no es JSON válido: {exc}") from None
    out: dict[str, str] = {}
    for entry in data.get("tablas", []) if isinstance(data, dict) else []:
        if not isinstance(entry, dict):
            continue
        route, variable = str(entry.get("ruta", "")).lower(), entry.get("variable_tabla")
        if isinstance(variable, str) and route in tables:
            out[variable] = tables[route]
    return out


def serve(project: Path, env: dict[str, str], tables: dict[str, str], log: Path, wait_s: float = 60.0) -> Served:
    """Install, migrate where due, and start the delivered project on a loopback port until it answers."""
    how = plan(project)
    requirements = project / "requirements.txt"
    if not requirements.exists():
        raise ApiStartFailed(f"{project.name} no trae requirements.txt: no se puede instalar su entorno.")
    python = virtualenv(requirements)
    env = env | table_variables(project, tables) | {"DJANGO_SETTINGS_MODULE": how.settings_module}
    log.unlink(missing_ok=True)
    if _uses_sqlite(project, how.settings_module) and not (project / "db.sqlite3").exists():
        _run_limited(
            [str(python), "manage.py", "migrate", "--noinput"],
            log,
            MIGRATE_TIMEOUT_S,
            "manage.py migrate",
            cwd=project,
            env=env,
        )
    marker = "gunicorn" if how.server == "gunicorn" else "manage.py"
    t0 = time.monotonic()
    started = loopback.spawn(
        lambda port: how.argv(python, port),
        lambda port: f"http://{loopback.HOST}:{port}{HEALTH_PATH}",
        log,
        wait_s,
        cwd=project,
        env=env,
        answered=loopback.responds,
    )
    if not started:
        if time.monotonic() - t0 < wait_s:  # it ended by itself: say what it said last
            cause = _cause(log)
            raise ApiStartFailed(
                f"El API entregado terminó sin llegar a responder ({how.source})"
                f"{': ' + cause if cause else ''}; no quedó nada corriendo; {loopback.tail(log)}"
            )
        raise ApiStartFailed(
            f"El API entregado no respondió en {loopback.HOST} en {wait_s:.0f} s ({how.source}); se detuvo y no "
            f"quedó nada corriendo; {loopback.tail(log)}"
        )
    return Served(*started, marker)


def _cause(log: Path) -> str:
    """The last exception a log shows (``RuntimeError: ...``): the line that says why, before the tail."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    found = re.findall(r"^([\w.]*(?:Error|Exception|Improperly\w*)\b.*)$", text, flags=re.M)
    return found[-1].strip() if found else ""
