"""The Glue/Spark load: the same loader core as ``carga``, run inside Spark partitions.

Each Spark task converts its rows with ``items.to_item``, writes 25-item batches through
``loader.BatchWriter`` (unprocessed items, throttling and dropped connections retried) and paces itself with
its own ``loader.Controller`` at its share of the table's *current* write capacity: capacity x share /
concurrent tasks, as Glue's and EMR's DynamoDB writers split ``dynamodb.throughput.write.percent``.
Rows are repartitioned by key and sorted within each partition, so the rows
of one key meet in one task, consecutive, and the loader's one-item-per-key rule applies unchanged.

``jobs/cargar_dynamo.py`` (the script the Glue job ``glueJob<ApiName>`` runs) calls ``main``; locally it
runs with ``spark-submit`` on the pip ``pyspark`` against the moto server.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from productizar.core.errors import ProductizarError
from productizar.core.hu import Key, TableSpec
from productizar.dynamo.loader import (
    BATCH,
    BatchWriter,
    Controller,
    Counters,
    LoadResult,
    distinct_items,
    table_capacity,
)

CHUNK_ROWS = 1_000


@dataclass(frozen=True)
class JobArgs:
    """What the job needs, all of it from its arguments (Glue passes them as ``--name value``)."""

    source: str  # zona.tabla in the metastore / Glue catalog
    dynamo_table: str
    partition_key: Key
    sort_key: Key | None
    table_wcu: float  # the table's write capacity the load may count on (the autoscaling maximum)
    write_share: float  # dynamodb.throughput.write.percent
    tasks: int  # concurrent Spark tasks: the budget is split among them
    stall_s: float = 600.0  # a task gives up when no write of a batch is accepted for this long
    parquet: str | None = None  # read the table's Parquet files instead of the catalog
    endpoint: str | None = None  # the DynamoDB endpoint (moto locally); absent: AWS
    region: str = "us-east-1"

    @property
    def task_wcu(self) -> float:
        return task_budget(self.table_wcu, self.write_share, self.tasks)

    def spec(self) -> TableSpec:
        return TableSpec(
            source=self.source, partition_key=self.partition_key, sort_key=self.sort_key, dynamo_table=self.dynamo_table
        )

    def to_argv(self) -> list[str]:
        out = [
            "--source",
            self.source,
            "--dynamo_table",
            self.dynamo_table,
            "--partition_key",
            f"{self.partition_key.name}:{self.partition_key.type}",
            "--table_wcu",
            str(self.table_wcu),
            "--write_share",
            str(self.write_share),
            "--tasks",
            str(self.tasks),
            "--stall_s",
            str(self.stall_s),
            "--region",
            self.region,
        ]
        if self.sort_key:
            out += ["--sort_key", f"{self.sort_key.name}:{self.sort_key.type}"]
        if self.parquet:
            out += ["--parquet", self.parquet]
        if self.endpoint:
            out += ["--endpoint", self.endpoint]
        return out


def task_budget(table_wcu: float, write_share: float, tasks: int) -> float:
    """Each task's write rate: the table's budget times the share, split evenly among the tasks."""
    return table_wcu * write_share / max(1, tasks)


def _key(text: str) -> Key:
    name, _, kind = text.partition(":")
    return Key.model_validate({"name": name, "type": kind or "S"})


def parse_args(argv: list[str]) -> JobArgs:
    p = argparse.ArgumentParser(prog="cargar_dynamo")
    p.add_argument("--source", required=True)
    p.add_argument("--dynamo_table", required=True)
    p.add_argument("--partition_key", required=True, help="name:S or name:N")
    p.add_argument("--sort_key")
    p.add_argument("--table_wcu", type=float, required=True)
    p.add_argument("--write_share", type=float, default=0.5)
    p.add_argument("--tasks", type=int, required=True)
    p.add_argument("--stall_s", type=float, default=600.0)
    p.add_argument("--parquet")
    p.add_argument("--endpoint")
    p.add_argument("--region", default="us-east-1")
    a, _ = p.parse_known_args(argv)  # Glue adds its own (--JOB_ID, --job-bookmark-option ...)
    return JobArgs(
        a.source,
        a.dynamo_table,
        _key(a.partition_key),
        _key(a.sort_key) if a.sort_key else None,
        a.table_wcu,
        a.write_share,
        a.tasks,
        stall_s=a.stall_s,
        parquet=a.parquet,
        endpoint=a.endpoint,
        region=a.region,
    )


# ----------------------------------------------------------------------------------------- one task


@dataclass
class TaskStats:
    task: int
    rows_read: int
    items_written: int
    refused: int
    duplicates: int
    retries: int
    throttles: int
    seconds: float
    budget_wcu: float  # the task's ceiling when it started: its share of the table's capacity then
    connection_errors: int = 0
    consumed_wcu: float = 0.0


def dynamo_client(args: JobArgs) -> Any:
    import boto3
    from botocore.config import Config

    # one attempt per call: the BatchWriter retries, counts and backs off itself
    return boto3.client(
        "dynamodb",
        region_name=args.region,
        endpoint_url=args.endpoint,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def load_partition(task: int, rows: Iterable[dict[str, Any]], args: JobArgs, client: Any | None = None) -> TaskStats:
    """Write one partition's rows (sorted by key) with the loader core, at this task's share of the budget."""
    spec = args.spec()
    client = client or dynamo_client(args)
    # each task follows the table's capacity at its share; the HU's maximum bounds what an on-demand table counts
    controller = Controller(
        args.write_share / max(1, args.tasks), lambda: table_capacity(client, args.dynamo_table, args.table_wcu)
    )
    writer = BatchWriter(client, args.dynamo_table, controller, Counters(), stall_s=args.stall_s)
    start_ceiling = controller.ceiling
    result = LoadResult(spec.source, args.dynamo_table)
    last_key: list[Any] = [None]
    t0 = time.monotonic()
    for chunk in _chunks(rows, CHUNK_ROWS):
        items, _ = distinct_items(iter(chunk), spec, result, last_key)  # one task writes in order: no crossing
        for i in range(0, len(items), BATCH):
            writer.write(items[i : i + BATCH])
    c = writer.counters
    return TaskStats(
        task,
        result.rows_read,
        c.items_written,
        result.refused,
        result.duplicates,
        c.retries,
        c.throttles,
        round(time.monotonic() - t0, 3),
        round(start_ceiling, 3),
        c.connection_errors,
        round(c.consumed_wcu, 3),
    )


# ----------------------------------------------------------------------------------------- the job


def read_table(spark: Any, args: JobArgs) -> Any:
    return spark.read.parquet(args.parquet) if args.parquet else spark.table(args.source)


def run(spark: Any, args: JobArgs, client_factory: Any = None) -> list[TaskStats]:
    """Read, repartition by key into ``args.tasks`` partitions, sort within them, write each through the core."""
    from pyspark import TaskContext

    keys = [args.partition_key.name] + ([args.sort_key.name] if args.sort_key else [])
    frame = read_table(spark, args).repartition(args.tasks, *keys).sortWithinPartitions(*keys)
    make = client_factory or dynamo_client

    def per_partition(rows: Iterator[Any]) -> Iterator[TaskStats]:
        ctx = TaskContext.get()
        task = ctx.partitionId() if ctx else 0
        yield load_partition(task, (r.asDict() for r in rows), args, make(args))

    return sorted(frame.rdd.mapPartitions(per_partition).collect(), key=lambda s: s.task)


def report(stats: list[TaskStats]) -> str:
    """The job's output: one JSON line per task, then the totals (what Glue keeps in its logs)."""
    lines = [json.dumps({"tarea": asdict(s)}) for s in stats]
    totals = {
        k: sum(getattr(s, k) for s in stats)
        for k in ("rows_read", "items_written", "refused", "duplicates", "retries", "throttles")
    }
    totals["budget_wcu"] = round(sum(s.budget_wcu for s in stats), 3)
    lines.append(json.dumps({"total": totals}))
    return "\n".join(lines)


def main(argv: list[str]) -> list[TaskStats]:
    from pyspark.sql import SparkSession

    args = parse_args(argv)
    builder = SparkSession.builder.appName(f"cargar_dynamo {args.dynamo_table}").config(
        "spark.sql.session.timeZone", "UTC"
    )
    spark = (builder if args.parquet else builder.enableHiveSupport()).getOrCreate()  # the catalog only when read
    try:
        stats = run(spark, args)
        print(report(stats), flush=True)
        return stats
    finally:
        spark.stop()


def submit_local(
    args: JobArgs,
    workdir: Path,
    script: Path,
    aws_env: dict[str, str],
    master: str = "local[2]",
    timeout_s: float = 3600,
) -> list[TaskStats]:
    """Run the job script with the pip ``pyspark``'s ``spark-submit`` (everything on loopback); its task lines.
    ``aws_env``: the AWS variables of the environment (``aws.process_environment``), which the tasks inherit."""
    env = (
        dict(
            os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1"
        )
        | aws_env
    )
    submit = Path(sys.executable).with_name("spark-submit")
    if not submit.exists():
        raise ProductizarError(
            "Para correr el job de carga en Spark local hace falta pyspark: "
            "pip install -e '.[spark]' (make demo ya lo instala)."
        )
    cmd = [
        str(submit),
        "--master",
        master,
        "--conf",
        "spark.ui.enabled=false",
        "--conf",
        "spark.driver.bindAddress=127.0.0.1",
        "--conf",
        "spark.driver.host=127.0.0.1",
        "--conf",
        "spark.sql.session.timeZone=UTC",
        "--driver-java-options",
        "-XX:-UsePerfData",
        str(script),
        *args.to_argv(),
    ]
    workdir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(cmd, env=env, cwd=workdir, capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        tail = [line for line in done.stderr.splitlines() if "Error" in line or "Exception" in line][-3:]
        raise ProductizarError(f"El job de carga en Spark local falló (código {done.returncode}): " + " | ".join(tail))
    return [TaskStats(**json.loads(line)["tarea"]) for line in done.stdout.splitlines() if line.startswith('{"tarea"')]
