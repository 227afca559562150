"""The Glue side of big loads: which engine, the script and package uploaded, runs followed to their end."""

import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from productizar.cloud import aws, glue
from productizar.core import naming
from productizar.core.environments import get_environment
from productizar.core.hu import HU
from productizar.dynamo import engine
from productizar.run.endpoints import resolve

DEMO = Path(__file__).resolve().parents[1] / "parameters" / "hu" / "demo.yaml"
DATA = yaml.safe_load(DEMO.read_text(encoding="utf-8"))


def hu_with(**load) -> HU:
    return HU.model_validate(DATA | {"load": dict(DATA["load"], **load)})


def sizing_facts(items: int, write_units_per_item: float = 1.0, rate: float = 4000) -> dict:
    """Write plans as the sizing step hands them on (only what the choice reads)."""
    hu = hu_with()
    return {
        t.source: SimpleNamespace(items=items, total_write_units=items * write_units_per_item, planned_rate_wcu=rate)
        for t in hu.tables
    }


def test_small_tables_stay_on_one_machine_and_say_why():
    [c, *_] = engine.choose(hu_with(), sizing_facts(100_000), single_machine_wcu=2000)
    assert (
        c.engine == engine.SINGLE
        and c.reason == "100.000 ítems: una máquina (2.000 WCU/s) termina en 0,8 min, dentro de la ventana de 6 h"
    )
    assert c.single_machine_hours == pytest.approx(100_000 / 2000 / 3600)


def test_big_tables_or_a_missed_window_go_to_spark():
    [c, *_] = engine.choose(hu_with(), sizing_facts(5_000_000), single_machine_wcu=2000)
    assert c.engine == engine.SPARK and "load.spark_from_items" in c.reason
    # 3M items of 8 KB: 24M write units at 2,000/s is 3.3 h, more than a 2 h window
    [c, *_] = engine.choose(hu_with(window_hours=2), sizing_facts(3_000_000, 8), single_machine_wcu=2000)
    assert c.engine == engine.SPARK and "más que la ventana de 2 h" in c.reason
    [c, *_] = engine.choose(hu_with(engine="single-machine"), sizing_facts(9_000_000), single_machine_wcu=2000)
    assert c.engine == engine.SINGLE and "la HU fija" in c.reason


@pytest.fixture
def clients():
    env = resolve(get_environment("local"))
    return aws.client(env, "s3"), aws.client(env, "glue")


def test_the_script_and_package_are_uploaded_and_the_job_points_at_them(clients, tmp_path):
    s3, glue_client = clients
    hu = hu_with()
    job = naming.glue_job_name(hu.api.slug)
    s3.create_bucket(Bucket="scripts-prueba")
    up = glue.upload(s3, glue_client, "scripts-prueba", hu)
    assert not up.job_updated  # no job yet: said, not hidden
    glue_client.create_job(
        Name=job,
        Role="arn:aws:iam::123456789012:role/glue",
        Command={"Name": "glueetl", "ScriptLocation": "s3://otro/viejo.py"},
        WorkerType="G.1X",
        NumberOfWorkers=4,
        DefaultArguments={"--enable-metrics": "true"},
    )
    # moto answers UpdateJob with HTTP 500 (not implemented): the update is checked on the job as Glue returns it
    update = glue.job_update(glue_client.get_job(JobName=job)["Job"], "scripts-prueba")
    assert update["Command"] == {"Name": "glueetl", "ScriptLocation": "s3://scripts-prueba/scripts/cargar_dynamo.py"}
    assert update["DefaultArguments"] == {
        "--enable-metrics": "true",
        "--extra-py-files": "s3://scripts-prueba/scripts/productizar.zip",
        "--additional-python-modules": glue.EXTRA_MODULES,
    }
    assert (update["Role"], update["WorkerType"], update["NumberOfWorkers"]) == (
        "arn:aws:iam::123456789012:role/glue",
        "G.1X",
        4,
    )  # the stack's settings are kept
    body = s3.get_object(Bucket="scripts-prueba", Key=glue.SCRIPT_KEY)["Body"].read()
    assert body == glue.script_path().read_bytes()
    package = tmp_path / "productizar.zip"
    package.write_bytes(s3.get_object(Bucket="scripts-prueba", Key=glue.PACKAGE_KEY)["Body"].read())
    assert "productizar/dynamo/spark_load.py" in zipfile.ZipFile(package).namelist()
    # what Glue does with --extra-py-files: the package imported from the zip, without the results-zone drivers
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import productizar.dynamo.spark_load as s; "
        "assert s.__file__.startswith(sys.argv[1]); "
        "assert not [m for m in sys.modules if m.split('.')[0] in ('duckdb', 'sqlalchemy', 'sqlglot', 'pyhive')]"
    )
    subprocess.run([sys.executable, "-c", probe, str(package)], check=True, cwd=tmp_path)


def test_a_run_is_followed_to_its_end(clients):
    _, glue_client = clients
    hu = hu_with()
    job = "seguimiento-prueba"
    glue_client.create_job(
        Name=job,
        Role="arn:aws:iam::123456789012:role/glue",
        Command={"Name": "glueetl", "ScriptLocation": "s3://b/s.py"},
    )
    args = glue.job_args(hu, hu.tables[0], tasks=12, region="us-east-1")
    run_id = glue.start(glue_client, job, args)
    assert glue_client.get_job_run(JobName=job, RunId=run_id)["JobRun"]["Arguments"]["--tasks"] == "12"
    lines: list[str] = []
    run = glue.follow(glue_client, job, run_id, "tabla", poll_s=0, out=lines.append)
    assert run["JobRunState"] == "SUCCEEDED"
    assert [line.split(":")[1].split("(")[0].strip() for line in lines][-1] == "SUCCEEDED"
    assert args.task_wcu * args.tasks == pytest.approx(hu.capacity.write[1] * hu.load.write_share)


class FailingGlue:
    """Glue's answers for a run that fails: RUNNING twice, then FAILED with the job's error (moto's runs
    always succeed, so this one is a stand-in for the service at its boundary)."""

    def __init__(self):
        self.states = ["RUNNING", "RUNNING", "FAILED"]

    def get_job_run(self, JobName, RunId):
        state = self.states.pop(0)
        run = {"JobRunState": state, "LogGroupName": "/aws-glue/jobs/error"}
        if state == "FAILED":
            run["ErrorMessage"] = "An error occurred while calling o95.pyWriteDynamicFrame: ThrottlingException"
        return {"JobRun": run}


def test_a_failed_run_fails_with_the_jobs_own_message():
    lines: list[str] = []
    with pytest.raises(glue.GlueJobFailed) as err:
        glue.follow(FailingGlue(), "job", "jr_1", "tabla", poll_s=0, out=lines.append)
    assert "terminó en FAILED: An error occurred while calling o95.pyWriteDynamicFrame: ThrottlingException" in str(
        err.value
    )
    assert "/aws-glue/jobs/error" in str(err.value)
    assert len(lines) == 2  # RUNNING once, then FAILED: one line per state change
