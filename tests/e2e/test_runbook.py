"""The README's main job, end to end: ``productizar run`` of the regression HU from a stopped embedded default,
every step green, and nothing left running."""

import json
import os
import subprocess
import sys

import pytest

from productizar.core import paths
from productizar.run.registry import STEPS


@pytest.mark.e2e
def test_cli_runs_the_runbook_from_scratch_and_leaves_the_machine_as_it_found_it(tmp_path):
    """The README's main job on the regression HU (the demo's shapes, small): every step from a stopped
    embedded default, then nothing left running. The demo's full size is ``tests/e2e/test_scale.py``'s."""
    env = dict(os.environ, PRODUCTIZAR_STATE_DIR=str(tmp_path / "state"), PRODUCTIZAR_OUTPUT_ROOT=str(tmp_path / "out"))
    cmd = [sys.executable, "-m", "productizar", "run", str(paths.regression_hu()), "--env", "local"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "se inició el entorno embebido" in proc.stdout and "se detuvo el entorno embebido" in proc.stdout
    assert "[ 1/11] conteo           correcto (" in proc.stdout and "· primera corrida" in proc.stdout
    out = tmp_path / "out" / "HU9000001" / "local"
    summary = json.loads((out / "summary.json").read_text())
    assert [(s["name"], s["status"]) for s in summary["steps"]] == [(name, "ok") for name in STEPS]
    assert all((out / f"{name}.html").is_file() for name in STEPS)
    facts = {s["name"]: s["facts"] for s in summary["steps"]}
    checks = facts["verificacion"]["checks"]
    assert checks and {c["status"] for c in checks} <= {"pass", "not_checkable"}
    assert facts["api"]["verdict"] == "pass" and facts["smoke"]["verdict"] == "pass"
    assert all(e["calls"] == e["passed"] > 0 for e in facts["smoke"]["endpoints"])
    assert (out / facts["pruebas"]["plan"]).is_file() and facts["pruebas"]["local_run"]["endpoints"]
    assert (out / facts["pruebas"]["local_run"]["table"]).read_text(encoding="utf-8").startswith("Endpoint,Solicitudes")
    assert all((out / f).is_file() for f in facts["documentos"]["files"].values())
    reserved = facts["consecutivo"]
    assert reserved["dry_run"] and [t["package"] for t in reserved["tables"].values()] == [
        "SQOOPDI1937",
        "SQOOPDI1938",
        "SQOOPDI1939",
    ]
    state = json.loads(
        subprocess.run(
            [sys.executable, "-m", "productizar", "local", "status"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert state["moto"] == {"running": False} and state["reference_api"] == {"running": False}
