"""The command line: bad input is refused with exit status 2 and nothing is written anywhere."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "parameters" / "hu" / "demo.yaml"


def productizar(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PRODUCTIZAR_STATE_DIR=str(tmp_path / "state"), PRODUCTIZAR_OUTPUT_ROOT=str(tmp_path / "out"))
    return subprocess.run(
        [sys.executable, "-m", "productizar", *args], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )


def test_malformed_hu_is_refused_with_every_problem_and_nothing_written(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = DEMO.read_text(encoding="utf-8")
    text = text.replace("type: N}", "type: number}", 1).replace("write: [1, 8000]", "write: [9000, 8000]")
    text = text.replace("slug: alter-ctra-score-delta", "slug: Alter Ctra")
    bad.write_text(text, encoding="utf-8")
    proc = productizar(tmp_path, "run", str(bad), "--env", "local")
    assert proc.returncode == 2
    assert f"{bad}: 3 problems found" in proc.stderr
    assert "api.slug: does not have the expected form" in proc.stderr
    assert "capacity.write: the autoscaling minimum 9000 is above the maximum 8000" in proc.stderr
    assert 'tables[0].sort_key.type: must be S or N, got "number"' in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "state").exists()


def test_unknown_step_and_environment_are_usage_errors(tmp_path):
    proc = productizar(tmp_path, "run", str(DEMO), "--env", "local", "--steps", "conteo,cargas")
    assert proc.returncode == 2 and "unknown step(s): cargas" in proc.stderr
    proc = productizar(tmp_path, "run", str(DEMO), "--env", "staging")
    assert proc.returncode == 2 and "unknown environment 'staging'" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_check_validates_without_running(tmp_path):
    proc = productizar(tmp_path, "check", str(DEMO))
    assert proc.returncode == 0 and "ok (HU 3575833, 3 tables)" in proc.stdout


def test_check_in_process_reads_the_regression_hu_and_refuses_a_missing_file(tmp_path, capsys):
    """``main`` itself, as the console script calls it: its exit status for a good file and a missing one."""
    from productizar.cli import main

    assert main(["check", str(ROOT / "parameters" / "hu" / "regresion.yaml")]) == 0
    assert "ok (HU 9000001, 3 tables)" in capsys.readouterr().out
    assert main(["check", str(tmp_path / "no-existe.yaml")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_commands_that_run_no_notebook_do_not_import_the_notebook_machinery():
    """papermill and nbformat (with jsonschema's format checkers) cost about two seconds at every start:
    `check`, `new`, `status` and `local` never pay it; `run` imports them when it runs."""
    probe = (
        "import sys, productizar.cli as cli; cli.main(['check', sys.argv[1]]); "
        "print(sorted(m for m in ('papermill', 'nbformat', 'jsonschema', 'nbclient') if m in sys.modules))"
    )
    hu = Path(__file__).resolve().parents[2] / "parameters" / "hu" / "regresion.yaml"
    done = subprocess.run([sys.executable, "-c", probe, str(hu)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
