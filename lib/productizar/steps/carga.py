"""Step ``carga``: load every HU table, with the engine the sizing figures call for, with progress.

Each table goes to the single-machine loader (resumable, streamed) or to the Glue/Spark job (``engine``
decides and says why). The Spark path runs the job's own script: where the environment's endpoint runs no
Glue jobs (its ``known_gaps`` say so: the embedded moto) with the pip ``pyspark``'s ``spark-submit`` against
that endpoint (the table exported to Parquet first), elsewhere as a run of the stack's Glue job, followed
until it ends.

The rate asked of each table is the HU's write share of its autoscaling maximum: the table starts at the
minimum and throttles until target tracking raises it, which the loader's retries absorb (the sizing step
models the same ramp).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pandas as pd

from productizar.cloud import aws, glue
from productizar.core import naming
from productizar.core.hu import TableSpec
from productizar.dynamo import engine, spark_load
from productizar.dynamo.loader import Checkpoint, LoadResult, load_table, table_instance
from productizar.dynamo.sizing import load_assumptions
from productizar.results_zone.profile import TableCount
from productizar.run import progress
from productizar.run.step import Step
from productizar.steps import conteo, dimensionamiento

LOCAL_TASKS = 2  # local[2]: the machine's two cores


def rate_wcu(step: Step) -> float:
    return step.hu.load.write_share * step.hu.capacity.write[1]


def choices(step: Step) -> list[engine.Choice]:
    """Per table, the engine and why (sizing facts and the HU's threshold)."""
    return engine.choose(step.hu, dimensionamiento.read_facts(step).write_plans, load_assumptions().single_machine_wcu)


def choices_table(step: Step) -> pd.DataFrame:
    return engine.choices_table(choices(step))


def run(step: Step, workers: int = 4, chunk_rows: int = 10_000, out: Callable[[str], None] = print) -> list[LoadResult]:
    """Load the tables one after another; a dry run (no confirmation in qa/prd) writes nothing."""
    mode = step.write_mode
    if mode.dry_run:
        out(f"No se carga: {mode.reason}.")
        return []
    chosen = {c.source: c for c in choices(step)}
    counted = conteo.read_facts(step).tables
    out(
        f"Cargando {len(step.hu.tables)} tablas, una tras otra, con un límite de {rate_wcu(step):.0f} WCU/s por tabla "
        f"(el {step.hu.load.write_share:.0%} del máximo de autoescalado {step.hu.capacity.write[1]})."
    )
    client = step.client("dynamodb", max_attempts=1)  # the loader retries and counts
    zone = step.zone()  # one results-zone handle for every table
    results = []
    for spec in step.hu.tables:
        if chosen[spec.source].engine == engine.SPARK:
            results.append(spark_table(step, spec, out))
            continue
        checkpoint = Checkpoint(
            step.state_dir / "checkpoints" / f"{spec.names.table}.json",
            load_identity(step, spec, counted[spec.source], client, zone),
        )
        saved = checkpoint.load()  # said before the load: where it resumes, or why it starts over
        if saved:
            row = f"{saved.rows_done:,}".replace(",", ".")
            out(
                f"{spec.source}: se reanuda desde la fila {row} (punto de control); las cifras cuentan la carga entera."
            )
        elif checkpoint.note:
            out(f"{spec.source}: {checkpoint.note}.")
        result = load_table(
            zone,
            client,
            spec,
            rate_wcu=rate_wcu(step),
            workers=workers,
            chunk_rows=chunk_rows,
            checkpoint=checkpoint,
            progress=progress.for_loads(out),
            expected_rows=counted[spec.source].rows,
        )
        results.append(result)
    return results


def load_identity(step: Step, spec: TableSpec, counted: TableCount, client: Any, zone: Any) -> dict[str, Any]:
    """What a checkpoint must match to be resumed: the HU's table and keys, the table's instance in DynamoDB
    (a recreated table or a new embedded server starts over) and the source as ``conteo`` counted it."""
    return {
        "hu": step.hu.id,
        "source": spec.source,
        "table": spec.names.dynamo_table,
        "keys": list(spec.key_names),
        "instance": table_instance(client, spec.names.dynamo_table),
        "data": {
            "zone": zone.describe(),
            "rows": counted.rows,
            "null_key_rows": counted.null_key_rows,
            "duplicate_rows": counted.duplicate_rows,
            "sort_range": [str(counted.sort_min), str(counted.sort_max)],
        },
    }


def task_slots(step: Step) -> int:
    """Concurrent Spark tasks of one run: the sizing step's Glue workers, as the template declares them."""
    g = dimensionamiento.read_facts(step).glue
    return max(1, (g.NumberOfWorkers - 1) * load_assumptions().slots_per_worker[g.WorkerType])


def spark_table(step: Step, spec: TableSpec, out: Callable[[str], None] = print) -> LoadResult:
    """One table through the job script: spark-submit on this machine where the endpoint runs no Glue jobs,
    a Glue run elsewhere."""
    args = glue.job_args(step.hu, spec, task_slots(step), step.env.aws.region)
    started = time.monotonic()
    if "glue_job" in step.env.known_gaps:
        local_tasks = min(args.tasks, LOCAL_TASKS)
        # a copy of results-zone data is the job's input, not evidence: it is kept with the step's state
        parquet = step.state_dir / "parquet" / f"{spec.source}.parquet"
        step.zone().export_parquet(spec.source, parquet)
        args = replace(args, tasks=local_tasks, parquet=str(parquet), endpoint=aws.endpoint_url(step.env))
        out(
            f"⏳ {spec.source}: job de carga en Spark local ({local_tasks} tareas de {task_slots(step)} planeadas, "
            f"{args.task_wcu:.0f} WCU/s cada una)"
        )
        stats = spark_load.submit_local(
            args, step.output_dir / "carga" / "spark", glue.script_path(), aws.process_environment(step.env)
        )
        r = LoadResult(spec.source, spec.names.dynamo_table, rate_limit_wcu=rate_wcu(step))
        for t in stats:
            r.rows_read += t.rows_read
            r.items_written += t.items_written
            r.refused += t.refused
            r.duplicates += t.duplicates
            r.retries += t.retries
            r.throttles += t.throttles
        r.duration_s = time.monotonic() - started
        return r
    client = step.client("glue")
    job = naming.glue_job_name(step.hu.api.slug)
    run_id = glue.start(client, job, args)
    out(f"{spec.source}: corrida {run_id} del job {job} ({args.tasks} tareas, {args.task_wcu:.0f} WCU/s cada una).")
    glue.follow(client, job, run_id, spec.source, out=out)
    # the job's own per-task lines are in its CloudWatch log; verificacion counts the items
    return LoadResult(
        spec.source, spec.names.dynamo_table, duration_s=time.monotonic() - started, rate_limit_wcu=rate_wcu(step)
    )


def results_table(results: list[LoadResult]) -> pd.DataFrame:
    return (
        pd.DataFrame(
            [
                {
                    "Tabla": r.source,
                    "Tabla DynamoDB": r.table,
                    "Filas leídas": r.rows_read,
                    "Ítems escritos": r.items_written,
                    "Filas rechazadas": r.refused,
                    "Claves repetidas": r.duplicates,
                    "Reintentos": r.retries,
                    "Estrangulamientos": r.throttles,
                }
                for r in results
            ]
        ).set_index("Tabla")
        if results
        else pd.DataFrame()
    )


def notes(results: list[LoadResult], step: Step) -> str:
    out = [
        "Las escrituras son PutItem por clave: repetir una carga o reanudarla no duplica ítems, los sobrescribe "
        "con los mismos valores."
    ]
    for r in results:
        out.append(
            f"{r.source}: {r.items_written:,} ítems en {r.duration_s:.0f} s ({r.rate:,.0f} ítems/s).".replace(",", ".")
        )
        if r.refused:
            out.append(
                f"{r.source}: {r.refused} filas rechazadas (clave nula o vacía, o ítem de más de 400 KB): "
                + "; ".join(r.refused_examples)
            )
        if r.duplicates:
            out.append(
                f"{r.source}: {r.duplicates} filas con clave repetida; DynamoDB conserva la última de cada clave."
            )
    return "\n".join(out)


def facts(results: list[LoadResult], step: Step) -> dict[str, Any]:
    return {
        "engines": {c.source: {"engine": c.engine, "reason": c.reason} for c in choices(step)},
        "dry_run": step.write_mode.dry_run,
        "rate_limit_wcu": rate_wcu(step),
        "tables": {r.source: r.as_fact() for r in results},
    }
