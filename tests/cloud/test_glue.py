"""The Glue side of big loads: which engine, the script and package uploaded, runs followed to their end."""

import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest
import yaml

from productizar.cloud import glue
from productizar.core import naming
from productizar.core.environments import get_environment
from productizar.core.hu import HU
from tests.support.dynamo import clients
from tests.support.glue import STACK_JOB
from tests.support.hu import demo_data, demo_with

DEMO = Path(__file__).resolve().parents[2] / "parameters" / "hu" / "demo.yaml"
DATA = demo_data()


def hu_with(**load) -> HU:
    """The demo HU with these ``load`` settings."""
    return demo_with(load=dict(DATA["load"], **load))


@pytest.fixture
def s3_and_glue(embedded):
    get = clients()
    return get("s3"), get("glue")


@pytest.mark.usefixtures("embedded")
def test_the_script_and_package_are_uploaded_and_the_job_points_at_them(s3_and_glue, tmp_path):
    """UpdateJob runs for real on the embedded endpoint (moto's Glue backend, as AWS documents it: the whole
    definition overwritten, which ``tests/local/test_glue_update.py`` proves) and the job read back afterwards
    keeps every setting the stack gave it."""
    s3, glue_client = s3_and_glue
    hu = hu_with()
    job = naming.glue_job_name(hu.api.slug)
    s3.create_bucket(Bucket="scripts-prueba")
    up = glue.upload(s3, glue_client, "scripts-prueba", hu)
    assert not up.job_updated  # no job yet: said, not hidden
    glue_client.create_job(Name=job, Tags={"proyecto": "ofertas"}, **STACK_JOB)
    created = glue_client.get_job(JobName=job)["Job"]
    up = glue.upload(s3, glue_client, "scripts-prueba", hu)
    assert up.job_updated and up.job == job
    after = glue_client.get_job(JobName=job)["Job"]
    assert after["Command"] == {
        "Name": "glueetl",
        "ScriptLocation": "s3://scripts-prueba/scripts/cargar_dynamo.py",
        "PythonVersion": "3",
    }
    assert after["DefaultArguments"] == {
        "--enable-metrics": "true",
        "--extra-py-files": "s3://scripts-prueba/scripts/productizar.zip",
        "--additional-python-modules": "pydantic>=2.7,<3,pyyaml>=6",
    }
    kept = {k: v for k, v in STACK_JOB.items() if k not in ("Command", "DefaultArguments")}
    assert {k: after.get(k) for k in kept} == kept  # the stack's settings, every one
    assert after["CreatedOn"] == created["CreatedOn"] and after["LastModifiedOn"] >= created["LastModifiedOn"]
    assert glue_client.get_tags(ResourceArn=f"arn:aws:glue:us-east-1:123456789012:job/{job}")["Tags"] == {
        "proyecto": "ofertas"
    }
    # a second upload changes nothing more: the same definition
    glue.upload(s3, glue_client, "scripts-prueba", hu)
    again = glue_client.get_job(JobName=job)["Job"]
    assert {k: again.get(k) for k in (*kept, "Command", "DefaultArguments")} == {
        k: after.get(k) for k in (*kept, "Command", "DefaultArguments")
    }
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


@pytest.mark.usefixtures("embedded")
def test_a_run_is_followed_to_its_end(s3_and_glue):
    _, glue_client = s3_and_glue
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


# this test's own account on the session's server: the pipeline tests of test_channels.py deploy the demo's
# stack in 444444444444 and 555555555555, and a stack left here by this test must not be theirs to update
REMOTE_ACCOUNT = "464646464646"


@pytest.fixture
def remote_like(tmp_path, monkeypatch, embedded):
    """An environment that reaches the session's moto server as if it were AWS: its URL written out (not
    ``embedded``, so nothing local is started or resolved), credentials from the standard chain (a key that
    names its own account on that server), the DuckDB zone by path, and Glue jobs not declared a gap."""
    from productizar.local import embedded as localenv

    envs = yaml.safe_load((DEMO.parents[1] / "environments.yaml").read_text(encoding="utf-8"))
    envs["remota"] = dict(
        envs["local"],
        description="endpoint escrito como el de AWS (el moto de la sesión)",
        aws={"region": "us-east-1", "endpoint": localenv.moto_endpoint()},
        results_zone={"backend": "duckdb", "path": str(localenv.duckdb_path())},
        known_gaps=["sse", "pitr"],
        api={"base_url": "http://127.0.0.1:9"},
    )
    path = tmp_path / "environments.yaml"
    path.write_text(yaml.safe_dump(envs, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("PRODUCTIZAR_ENVIRONMENTS", str(path))
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", f"productizar-local-{REMOTE_ACCOUNT}")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "no-secreta")
    hu = tmp_path / "hu.yaml"
    hu.write_text(yaml.safe_dump(DATA | {"load": dict(DATA["load"], engine="spark")}, allow_unicode=True))
    return hu


@pytest.mark.e2e
def test_carga_starts_and_follows_a_glue_run_per_table_where_the_endpoint_runs_glue_jobs(remote_like):
    """The non-local branch of the Spark engine, through the runner: coordinadores updates the job the stack's
    pipeline created (UpdateJob for real), and carga starts one run of it per table with that table's
    arguments and follows each to SUCCEEDED, with no spark-submit on this machine."""
    from productizar.cloud import aws as aws_mod
    from productizar.run import facts
    from productizar.run.runner import Runner

    first = Runner(remote_like, "remota", ["conteo", "dimensionamiento"], echo=lambda line: None).run()
    assert first.exit_code == 0
    plan = facts.load(first.output_dir, "dimensionamiento")["glue"]
    env = get_environment("remota")
    glue_client = aws_mod.client(env, "glue")
    hu = hu_with(engine="spark")
    job = naming.glue_job_name(hu.api.slug)
    glue_client.create_job(  # what the pipeline's stack creates (moto's CloudFormation skips Glue jobs)
        Name=job,
        Role=f"arn:aws:iam::{REMOTE_ACCOUNT}:role/glue",
        Command={"Name": "glueetl", "ScriptLocation": "s3://sin-subir/cargar_dynamo.py"},
        WorkerType=plan["WorkerType"],
        NumberOfWorkers=plan["NumberOfWorkers"],
        ExecutionProperty={"MaxConcurrentRuns": plan["MaxConcurrentRuns"]},
        GlueVersion="4.0",
    )
    lines: list[str] = []
    rest = Runner(remote_like, "remota", ["infraestructura", "coordinadores", "carga"], echo=lines.append).run()
    assert rest.exit_code == 0, "\n".join(lines)
    updated = glue_client.get_job(JobName=job)["Job"]
    assert updated["Command"]["ScriptLocation"].endswith("/scripts/cargar_dynamo.py")
    assert not updated["Command"]["ScriptLocation"].startswith("s3://sin-subir/")
    assert updated["DefaultArguments"]["--extra-py-files"].endswith("/scripts/productizar.zip")
    assert (updated["WorkerType"], updated["NumberOfWorkers"]) == (plan["WorkerType"], plan["NumberOfWorkers"])
    runs = glue_client.get_job_runs(JobName=job)["JobRuns"]
    by_source = {r["Arguments"]["--source"]: r for r in runs}
    assert sorted(by_source) == sorted(t.source for t in hu.tables) and len(runs) == len(hu.tables)
    for t in hu.tables:
        run = by_source[t.source]
        assert run["JobRunState"] == "SUCCEEDED"
        assert run["Arguments"]["--dynamo_table"] == t.names.dynamo_table
        assert "--endpoint" not in run["Arguments"] and "--parquet" not in run["Arguments"]  # Glue's own reach
    carga = facts.load(rest.output_dir, "carga")
    assert carga is not None
    assert not (rest.output_dir / "carga" / "spark").exists()  # nothing ran on this machine
    # the runs went to the environment's own account: the session's default account (where another test may
    # have made a job of the same name) has none of them
    default = boto3.client(
        "glue",
        endpoint_url=env.aws.endpoint,
        region_name="us-east-1",
        aws_access_key_id="productizar-local",
        aws_secret_access_key="productizar-local",
    )
    try:
        theirs = {r["Id"] for r in default.get_job_runs(JobName=job)["JobRuns"]}
    except default.exceptions.EntityNotFoundException:
        theirs = set()
    assert not theirs & {r["Id"] for r in runs}
