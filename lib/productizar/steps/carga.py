"""Step ``carga``: load every HU table, with the engine the sizing figures call for, with progress.

Each table goes to the single-machine loader (resumable, streamed) or to the Glue/Spark job (``engine``
decides and says why). The Spark path runs the job's own script: where the environment's endpoint runs no
Glue jobs (its ``known_gaps`` say so: the embedded moto) with the pip ``pyspark``'s ``spark-submit`` against
that endpoint (the table exported to Parquet first), elsewhere as a run of the stack's Glue job, followed
until it ends.

The loader asks each table for the HU's write share of its *current* capacity and follows what it accepts.
When the sizing plan says the load from the autoscaling minimum would not fit the window (``load.warm``), the
table is warmed for its load and given back after (``warming``). The evidence puts the sizing step's
predicted time beside the measured one, on the same capacity: AWS's, or the embedded endpoint's model.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pandas as pd

from productizar.cloud import aws, glue
from productizar.core import naming
from productizar.core.capacity import CapacityRules, load_rules
from productizar.core.hu import TableSpec
from productizar.dynamo import engine, sizing, spark_load, warming
from productizar.dynamo.loader import Checkpoint, LoadResult, load_table, table_instance
from productizar.dynamo.sizing import Assumptions, WritePlan, load_assumptions
from productizar.results_zone.profile import TableCount
from productizar.run import headline, progress
from productizar.run.step import Step
from productizar.steps import conteo, dimensionamiento

LOCAL_TASKS = 2  # local[2]: the machine's two cores


@dataclass
class Loads:
    """What ``run`` did: each table's load, the capacity warmed and given back, and the sizing step's
    prediction beside the measured time, all on the endpoint's capacity (AWS's own, or the embedded model)."""

    results: list[LoadResult] = field(default_factory=list)
    warmings: list[warming.Warming] = field(default_factory=list)
    leftovers: list[warming.Warming] = field(default_factory=list)  # left raised by an interrupted run
    predictions: dict[str, Prediction] = field(default_factory=dict)
    capacity: str = ""  # where the capacity that throttled these loads comes from


@dataclass(frozen=True)
class Prediction:
    source: str
    predicted_s: float
    measured_s: float
    predicted_wcu: float
    consumed_wcu: float
    warmed_to: int
    time_scale: float
    predicted_usd: float
    measured_usd: float

    @property
    def ratio(self) -> float:
        return self.measured_s / self.predicted_s if self.predicted_s else 0.0


def rules(step: Step) -> CapacityRules:
    """DynamoDB's rules as this environment's endpoint applies them: the embedded model's time scale, or
    AWS's own clock."""
    model = step.env.aws.capacity_model
    return load_rules(time_scale=model.time_scale if model else 1.0)


def capacity_source(step: Step) -> str:
    model = step.env.aws.capacity_model
    if model is None:
        return "la capacidad es la de DynamoDB en AWS"
    scale = f", con el tiempo {model.time_scale:g} veces más rápido" if model.time_scale != 1 else ""
    return (
        "la capacidad es un modelo: el endpoint embebido aplica las reglas documentadas de DynamoDB "
        f"(capacity_model de {model.source}: unidades por tamaño, ráfaga de 300 s, techo por partición, "
        f"autoescalado de la plantilla{scale}); moto por sí solo nunca estrangula"
    )


def rate_wcu(step: Step) -> float:
    """The most the loader may ask of a table: the write share of the planned capacity."""
    return step.hu.load.write_share * step.hu.capacity.write[1]


def choices(step: Step) -> list[engine.Choice]:
    """Per table, the engine and why (sizing facts and the HU's threshold)."""
    return engine.choose(step.hu, dimensionamiento.read_facts(step).write_plans, load_assumptions().single_machine_wcu)


def choices_table(step: Step) -> pd.DataFrame:
    return engine.choices_table(choices(step))


def run(step: Step, workers: int = 4, chunk_rows: int = 10_000, out: Callable[[str], None] = print) -> Loads:
    """Load the tables one after another; a dry run (no confirmation in qa/prd) writes nothing.

    Each table is warmed first when the sizing plan says so, and given back when its load ends or fails."""
    loads = Loads(capacity=capacity_source(step))
    mode = step.write_mode
    if mode.dry_run:
        out(f"No se carga: {mode.reason}.")
        return loads
    chosen = {c.source: c for c in choices(step)}
    counted = conteo.read_facts(step).tables
    plans = dimensionamiento.read_facts(step).write_plans
    a, r = load_assumptions(), rules(step)
    client = step.client("dynamodb", max_attempts=1)  # the loader retries and counts
    dynamodb, autoscaling = step.client("dynamodb"), step.client("application-autoscaling")
    journal = warming.Journal(step.state_dir / "warming")
    loads.leftovers = warming.restore_leftovers(dynamodb, autoscaling, journal)
    for w in loads.leftovers:
        out(f"Restituida la capacidad que dejó elevada una corrida interrumpida: {w.sentence()}")
    out(
        f"Cargando {len(step.hu.tables)} tablas, una tras otra, cada una al {step.hu.load.write_share:.0%} de su "
        f"capacidad de escritura del momento (load.write_share); {loads.capacity}."
    )
    zone = step.zone()  # one results-zone handle for every table
    for spec in step.hu.tables:
        plan = plans[spec.source]
        table = spec.names.dynamo_table
        to = plan.warm_capacity_wcu if plan.warm else 0
        warm: contextlib.AbstractContextManager[warming.Warming | None] = (
            warming.warmed(dynamodb, autoscaling, table, warming.WRITE, to, journal, record=loads.warmings.append)
            if to
            else contextlib.nullcontext(None)
        )
        with warm as now:
            if now is not None and now.applied:
                out(f"{spec.source}: capacidad de escritura elevada a {to} WCU para la carga (se restituye al final).")
            if chosen[spec.source].engine == engine.SPARK:
                result = spark_table(step, spec, out)
            else:
                result = single_table(step, spec, counted[spec.source], client, zone, workers, chunk_rows, out, a, r)
        loads.results.append(result)
        warmed_to = to if now is not None and now.applied else 0
        loads.predictions[spec.source] = predict(plan, result, warmed_to, a, r, step)
    for w in loads.warmings:
        out(w.sentence())
    return loads


def single_table(
    step: Step,
    spec: TableSpec,
    counted: TableCount,
    client: Any,
    zone: Any,
    workers: int,
    chunk_rows: int,
    out: Callable[[str], None],
    a: Assumptions,
    r: CapacityRules,
) -> LoadResult:
    """One table through the single-machine loader, resumable from its checkpoint."""
    checkpoint = Checkpoint(
        step.state_dir / "checkpoints" / f"{spec.names.table}.json",
        load_identity(step, spec, counted, client, zone),
    )
    saved = checkpoint.load()  # said before the load: where it resumes, or why it starts over
    if saved:
        row = f"{saved.rows_done:,}".replace(",", ".")
        out(f"{spec.source}: se reanuda desde la fila {row} (punto de control); las cifras cuentan la carga entera.")
    elif checkpoint.note:
        out(f"{spec.source}: {checkpoint.note}.")
    return load_table(
        zone,
        client,
        spec,
        share=step.hu.load.write_share,
        stall_s=max(a.load_stall_s, r.real_s(2 * r.scale_up_delay_s)),
        on_demand_quota=r.table_write_quota_wcu,
        workers=workers,
        chunk_rows=chunk_rows,
        checkpoint=checkpoint,
        progress=progress.for_loads(out),
        expected_rows=counted.rows,
    )


def predict(
    plan: WritePlan, result: LoadResult, warmed_to: int, a: Assumptions, r: CapacityRules, step: Step
) -> Prediction:
    """The sizing step's load time on the same capacity (its clock included), beside the measured one."""
    lo, _ = plan.write_range
    top = warmed_to or plan.recommended_write_max
    seconds = sizing.load_seconds(
        plan.total_write_units,
        lo,
        top,
        plan.share,
        a.write_target_utilization,
        r.real_s(a.scale_up_delay_s),
        warmed=bool(warmed_to),
    )
    seconds = max(seconds, plan.hot_key_hours * 3600)
    price = a.prices["dynamodb_provisioned_wcu_hour"]
    on_demand = step.hu.capacity.billing_mode == "PAY_PER_REQUEST"
    if on_demand:
        unit = a.prices["dynamodb_on_demand_write_million"] / 1e6
        predicted_usd, measured_usd = plan.total_write_units * unit, result.consumed_wcu * unit
    else:  # capacity held while loading; the prediction holds what the load uses at its share
        predicted_usd = plan.total_write_units / plan.share / 3600 * price
        measured_usd = result.provisioned_wcu_seconds / 3600 * price
    return Prediction(
        plan.source,
        round(seconds, 2),
        round(result.duration_s, 2),
        plan.total_write_units,
        round(result.consumed_wcu, 1),
        warmed_to,
        r.time_scale,
        round(predicted_usd, 4),
        round(measured_usd, 4),
    )


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
            f"cada una al {args.write_share / max(1, args.tasks):.0%} de la capacidad de la tabla)"
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
            r.connection_errors += t.connection_errors
            r.consumed_wcu += t.consumed_wcu
        r.duration_s = time.monotonic() - started
        return r
    client = step.client("glue")
    job = naming.glue_job_name(step.hu.api.slug)
    run_id = glue.start(client, job, args)
    out(
        f"{spec.source}: corrida {run_id} del job {job} ({args.tasks} tareas, cada una al "
        f"{args.write_share / max(1, args.tasks):.0%} de la capacidad de la tabla)."
    )
    glue.follow(client, job, run_id, spec.source, out=out)
    # the job's own per-task lines are in its CloudWatch log; verificacion counts the items
    return LoadResult(
        spec.source, spec.names.dynamo_table, duration_s=time.monotonic() - started, rate_limit_wcu=rate_wcu(step)
    )


def results_table(loads: Loads) -> pd.DataFrame:
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
                    "Conexiones caídas": r.connection_errors,
                }
                for r in loads.results
            ]
        ).set_index("Tabla")
        if loads.results
        else pd.DataFrame()
    )


def _s(seconds: float) -> str:
    return f"{seconds:,.1f} s".replace(",", "_").replace(".", ",").replace("_", ".")


def capacity_table(loads: Loads) -> pd.DataFrame:
    """Per table: the sizing step's prediction beside what the load measured, on the same capacity."""
    if not loads.predictions:
        return pd.DataFrame()
    return pd.DataFrame(
        [
            {
                "Tabla": p.source,
                "Calentada a (WCU)": p.warmed_to or "no",
                "Tiempo predicho": _s(p.predicted_s),
                "Tiempo medido": _s(p.measured_s),
                "Medido / predicho": f"{p.ratio:.2f} ×".replace(".", ","),
                "WCU predichas": round(p.predicted_wcu),
                "WCU consumidas": round(p.consumed_wcu),
                "Costo predicho": f"US$ {p.predicted_usd:.4f}".replace(".", ","),
                "Costo medido": f"US$ {p.measured_usd:.4f} (medido)".replace(".", ","),
            }
            for p in loads.predictions.values()
        ]
    ).set_index("Tabla")


def notes(loads: Loads, step: Step) -> str:
    out = [
        "Las escrituras son PutItem por clave: repetir una carga o reanudarla no duplica ítems, los sobrescribe "
        "con los mismos valores.",
        f"Capacidad: {loads.capacity}.",
    ]
    for r in loads.results:
        figures = (
            f"{r.items_written:,} ítems en {r.duration_s:.0f} s ({r.rate:,.0f} ítems/s), {r.consumed_wcu:,.0f} WCU"
        )
        out.append(
            f"{r.source}: {figures.replace(',', '.')} consumidas; capacidad al empezar: "
            f"{r.capacity_start or 'no leída'}, al terminar: {r.capacity_end or 'no leída'}."
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
    for w in loads.leftovers + loads.warmings:
        out.append(w.sentence())
    if loads.results and not loads.warmings:
        out.append("Sin calentamiento: las tablas cargaron con la capacidad que tenían (load.warm).")
    return "\n".join(out)


def facts(loads: Loads, step: Step) -> dict[str, Any]:
    mode = step.write_mode
    figures: dict[str, headline.Figure] = {
        f"ítems cargados · {headline.short(r.source)}": r.items_written for r in loads.results
    }
    total = sum(r.items_written for r in loads.results)
    refused = sum(r.refused for r in loads.results)
    n = len(loads.results)
    text = f"{headline.n(total)} ítems cargados en {n} tabla{'s' if n != 1 else ''}" + (
        f" · {headline.n(refused)} rechazados" if refused else ""
    )
    if mode.dry_run:
        text = f"nada cargado ({len(step.hu.tables)} tablas planeadas)"
    return {
        "headline": headline.written(text, mode, figures).as_fact(),
        "dry_run_reason": mode.reason if mode.dry_run else None,
        "engines": {c.source: {"engine": c.engine, "reason": c.reason} for c in choices(step)},
        "dry_run": mode.dry_run,
        "rate_limit_wcu": rate_wcu(step),
        "capacity": loads.capacity,
        "capacity_model": step.env.aws.capacity_model.model_dump() if step.env.aws.capacity_model else None,
        "tables": {r.source: r.as_fact() for r in loads.results},
        "warming": [asdict(w) for w in loads.warmings],
        "restored_leftovers": [asdict(w) for w in loads.leftovers],
        "predictions": {k: asdict(p) | {"ratio": round(p.ratio, 3)} for k, p in loads.predictions.items()},
    }
