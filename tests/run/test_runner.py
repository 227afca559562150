"""The runner: papermill batch per HU, evidence folder, skip of unchanged steps, failure handling, hygiene."""

import json
from pathlib import Path

import nbformat
import pytest

from productizar.core import paths
from productizar.core.errors import UsageError
from productizar.local import embedded as localenv
from productizar.run.registry import STEPS, parse_steps
from productizar.run.runner import Runner
from tests.support.notebooks import notebook

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "parameters" / "hu" / "demo.yaml"


@pytest.fixture(autouse=True)
def own_evidence(tmp_path, monkeypatch):
    """Each test's runs write their own evidence folder: the session's is the notebooks' (and a test that
    reads a summary must find only its own runs in it)."""
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "evidencia"))


def run(steps, notebooks=None, **kw):
    lines: list[str] = []
    runner = Runner(DEMO, "local", steps, notebooks=notebooks or paths.notebooks_dir(), echo=lines.append, **kw)
    return runner.run(), lines


def test_steps_are_named_and_ordered_as_the_runbook():
    assert STEPS == (
        "conteo",
        "dimensionamiento",
        "infraestructura",
        "coordinadores",
        "carga",
        "verificacion",
        "api",
        "smoke",
        "pruebas",
        "documentos",
        "consecutivo",
    )
    assert parse_steps("carga, conteo") == ["conteo", "carga"]
    assert parse_steps("") == list(STEPS)
    with pytest.raises(UsageError, match="unknown step.*contéo"):
        parse_steps("contéo")


@pytest.mark.usefixtures("embedded")
def test_conteo_evidence_summary_and_skip_when_unchanged():
    result, lines = run(["conteo"], force=True)
    assert result.exit_code == 0, lines
    out = result.output_dir
    assert out == paths.output_root() / "HU3575833" / "local"
    for name in ("conteo.ipynb", "conteo.html", "index.html", "summary.json", "facts/conteo.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["hu_id"] == 3575833 and summary["environment"] == "local"
    assert [s["name"] for s in summary["steps"]] == list(STEPS)
    conteo = summary["steps"][0]
    assert conteo["status"] == "ok" and conteo["started_at"] and conteo["ended_at"]
    counts = conteo["facts"]["tables"]["resultados_riesgos.alter_ctra_score_delta"]
    assert (counts["rows"], counts["null_key_rows"], counts["duplicate_keys"], counts["expected_items"]) == (
        100_000,
        5,
        4,
        99_991,
    )
    assert all(s["status"] == "skipped" for s in summary["steps"][1:])
    index = (out / "index.html").read_text()
    assert 'href="conteo.html"' in index and "correcto" in index
    html = (out / "conteo.html").read_text()
    assert "Clave nula o vacía" in html and "99.991" in html

    again, lines = run(["conteo"])
    assert again.exit_code == 0 and any("conteo           al día desde " in line for line in lines)
    assert json.loads((out / "summary.json").read_text())["steps"][0]["ended_at"] == conteo["ended_at"]

    _, lines = run(["conteo"], confirm="3575833")  # another input: runs again, and says which
    assert any(" correcto (" in line and line.endswith("· cambió la confirmación") for line in lines), lines


@pytest.mark.usefixtures("embedded")
def test_a_new_embedded_server_runs_the_steps_again(tmp_path, monkeypatch):
    """What ran against a moto that has since stopped (its stack and tables gone) is not 'up to date'."""
    monkeypatch.setenv("PRODUCTIZAR_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))
    first, _ = run(["conteo"])  # starts its own embedded default and stops it at the end
    assert first.exit_code == 0
    again, lines = run(["conteo"])  # a new server: conteo runs again instead of being skipped
    assert again.exit_code == 0 and not any("al día" in line for line in lines)
    assert any(line.endswith("· el servidor embebido es otro (los datos que escribió ya no están)") for line in lines)


@pytest.mark.usefixtures("embedded")
def test_a_failing_step_stops_the_batch_and_says_why(tmp_path, capsys):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    notebook(
        nbs / "conteo.ipynb",
        "from productizar.run import step as notebook\n"
        "paso = notebook.start('conteo', hu_path, env, output_dir)\nprint(paso.record({'ok': True}))",
    )
    notebook(
        nbs / "dimensionamiento.ipynb",
        "from productizar.run import step as notebook\n"
        "paso = notebook.start('dimensionamiento', hu_path, env, output_dir)",
        "from productizar.core.errors import ProductizarError\npaso.record({'medio': 1})\n"
        "raise ProductizarError('faltan precios para us-east-1')",
    )
    notebook(nbs / "infraestructura.ipynb", "raise SystemExit('must not run')")
    result, lines = run(["conteo", "dimensionamiento", "infraestructura"], notebooks=nbs, force=True)
    assert result.exit_code == 1
    by_name = {s.name: s.to_json() for s in result.steps}
    assert by_name["conteo"]["status"] == "ok" and by_name["conteo"]["facts"] == {"ok": True}
    assert by_name["dimensionamiento"]["status"] == "failed"
    assert by_name["dimensionamiento"]["message"] == "ProductizarError: faltan precios para us-east-1"
    assert by_name["dimensionamiento"]["facts"] == {}
    assert not (result.output_dir / "facts" / "dimensionamiento.json").exists()  # nothing half-handed on
    assert (
        by_name["infraestructura"]["status"] == "skipped"
        and "dimensionamiento" in by_name["infraestructura"]["message"]
    )
    err = capsys.readouterr().err
    assert "dimensionamiento falló en la celda" in err and "raise ProductizarError" in err
    # the evidence shows the sentence, not a traceback
    nb = nbformat.read(result.output_dir / "dimensionamiento.ipynb", as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and errors[0].traceback == ["ProductizarError: faltan precios para us-east-1"]


@pytest.mark.usefixtures("embedded")
def test_planted_secrets_never_reach_the_evidence(tmp_path, monkeypatch, capsys):
    secret_key = "Zq9" + "xW2vB7nK4mP1sT6yR3uE8" + "oA5cD0fG2hJ4kL6nQ8r"  # 40 chars, built at run time
    key_id = "ASIA" + "ZZ7TESTPLANTED" + "42"
    token = "FwoGZXIvYXdzE" + "planted" * 8
    ldap = "ld@p-Pl4nted-pw"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    monkeypatch.setenv("PRODUCTIZAR_HIVE_PASSWORD", ldap)
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    notebook(
        nbs / "conteo.ipynb",
        "import os\nfrom pathlib import Path\nfrom IPython.display import HTML, display\n"
        "from productizar.run import facts",
        "print(os.environ['AWS_ACCESS_KEY_ID'], os.environ['AWS_SECRET_ACCESS_KEY'])\nos.environ['AWS_SESSION_TOKEN']",
        "print('conn hive://svc:' + os.environ['PRODUCTIZAR_HIVE_PASSWORD'] + '@hive-dev:10000/default')\n"
        "print('Authorization: Bearer tok.' + 'en-planted-' + 'bearer')",
        "display(HTML('<b>' + os.environ['AWS_SECRET_ACCESS_KEY'] + '</b>'))",
        "facts.record(Path(output_dir), 'conteo', "
        "{'token': os.environ['AWS_SESSION_TOKEN'], 'pw': os.environ['PRODUCTIZAR_HIVE_PASSWORD']})",
        "raise RuntimeError('fallo con ' + os.environ['AWS_SECRET_ACCESS_KEY'])",
    )
    result, _ = run(["conteo"], notebooks=nbs, force=True)
    assert result.exit_code == 1
    planted = [secret_key, key_id, token, ldap, "en-planted-bearer"]
    written = [p for p in result.output_dir.rglob("*") if p.is_file()]
    assert {p.suffix for p in written} >= {".ipynb", ".html", ".json"}
    for path in written:
        text = path.read_text(encoding="utf-8")
        for value in planted:
            assert value not in text, f"{value} leaked into {path.name}"
    err = capsys.readouterr().err
    assert "fallo con" in err and secret_key not in err


@pytest.mark.usefixtures("embedded")
def test_run_with_local_already_up_leaves_it_running():
    before = localenv.running()
    assert before is not None  # the test session's
    result, lines = run(["conteo"])
    assert result.exit_code == 0
    assert localenv.running() == before
    assert not any("se inició el entorno embebido" in line for line in lines)


@pytest.mark.usefixtures("embedded")
def test_a_step_runs_again_when_a_declared_upstream_changes_and_only_then(tmp_path, monkeypatch):
    """The fingerprint hashes the facts of the steps the registry declares upstream, not every earlier
    step: api declares none, dimensionamiento declares conteo."""
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "outputs"))  # its own evidence, no one else's
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    start = "from productizar.run import step as notebook\npaso = notebook.start('{}', hu_path, env, output_dir)\n"
    notebook(nbs / "dimensionamiento.ipynb", start.format("dimensionamiento") + "print(paso.record({}))")
    notebook(nbs / "api.ipynb", start.format("api") + "print(paso.record({}))")
    for value in (1, 2):  # the second time, only conteo's notebook (and so its facts) changed
        notebook(nbs / "conteo.ipynb", start.format("conteo") + f"print(paso.record({{'n': {value}}}))")
        result, lines = run(["conteo", "dimensionamiento", "api"], notebooks=nbs)
        assert result.exit_code == 0
    ran = {line.split()[1]: line.split()[2] for line in lines if line.startswith("[")}
    assert ran == {"conteo": "correcto", "dimensionamiento": "correcto", "api": "al"}  # "al día"
    assert [line.split(" · ")[-1] for line in lines if line.startswith("[") and "correcto" in line] == [
        "cambió el cuaderno",
        "cambiaron los hechos de conteo",
    ]


@pytest.mark.usefixtures("embedded")
def test_each_kernel_starts_one_step_ahead_with_its_module_imported_and_none_is_left(tmp_path):
    """While conteo runs, dimensionamiento's kernel is already up (and importing its module); a notebook's
    history starts at 1 all the same; after the batch no kernel of the run is alive."""
    import os

    nbs = tmp_path / "nbs"
    nbs.mkdir()
    kernels = (
        "import os, pathlib\n"
        "mine = os.getppid()\n"
        "def kernels():\n"
        "    found = []\n"
        "    for p in pathlib.Path('/proc').glob('[0-9]*'):\n"
        "        try:\n"
        "            cmd = (p / 'cmdline').read_bytes().decode().split('\\0')\n"
        "            ppid = int((p / 'stat').read_text().rsplit(')', 1)[1].split()[1])\n"
        "        except (OSError, ValueError):\n"
        "            continue\n"
        "        if ppid == mine and int(p.name) != os.getpid():\n"
        "            found += [a.rsplit(' ', 1)[-1] for a in cmd if a.startswith('--IPKernelApp.exec_lines')]\n"
        "    return found\n"
    )
    for name in ("conteo", "dimensionamiento"):
        notebook(
            nbs / f"{name}.ipynb",
            f"import sys\nimported = 'productizar.steps.{name}' in sys.modules",
            kernels,
            "from productizar.run import step as notebook\n"
            f"paso = notebook.start('{name}', hu_path, env, output_dir)\n"
            "print(paso.record({'imported': imported, 'ahead': kernels()}))",
        )
    result, lines = run(["conteo", "dimensionamiento"], notebooks=nbs, force=True)
    assert result.exit_code == 0, lines
    by_name = {s.name: s.to_json()["facts"] for s in result.steps}
    assert by_name["conteo"] == {"imported": True, "ahead": ["productizar.steps.dimensionamiento"]}
    assert by_name["dimensionamiento"] == {"imported": True, "ahead": []}  # the last step: nothing ahead
    nb = nbformat.read(result.output_dir / "conteo.ipynb", as_version=4)
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"][:2] == [1, 2]
    children = [p for p in Path("/proc").glob("[0-9]*") if _parent(p) == os.getpid()]
    assert not [p for p in children if b"ipykernel" in (p / "cmdline").read_bytes()]


def _parent(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


@pytest.mark.server  # starts two kernels
def test_a_kernel_started_ahead_and_never_taken_is_stopped_with_its_sockets(tmp_path):
    """A batch that fails (or ends) before the step a kernel was started for leaves no kernel behind."""
    from productizar.run import kernels

    ahead = kernels.Ahead(tmp_path)
    ahead.prepare("conteo")
    waiting = ahead.waiting
    assert waiting is not None and waiting.manager.has_kernel and waiting.folder.is_dir()
    pid = waiting.manager.provisioner.process.pid
    assert ahead.take("carga") is waiting  # taken whichever step it was for
    ahead.prepare("dimensionamiento")
    second = ahead.waiting
    waiting.close()
    ahead.close()
    assert ahead.waiting is None and not waiting.folder.exists() and not second.folder.exists()
    assert _parent(Path(f"/proc/{pid}")) is None  # stopped and reaped
    assert not second.manager.has_kernel


@pytest.mark.usefixtures("embedded")
def test_a_kernel_that_cannot_start_is_a_failed_step_with_a_sentence(monkeypatch, capsys):
    """No kernel (ipykernel missing, no room for its sockets): the step fails and says so; no traceback."""
    from jupyter_client import AsyncKernelManager

    monkeypatch.setattr(AsyncKernelManager, "start_kernel", _refuse)
    result, lines = run(["conteo", "dimensionamiento"], force=True)
    assert result.exit_code == 1
    by_name = {s.name: s.to_json() for s in result.steps}
    assert by_name["conteo"]["status"] == "failed"
    message = "no se pudo iniciar el kernel del cuaderno de conteo: No module named ipykernel"
    assert by_name["conteo"]["message"] == message
    assert by_name["dimensionamiento"]["status"] == "skipped"
    assert "Traceback" not in capsys.readouterr().err


async def _refuse(self, **kwargs):
    raise RuntimeError("No module named ipykernel")
