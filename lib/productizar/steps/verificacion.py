"""Step ``verificacion``: prove that DynamoDB holds exactly the results-zone rows.

Per table: the configuration checks of the infrastructure step (exists, keys, billing, capacity, SSE,
PITR, tags, autoscaling, ``cloud.inspection``); then the item count by parallel Scan against what
``conteo`` expects, and a sample compared attribute by attribute (``dynamo.verify``). The tables are counted
at the same time: each count waits on its own table's read capacity.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from productizar.cloud import aws
from productizar.cloud.inspection import Checker
from productizar.core import checks
from productizar.core.capacity import READ_UNIT_BYTES
from productizar.core.checks import Check
from productizar.core.environments import Environment, WriteMode
from productizar.core.hu import HU, TableSpec
from productizar.dynamo import warming
from productizar.dynamo.sizing import load_assumptions
from productizar.dynamo.verify import compare_sample, count_items, segments_for
from productizar.results_zone.base import ResultsZone
from productizar.run import headline
from productizar.run.step import Step
from productizar.steps import conteo

SAMPLE_ROWS = 200


@dataclass
class Verification:
    checks: list[Check]
    mismatches: list[dict[str, Any]]
    warmings: list[warming.Warming] = field(default_factory=list)
    # whether it could raise read capacity for the count (None: checked without a step, in a test)
    mode: WriteMode | None = None


Warm = Callable[[str, float], contextlib.AbstractContextManager[Any]]


def read_units_needed(size_bytes: float, seconds: float, sample_rows: int = SAMPLE_ROWS) -> int:
    """Read units a second that count a table of ``size_bytes`` by strongly consistent Scan and fetch the
    sample (at least a unit per item: BatchGetItem rounds each item up) in about ``seconds``."""
    return max(1, math.ceil((size_bytes / READ_UNIT_BYTES + sample_rows) / seconds))


def verify(step: Step, sample_rows: int = SAMPLE_ROWS) -> Verification:
    """Every check for every table, and every difference the samples found.

    Counting a table reads all of it: its read capacity is warmed for the count (and given back after) so
    that the scan takes about ``verify_scan_s``; without confirmation in qa/prd it reads at the capacity
    the table has, throttled and retried."""
    expected = {source: c.expected_items for source, c in conteo.read_facts(step).tables.items()}
    clients = aws.clients(step.env)
    dynamodb, autoscaling = clients("dynamodb"), clients("application-autoscaling")  # made before the threads
    mode = step.write_mode
    journal = warming.Journal(step.state_dir / "warming")
    leftovers: list[warming.Warming] = []
    if not mode.dry_run:  # what a killed verificacion left raised goes back first
        leftovers = warming.restore_leftovers(dynamodb, autoscaling, journal)
    seconds = load_assumptions().verify_scan_s
    done: list[warming.Warming] = []

    def warm(table: str, size_bytes: float) -> contextlib.AbstractContextManager[Any]:
        return warming.warmed(
            dynamodb,
            autoscaling,
            table,
            warming.READ,
            read_units_needed(size_bytes, seconds, sample_rows),
            journal,
            dry_run=mode.dry_run,
            record=done.append,
        )

    v = check_tables(step.hu, step.env, step.zone(), clients, expected, sample_rows, warm)
    order = [spec.names.dynamo_table for spec in step.hu.tables]  # the counts end in any order: said in the HU's
    v.warmings, v.mode = leftovers + sorted(done, key=lambda w: order.index(w.table)), mode
    return v


@dataclass(frozen=True)
class Counted:
    """One table read whole and sampled: what its checks compare."""

    segments: int
    found: int
    sample: dict[str, Any]


def check_tables(
    hu: HU,
    env: Environment,
    zone: ResultsZone,
    clients: Callable[[str], Any],
    expected_items: Mapping[str, int],
    sample_rows: int = SAMPLE_ROWS,
    warm: Warm | None = None,
    max_workers: int = 4,
) -> Verification:
    """Per table: its configuration checks, then (when it exists) the item count against
    ``expected_items[source]`` and the sample comparison. Up to ``max_workers`` tables are counted at the
    same time, each on its own read capacity (a count waits on its table's capacity, not on the machine; the
    bound keeps an HU of many tables from raising them all at once); the checks keep the HU's order."""
    ddb = clients("dynamodb")
    checkers = [(spec, Checker(env, clients)) for spec in hu.tables]  # one per table: its checks stay together
    present = [(spec, checker) for spec, checker in checkers if checker.table(hu, spec)]

    def count(spec: TableSpec) -> Counted:
        name = spec.names.dynamo_table
        size = ddb.describe_table(TableName=name)["Table"].get("TableSizeBytes") or expected_items[spec.source] * 200
        segments = segments_for(size)
        with warm(name, size) if warm else contextlib.nullcontext():
            return Counted(segments, count_items(ddb, name, segments), compare_sample(zone, ddb, spec, sample_rows))

    with ThreadPoolExecutor(max(1, min(max_workers, len(present))), thread_name_prefix="verificacion") as pool:
        counted = list(pool.map(count, [spec for spec, _ in present]))
    mismatches: list[dict[str, Any]] = []
    for (spec, checker), c in zip(present, counted):
        mismatches += _add_counted(checker, spec, expected_items[spec.source], c)
    return Verification([check for _, checker in checkers for check in checker.results], mismatches)


def _add_counted(checker: Checker, spec: TableSpec, expected: int, c: Counted) -> list[dict[str, Any]]:
    """The count's and the sample's checks of one table; the sample's differences."""
    name = spec.names.dynamo_table
    checker.add(
        name,
        "item_count",
        f"ítems por Scan paralelo ({c.segments} segmentos)",
        c.found == expected,
        f"{expected} (conteo − claves inválidas − repetidas)",
        c.found,
    )
    detail = f"{c.sample['compared']} ítems comparados"
    if c.sample["repeated_keys"]:
        detail += f"; {c.sample['repeated_keys']} con clave repetida en el origen (DynamoDB conserva una)"
    bad = len({m["Clave"] for m in c.sample["mismatches"]})
    checker.add(
        name,
        "sample",
        "muestra comparada atributo por atributo",
        bad == 0,
        "sin diferencias",
        detail if bad == 0 else f"{bad} ítems con diferencias ({detail})",
    )
    return list(c.sample["mismatches"])


def checks_table(v: Verification) -> pd.DataFrame:
    return checks.table(v.checks)


def mismatches_table(v: Verification) -> pd.DataFrame:
    """Every difference found in the samples; one line saying so when there is none."""
    if not v.mismatches:
        return pd.DataFrame({"Resultado": ["Sin diferencias: cada ítem de la muestra es igual a su fila de origen."]})
    return pd.DataFrame(v.mismatches, columns=["Tabla", "Clave", "Atributo", "Origen", "DynamoDB"])


def warming_notes(v: Verification) -> str:
    """What was warmed for the counts and how it was given back (or that nothing needed it)."""
    return "\n".join(w.sentence() for w in v.warmings) or "No se calentó la lectura de ninguna tabla."


def verdict(v: Verification) -> str:
    """A sentence when every check passes (or is not checkable here); ``StepFailed`` naming each failure."""
    return checks.verdict(v.checks, "No hay tablas que verificar.")


def facts(v: Verification) -> dict[str, Any]:
    """Every check with its status, and every difference found, for summary.json."""
    said, figures = headline.checks(c.status for c in v.checks)
    figures["diferencias en la muestra"] = len(v.mismatches)
    text = f"comprobaciones: {said}"
    line = headline.written(text, v.mode, figures) if v.mode else headline.Headline(text, figures)
    return {
        "headline": line.as_fact(),
        "checks": [c.as_fact() for c in v.checks],
        "mismatches": v.mismatches,
        "read_warming": [asdict(w) for w in v.warmings],
        "verdict": "fail" if any(c.failed for c in v.checks) else "pass",
    }
