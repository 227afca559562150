"""Step ``carga``: load every HU table with the single-machine loader, with progress, resumable.

The rate asked of each table is the HU's write share of its autoscaling maximum: the table starts at the
minimum and throttles until target tracking raises it, which the loader's retries absorb (the sizing step
models the same ramp).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from . import aws
from .loader import Checkpoint, LoadResult, ProgressPrinter, load_table
from .notebook import Step


def rate_wcu(step: Step) -> float:
    return step.hu.load.write_share * step.hu.capacity.write[1]


def run(step: Step, workers: int = 4, chunk_rows: int = 10_000,
        out: Callable[[str], None] = print) -> list[LoadResult]:
    """Load the tables one after another; a dry run (no confirmation in qa/prd) writes nothing."""
    mode = step.write_mode
    if mode.dry_run:
        out(f"No se carga: {mode.reason}.")
        return []
    counted = step.facts_of("conteo")["tables"]
    out(f"Cargando {len(step.hu.tables)} tablas, una tras otra, con {workers} escritores en paralelo y un límite de "
        f"{rate_wcu(step):.0f} WCU/s por tabla (el {step.hu.load.write_share:.0%} del máximo de autoescalado "
        f"{step.hu.capacity.write[1]}).")
    client = aws.client(step.env, "dynamodb", max_attempts=1)  # the loader retries and counts
    zone = step.zone()  # one results-zone handle for every table
    results = []
    for spec in step.hu.tables:
        identity = {"hu": step.hu.id, "source": spec.source, "table": spec.names.dynamo_table,
                    "keys": list(spec.key_names)}
        checkpoint = Checkpoint(step.output_dir / "carga" / "checkpoints" / f"{spec.names.table}.json", identity)
        result = load_table(zone, client, spec, rate_wcu=rate_wcu(step), workers=workers,
                            chunk_rows=chunk_rows, checkpoint=checkpoint, progress=ProgressPrinter(out=out),
                            expected_rows=counted[spec.source]["rows"])
        if result.resumed_from_row:
            out(f"{spec.source}: reanudada desde la fila {result.resumed_from_row} (punto de control).")
        results.append(result)
    return results


def results_table(results: list[LoadResult]) -> pd.DataFrame:
    return pd.DataFrame([
        {"Tabla": r.source, "Tabla DynamoDB": r.table, "Filas leídas": r.rows_read, "Ítems escritos": r.items_written,
         "Claves rechazadas": r.refused, "Claves repetidas": r.duplicates, "Reintentos": r.retries,
         "Estrangulamientos": r.throttles}
        for r in results
    ]).set_index("Tabla") if results else pd.DataFrame()


def notes(results: list[LoadResult], step: Step) -> list[str]:
    out = ["Las escrituras son PutItem por clave: repetir una carga o reanudarla no duplica ítems, los sobrescribe "
           "con los mismos valores."]
    for r in results:
        out.append(f"{r.source}: {r.items_written:,} ítems en {r.duration_s:.0f} s ({r.rate:,.0f} ítems/s).".replace(",", "."))
        if r.refused:
            out.append(f"{r.source}: {r.refused} filas rechazadas por clave nula o vacía: " + "; ".join(r.refused_examples))
        if r.duplicates:
            out.append(f"{r.source}: {r.duplicates} filas con clave repetida; DynamoDB conserva la última de cada clave.")
    return out


def facts(results: list[LoadResult], step: Step) -> dict[str, Any]:
    return {"engine": "single-machine", "dry_run": step.write_mode.dry_run,
            "rate_limit_wcu": rate_wcu(step), "tables": {r.source: r.as_fact() for r in results}}
