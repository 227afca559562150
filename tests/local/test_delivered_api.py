"""Issue 20, item 5: a delivered API (``api.package``) started on loopback as its image would serve it: its
own requirements in a cached virtual environment, ``manage.py migrate`` where the runbook says, the
Dockerfile's server; and what does not install or start fails with its own output, within a time limit,
leaving nothing running."""

import os
import time
import urllib.request
from pathlib import Path

import pytest

from productizar.api.package import reference_files
from productizar.core.hu import load_hu
from productizar.local import api as local_api
from productizar.local import delivered
from tests.support.delivered import pinned_requirements

ROOT = Path(__file__).resolve().parents[2]
DEMO = load_hu(ROOT / "parameters" / "hu" / "demo.yaml")
AWS = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_DEFAULT_REGION": "us-east-1"}


def project(tmp_path: Path, **changes: bytes) -> Path:
    """The reference API unpacked as a delivered project, with ``changes`` (relative path -> content)."""
    root = tmp_path / "Entregado"
    files = reference_files(DEMO) | {"requirements.txt": pinned_requirements()} | changes
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def running_in(folder: Path) -> list[int]:
    """The processes whose working directory is ``folder`` (what a server started there would be)."""
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if Path(os.readlink(p / "cwd")) == folder:
                    out.append(int(p.name))
            except OSError:
                continue
    return out


TABLES = {t.names.table: t.names.dynamo_table for t in DEMO.tables}


def test_the_plan_follows_the_dockerfile(tmp_path):
    root = project(tmp_path)
    p = delivered.plan(root)
    assert (p.server, p.args, p.settings_module) == (
        "gunicorn",
        ("--workers", "3", "api_productizar.wsgi:application"),
        "api_productizar.settings",
    )
    (root / "Dockerfile").write_text(
        'FROM python:3.11.10-slim\nENTRYPOINT ["gunicorn"]\n'
        'CMD ["--bind=0.0.0.0:8080", "-w", "2", "api_productizar.wsgi"]\n'
    )
    assert delivered.plan(root).args == ("-w", "2", "api_productizar.wsgi")
    (root / "Dockerfile").write_text(
        "FROM python:3.11.10-slim\nCMD gunicorn -b 0.0.0.0:8080 --daemon \\\n  --threads 4 api_productizar.wsgi\n"
    )
    assert delivered.plan(root).args == ("--threads", "4", "api_productizar.wsgi")
    (root / "Dockerfile").write_text(
        'FROM python:3.11.10-slim\nCMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]\n'
    )
    assert delivered.plan(root).argv(Path("/v/bin/python"), 5000) == [
        "/v/bin/python",
        "manage.py",
        "runserver",
        "--noreload",
        "127.0.0.1:5000",
    ]
    (root / "Dockerfile").write_text('FROM python:3.11.10-slim\nCMD ["uvicorn", "api:app"]\n')
    with pytest.raises(delivered.ApiStartFailed, match="no corre gunicorn ni manage.py runserver"):
        delivered.plan(root)
    (root / "Dockerfile").unlink()
    assert delivered.plan(root).args == ("api_productizar.wsgi:application",)


def test_table_variables_come_from_the_packages_config_json(tmp_path):
    root = project(tmp_path)
    assert delivered.table_variables(root, TABLES) == {
        "DYNAMO_TABLE_ALTER_CTRA_SCORE_DELTA": "dynamo-alter-ctra-score-delta-api",
        "DYNAMO_TABLE_ALTER_CTRA_SEGMENTO_CLIENTE": "dynamo-alter-ctra-segmento-cliente-api",
        "DYNAMO_TABLE_ALTER_CTRA_OFERTA_PRODUCTO": "dynamo-alter-ctra-oferta-producto-api",
    }
    renamed = (root / "config.json").read_text().replace("DYNAMO_TABLE_ALTER_CTRA_SCORE_DELTA", "TABLA_SCORE")
    (root / "config.json").write_text(renamed)
    assert delivered.table_variables(root, TABLES)["TABLA_SCORE"] == "dynamo-alter-ctra-score-delta-api"


@pytest.mark.server
def test_a_sqlite_project_is_migrated_then_served_by_runserver(tmp_path):
    settings = reference_files(DEMO)["api_productizar/settings.py"].replace(
        b"DATABASES: dict = {}",
        b'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}\n'
        b'INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "consultas"]',
    )
    dockerfile = b'FROM python:3.11.10-slim\nUSER api\nCMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]\n'
    root = project(tmp_path, **{"api_productizar/settings.py": settings, "Dockerfile": dockerfile})
    log = tmp_path / "api.log"
    served = delivered.serve(root, dict(os.environ) | AWS, TABLES, log, wait_s=60)
    try:
        assert (root / "db.sqlite3").exists()  # the runbook's `python3 manage.py migrate`
        assert "Applying auth.0001_initial... OK" in log.read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{served.port}/salud", timeout=10) as answer:
            assert answer.status == 200
        assert "manage.py runserver" in Path(f"/proc/{served.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    finally:
        from productizar.local import loopback

        loopback.stop(served.pid, served.marker)
    assert running_in(root) == []


def test_requirements_that_do_not_install_fail_with_their_output_and_leave_no_environment(tmp_path, monkeypatch):
    root = project(tmp_path, **{"requirements.txt": pinned_requirements() + b"Django>>>5.2\n"})
    with pytest.raises(delivered.ApiStartFailed) as failed:
        delivered.serve(root, dict(os.environ) | AWS, TABLES, tmp_path / "api.log")
    text = str(failed.value)
    assert text.startswith("instalar requirements.txt del paquete: falló (código")
    assert "últimas líneas de" in text and "Django>>>5.2" in text
    venvs = [p for p in (Path(os.environ["PRODUCTIZAR_STATE_DIR"]) / "venvs").iterdir() if p.is_dir()]
    assert all((p / ".ready").exists() for p in venvs)  # the failed one was removed whole
    assert running_in(root) == []


@pytest.mark.server
def test_a_project_that_crashes_on_start_fails_with_its_own_error(tmp_path):
    settings = reference_files(DEMO)["api_productizar/settings.py"] + b'\nraise RuntimeError("falta CONFIG_API")\n'
    root = project(tmp_path, **{"api_productizar/settings.py": settings})
    t0 = time.monotonic()
    with pytest.raises(delivered.ApiStartFailed) as failed:
        delivered.serve(root, dict(os.environ) | AWS, TABLES, tmp_path / "api.log", wait_s=60)
    assert time.monotonic() - t0 < 55  # it ended as soon as gunicorn gave up, not at the time limit
    assert str(failed.value).startswith(
        "El API entregado terminó sin llegar a responder (Dockerfile: gunicorn --bind 0.0.0.0:8000 --workers 3 "
        "api_productizar.wsgi:application): RuntimeError: falta CONFIG_API; no quedó nada corriendo; últimas líneas"
    )
    assert running_in(root) == []


@pytest.mark.server
def test_a_project_that_never_answers_is_stopped_at_the_time_limit(tmp_path):
    wsgi = b"import time\ntime.sleep(600)\n"
    dockerfile = (
        b'FROM python:3.11.10-slim\nUSER api\nCMD ["gunicorn", "--preload", "api_productizar.wsgi:application"]\n'
    )
    root = project(tmp_path, **{"api_productizar/wsgi.py": wsgi, "Dockerfile": dockerfile})
    with pytest.raises(delivered.ApiStartFailed, match=r"no respondió en 127.0.0.1 en 4 s .*no quedó nada corriendo"):
        delivered.serve(root, dict(os.environ) | AWS, TABLES, tmp_path / "api.log", wait_s=4)
    assert running_in(root) == []


@pytest.mark.server
def test_local_api_runs_the_delivered_package_and_stops_it(tmp_path):
    from tests.support.delivered import package

    zip_path = package(DEMO, tmp_path / "AlterCtraScoreDelta.zip")
    state = local_api.start(DEMO, zip_path, AWS, reference=False)
    try:
        assert state.marker == "gunicorn" and state.health_path == "/"
        cmdline = Path(f"/proc/{state.pid}/cmdline").read_bytes().split(b"\0")
        assert b"venvs" in cmdline[0] and b"--workers" in cmdline  # its own environment, the image's arguments
        assert local_api.running() == state
    finally:
        assert local_api.stop()
    assert local_api.running() is None
