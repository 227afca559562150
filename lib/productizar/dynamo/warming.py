"""Warm a table for a load window, then give the capacity back: the runbook's missing move.

A new table starts at its autoscaling minimum and target tracking raises it only step by step (and not at
all when the load's share is not above the target). For the window the sizing step planned, the table's
capacity is raised to what the load needs: the scalable target's minimum (and the table's provisioned
capacity at once) on a provisioned table, ``WarmThroughput`` on an on-demand one. When the load ends or
fails the template's values are restored. A journal entry is written *before* anything is raised and
removed only after the restore, so a run killed in between gives the capacity back the next time.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from productizar.core.capacity import CAPACITY_UNITS as UNITS
from productizar.core.capacity import READ, WRITE
from productizar.core.capacity import SCALABLE_DIMENSION as DIMENSION
from productizar.core.capacity import WARM_UNITS as WARM
from productizar.core.files import write_text

ABBREV = {WRITE: "WCU", READ: "RCU"}


@dataclass(frozen=True)
class Warming:
    """One raise of one table's capacity and how it was given back (what the evidence records)."""

    table: str
    dimension: str  # write | read
    how: str  # scalable-target | provisioned | warm-throughput | none
    to: int
    capacity_before: int = 0  # provisioned units (or the on-demand warm throughput) before
    min_before: int | None = None  # the scalable target's bounds before (the template's)
    max_before: int | None = None
    applied: bool = False
    restored: bool = False
    started_at: str = ""
    restored_at: str = ""
    notes: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        u = ABBREV[self.dimension]
        if self.how == "none":
            return f"{self.table}: no hizo falta calentar ({'; '.join(self.notes)})."
        if not self.applied:
            return f"{self.table}: se calentaría a {self.to} {u} ({self.how}); simulación, no se cambió nada."
        back = (
            f"restituida a {self.capacity_before} {u}"
            + (f" y el autoescalado a {self.min_before},{self.max_before}" if self.min_before is not None else "")
            if self.restored
            else "SIN restituir"
        )
        extra = f" ({'; '.join(self.notes)})" if self.notes else ""
        return f"{self.table}: capacidad elevada a {self.to} {u} para la ventana de carga, {back}{extra}."


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def current(dynamodb: Any, autoscaling: Any, table: str, dimension: str, to: int) -> Warming:
    """What warming ``table`` to ``to`` units would do, from the table and its scalable target now."""
    t = dynamodb.describe_table(TableName=table)["Table"]
    on_demand = (t.get("BillingModeSummary") or {}).get("BillingMode") == "PAY_PER_REQUEST"
    if on_demand:
        warm = int((t.get("WarmThroughput") or {}).get(WARM[dimension]) or 0)
        if warm >= to:
            return Warming(table, dimension, "none", to, warm, notes=[f"ya sirve {warm} al instante"])
        return Warming(table, dimension, "warm-throughput", to, warm)
    units = int((t.get("ProvisionedThroughput") or {}).get(UNITS[dimension]) or 0)
    targets = autoscaling.describe_scalable_targets(
        ServiceNamespace="dynamodb", ResourceIds=[f"table/{table}"], ScalableDimension=DIMENSION[dimension]
    )["ScalableTargets"]
    if targets:
        lo, hi = int(targets[0]["MinCapacity"]), int(targets[0]["MaxCapacity"])
        if lo >= to:
            return Warming(table, dimension, "none", to, units, lo, hi, notes=[f"el mínimo ya es {lo}"])
        return Warming(table, dimension, "scalable-target", to, units, lo, hi)
    if units >= to:
        return Warming(table, dimension, "none", to, units, notes=[f"ya tiene {units}"])
    return Warming(table, dimension, "provisioned", to, units)


def _provisioned(dynamodb: Any, table: str, dimension: str, units: int) -> None:
    t = dynamodb.describe_table(TableName=table)["Table"]
    now = {k: int((t.get("ProvisionedThroughput") or {}).get(k) or 1) for k in UNITS.values()}
    if now[UNITS[dimension]] == units:
        return  # UpdateTable refuses a change to the same value
    now[UNITS[dimension]] = units
    dynamodb.update_table(TableName=table, ProvisionedThroughput=now)
    dynamodb.get_waiter("table_exists").wait(TableName=table)


def _register(autoscaling: Any, w: Warming, low: int | None, high: int | None) -> None:
    autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{w.table}",
        ScalableDimension=DIMENSION[w.dimension],
        MinCapacity=low,
        MaxCapacity=high,
    )


def apply(dynamodb: Any, autoscaling: Any, w: Warming) -> Warming:
    """Raise the capacity as ``w`` says."""
    if w.how == "warm-throughput":
        dynamodb.update_table(TableName=w.table, WarmThroughput={WARM[w.dimension]: w.to})
        return replace(w, applied=True, started_at=_now())
    if w.how == "scalable-target":
        _register(autoscaling, w, w.to, max(w.to, w.max_before or w.to))
    if w.how in ("scalable-target", "provisioned"):
        _provisioned(dynamodb, w.table, w.dimension, w.to)  # at once, not when the next alarm fires
    return replace(w, applied=True, started_at=_now())


def restore(dynamodb: Any, autoscaling: Any, w: Warming) -> Warming:
    """Give back what ``apply`` raised: the scalable target's bounds and the capacity before."""
    if not w.applied or w.restored:
        return w
    notes = list(w.notes)
    if w.how == "warm-throughput":
        notes.append("WarmThroughput no se puede bajar: no tiene costo mientras la tabla no lo use")
        return replace(w, restored=True, restored_at=_now(), notes=notes)
    if w.how == "scalable-target":
        _register(autoscaling, w, w.min_before, w.max_before)
    _provisioned(dynamodb, w.table, w.dimension, max(w.capacity_before, 1))
    return replace(w, restored=True, restored_at=_now(), notes=notes)


class Journal:
    """Warmings not yet given back, one JSON file each, written before the raise and removed after."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, w: Warming) -> Path:
        return self.folder / f"{w.table}.{w.dimension}.json"

    def record(self, w: Warming) -> None:
        write_text(self._path(w), json.dumps(asdict(w)))

    def clear(self, w: Warming) -> None:
        self._path(w).unlink(missing_ok=True)

    def pending(self) -> list[Warming]:
        out = []
        for f in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            try:
                out.append(Warming(**json.loads(f.read_text(encoding="utf-8"))))
            except (ValueError, TypeError):
                f.unlink()
        return out


def restore_leftovers(dynamodb: Any, autoscaling: Any, journal: Journal) -> list[Warming]:
    """Restore the warmings an interrupted run left raised (the journal says which)."""
    done = []
    for w in journal.pending():
        restored = restore(dynamodb, autoscaling, replace(w, applied=True))
        journal.clear(w)
        done.append(replace(restored, notes=[*restored.notes, "la dejó elevada una corrida interrumpida"]))
    return done


@contextlib.contextmanager
def warmed(
    dynamodb: Any,
    autoscaling: Any,
    table: str,
    dimension: str,
    to: int,
    journal: Journal,
    *,
    dry_run: bool = False,
    record: Callable[[Warming], None] = lambda w: None,
) -> Iterator[Warming]:
    """The table warmed to ``to`` units for the body, restored after it, whether it ends or fails.

    ``record`` receives the final state (restored, or not) for the evidence."""
    w = current(dynamodb, autoscaling, table, dimension, to)
    if w.how == "none" or dry_run:
        record(w)
        yield w
        return
    journal.record(w)
    state = w
    try:
        state = apply(dynamodb, autoscaling, w)
        journal.record(state)
        yield state
    finally:
        state = restore(dynamodb, autoscaling, replace(state, applied=True))
        journal.clear(state)
        record(state)
