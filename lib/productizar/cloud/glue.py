"""The Glue job that loads big tables: its script uploaded, its runs started and followed to the end.

``coordinadores`` uploads ``jobs/cargar_dynamo.py`` and the ``productizar`` package (the loader core the
script imports) to the environment's scripts bucket, where the template's ``ScriptLocation`` points, and
points the job's ``--extra-py-files`` at the package. ``carga`` starts one run per table that the engine
choice sends to Spark, with the table's arguments, and follows ``get_job_run`` until it ends, failing with
the job's own error message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from productizar.core import naming, paths
from productizar.core.errors import ProductizarError
from productizar.core.files import zip_bytes
from productizar.core.hu import HU, TableSpec
from productizar.dynamo.spark_load import JobArgs

SCRIPT_KEY = "scripts/cargar_dynamo.py"
PACKAGE_KEY = "scripts/productizar.zip"
# the job's Python needs these beyond Glue's own (pandas, numpy and boto3 are there)
EXTRA_MODULES = "pydantic>=2.7,<3,pyyaml>=6"
FINAL = {"SUCCEEDED", "FAILED", "ERROR", "TIMEOUT", "STOPPED", "EXPIRED"}


class GlueJobFailed(ProductizarError):
    pass


def package_zip() -> bytes:
    """The ``productizar`` package as Glue's ``--extra-py-files`` wants it (a zip with the package at its root)."""
    root = paths.project_root() / "lib"
    return zip_bytes(
        {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "productizar").rglob("*.py"))}
    )


def script_path() -> Path:
    return paths.project_root() / "jobs" / "cargar_dynamo.py"


def script() -> bytes:
    return script_path().read_bytes()


@dataclass(frozen=True)
class Upload:
    bucket: str
    script: str
    package: str
    job: str
    job_updated: bool


#: what ``UpdateJob`` takes (``JobUpdate``); it overwrites the whole definition, so each one the job has is
#: given back. AllocatedCapacity is left out: deprecated, and refused beside a worker type.
JOB_UPDATE_FIELDS = (
    "Description",
    "LogUri",
    "Role",
    "ExecutionProperty",
    "Command",
    "DefaultArguments",
    "NonOverridableArguments",
    "Connections",
    "MaxRetries",
    "Timeout",
    "MaxCapacity",
    "WorkerType",
    "NumberOfWorkers",
    "SecurityConfiguration",
    "NotificationProperty",
    "GlueVersion",
    "CodeGenConfigurationNodes",
    "ExecutionClass",
    "SourceControlDetails",
)


def job_update(current: dict[str, Any], bucket: str) -> dict[str, Any]:
    """``UpdateJob`` replaces the whole definition: keep what the stack set, change the script and the package.
    ``GetJob`` reports a MaxCapacity for a job sized by workers, which ``UpdateJob`` refuses beside them."""
    update = {k: current[k] for k in JOB_UPDATE_FIELDS if current.get(k) is not None}
    if "WorkerType" in update or "NumberOfWorkers" in update:
        update.pop("MaxCapacity", None)
    args = dict(current.get("DefaultArguments") or {})
    args |= {"--extra-py-files": f"s3://{bucket}/{PACKAGE_KEY}", "--additional-python-modules": EXTRA_MODULES}
    update["Command"] = dict(update.get("Command", {}), ScriptLocation=f"s3://{bucket}/{SCRIPT_KEY}")
    return update | {"DefaultArguments": args}


def upload(s3: Any, glue: Any, bucket: str, hu: HU) -> Upload:
    """Put the script and the package in the scripts bucket and point the job at them (when the job exists:
    on an emulator that skips Glue jobs it does not, and that is said, not hidden)."""
    s3.put_object(Bucket=bucket, Key=SCRIPT_KEY, Body=script())
    s3.put_object(Bucket=bucket, Key=PACKAGE_KEY, Body=package_zip())
    job = naming.glue_job_name(hu.api.slug)
    try:
        current = glue.get_job(JobName=job)["Job"]
    except glue.exceptions.EntityNotFoundException:
        return Upload(bucket, f"s3://{bucket}/{SCRIPT_KEY}", f"s3://{bucket}/{PACKAGE_KEY}", job, False)
    glue.update_job(JobName=job, JobUpdate=job_update(current, bucket))
    return Upload(bucket, f"s3://{bucket}/{SCRIPT_KEY}", f"s3://{bucket}/{PACKAGE_KEY}", job, True)


def job_args(hu: HU, spec: TableSpec, tasks: int, region: str) -> JobArgs:
    """The run's arguments for one table: the write budget is the HU's autoscaling maximum at its share,
    split among the planned task slots (the sizing step's Glue figures, the template's)."""
    return JobArgs(
        spec.source,
        spec.names.dynamo_table,
        spec.partition_key,
        spec.sort_key,
        table_wcu=hu.capacity.write[1],
        write_share=hu.load.write_share,
        tasks=tasks,
        region=region,
    )


def arguments(args: JobArgs) -> dict[str, str]:
    """``--name value`` pairs as ``start_job_run`` takes them."""
    argv = args.to_argv()
    return {argv[i]: argv[i + 1] for i in range(0, len(argv), 2)}


def start(glue: Any, job: str, args: JobArgs) -> str:
    return glue.start_job_run(JobName=job, Arguments=arguments(args))["JobRunId"]


def follow(
    glue: Any,
    job: str,
    run_id: str,
    label: str,
    poll_s: float = 30.0,
    timeout_s: float = 48 * 3600,
    out: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll the run until it ends; one line per state change; the run on success, GlueJobFailed otherwise.
    The first polls come after 1, 2, 4... seconds, up to ``poll_s``: a short run is seen ending at once, a
    long one is not asked about more than every ``poll_s``."""
    t0, last, wait = time.monotonic(), None, min(1.0, poll_s)
    while True:
        run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        state = run["JobRunState"]
        if state != last:
            out(f"⏳ {label}: {state} ({time.monotonic() - t0:.0f} s)")
            last = state
        if state == "SUCCEEDED":
            return run
        if state in FINAL:
            raise GlueJobFailed(
                f"El job {job} ({label}, corrida {run_id}) terminó en {state}: "
                f"{run.get('ErrorMessage') or 'sin mensaje de error'}. Revise sus logs en CloudWatch "
                f"({run.get('LogGroupName', '/aws-glue/jobs')})."
            )
        if time.monotonic() - t0 > timeout_s:
            raise GlueJobFailed(f"El job {job} ({label}) sigue en {state} después de {timeout_s / 3600:.0f} h.")
        sleep(wait)
        wait = min(poll_s, wait * 2)


def scripts_bucket(cfn: Any, hu: HU) -> str:
    """The stack's ``ScriptsBucket`` (its name is CloudFormation's), or an error saying to deploy first."""
    stack = naming.stack_name(hu.api.slug)
    try:
        pages = cfn.get_paginator("list_stack_resources").paginate(StackName=stack)
        found = [
            r["PhysicalResourceId"]
            for p in pages
            for r in p["StackResourceSummaries"]
            if r["LogicalResourceId"] == "ScriptsBucket"
        ]
    except ClientError as exc:
        raise ProductizarError(
            f"No existe el stack {stack} en este entorno: despliegue la infraestructura (paso "
            f"infraestructura) antes. ({exc.response.get('Error', {}).get('Code', '')})"
        ) from None
    if not found:
        raise ProductizarError(f"El stack {stack} no tiene el recurso ScriptsBucket: revise la plantilla.")
    return found[0]
