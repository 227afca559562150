"""The run's record is one typed model (``RunSummary``): its published schema is the model's, a real run's
``summary.json`` validates against it, an older record still loads, and a bad one of one HU is shown as
such without stopping any other HU's board or run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from productizar.core import paths
from productizar.run import board
from productizar.run.records import BadRecord, StepStatus, read_run, summary_schema
from productizar.run.runner import Runner

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schemas" / "summary.schema.json"


def test_the_published_schema_is_the_models():
    assert json.loads(SCHEMA.read_text(encoding="utf-8")) == summary_schema(), (
        "schemas/summary.schema.json is out of date: write summary_schema() to it"
    )


def test_a_record_of_an_earlier_version_loads_and_a_bad_one_is_named(tmp_path):
    older = tmp_path / "summary.json"  # before inputs, ran_because, repositories and dry_runs existed
    older.write_text(
        json.dumps(
            {
                "hu_id": 3575833,
                "environment": "dev",
                "status": "ok",
                "steps": [{"name": "conteo", "status": "ok", "fingerprint": "abc"}, {"name": "carga", "status": "?"}],
            }
        ),
        encoding="utf-8",
    )
    run = read_run(older)
    assert (run.hu_id, run.status, run.repositories.push) == (3575833, StepStatus.OK, False)
    assert run.records()["conteo"].inputs == {} and run.records()["carga"].status is StepStatus.SKIPPED
    for text, said in [
        ("[]", "no es un objeto JSON con los campos de una corrida"),
        ('{"hu_id": "abc", "environment": "dev"}', '«hu_id» no admite el valor "abc"'),
        ('{"hu_id": 1, "environment"', "no es JSON válido"),
    ]:
        older.write_text(text, encoding="utf-8")
        with pytest.raises(BadRecord, match="no es el registro de una corrida") as caught:
            read_run(older)
        assert str(caught.value).startswith(f"{older}: ") and said in str(caught.value)
    assert read_run(tmp_path / "none.json") is None


@pytest.mark.usefixtures("embedded")
def test_a_real_run_validates_and_a_bad_record_of_another_hu_stops_nobody(tmp_path, monkeypatch):
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(outputs))
    for folder, text in [("HU1111111/local", "[]"), ("HU2222222/dev", '{"hu_id": "abc", "environment": "dev"}')]:
        (outputs / folder).mkdir(parents=True)
        (outputs / folder / "summary.json").write_text(text, encoding="utf-8")
    demo = ROOT / "parameters" / "hu" / "demo.yaml"
    assert Runner(demo, "local", ["conteo"], echo=lambda _: None).run().exit_code == 0  # its board reads both
    written = json.loads((paths.hu_output_dir(3575833, "local") / "summary.json").read_text(encoding="utf-8"))
    jsonschema.validate(written, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert read_run(paths.hu_output_dir(3575833, "local") / "summary.json").records()["conteo"].ok
    rows = {(r.hu_id, r.environment): r for r in board.collect(outputs)}
    assert rows[(3575833, "local")].problem is None
    assert "no es un objeto JSON" in rows[(1111111, "local")].problem
    assert '«hu_id» no admite el valor "abc"' in rows[(2222222, "dev")].problem
    shown = subprocess.run(
        [sys.executable, "-m", "productizar", "status"],
        env=dict(os.environ, PRODUCTIZAR_OUTPUT_ROOT=str(outputs)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
    assert "HU 3575833" in shown.stdout and "HU 1111111" in shown.stdout and "HU 2222222" in shown.stdout
