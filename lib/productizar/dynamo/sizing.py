"""The sizing model: capacities, Glue workers, load time and cost, computed from measured data.

Item sizes come from a random sample drawn by the results zone (DynamoDB's own size rules, ``items``);
row counts from ``conteo``; assumptions (scale-up delay, per-task rate, quotas) from
``parameters/sizing.yaml``; prices from a dated prices file. Pure functions: every figure can be
reproduced by hand, and the tests do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import yaml

from productizar.core import paths
from productizar.core.capacity import READ_UNIT_BYTES, WRITE_UNIT_BYTES
from productizar.core.errors import ProductizarError
from productizar.core.hu import HU, TableSpec
from productizar.dynamo.items import MAX_ITEM_BYTES, BadKey, is_null, item_size, to_item
from productizar.results_zone.base import ResultsZone

PRICE_KEYS = (
    "dynamodb_provisioned_wcu_hour",
    "dynamodb_provisioned_rcu_hour",
    "dynamodb_on_demand_write_million",
    "dynamodb_on_demand_read_million",
    "dynamodb_storage_gb_month",
    "glue_dpu_hour",
)


class SizingError(ProductizarError):
    pass


# ---------------------------------------------------------------------------------------- assumptions


@dataclass(frozen=True)
class Prices:
    region: str
    date: str
    source: str
    file: str
    values: dict[str, float]

    def __getitem__(self, key: str) -> float:
        return self.values[key]


@dataclass(frozen=True)
class Assumptions:
    sample_rows: int
    near_limit_share: float
    table_write_quota_wcu: int
    partition_write_limit_wcu: int
    write_target_utilization: float
    read_target_utilization: float
    scale_up_delay_s: int
    window_margin: float
    task_write_wcu: float
    single_machine_wcu: float
    load_stall_s: float
    verify_scan_s: float
    slots_per_worker: dict[str, int]
    dpu_per_worker: dict[str, float]
    average_to_peak_traffic: float
    hours_per_month: float
    prices: Prices


def load_prices(path: Path) -> Prices:
    if not path.is_file():
        raise SizingError(f"No existe el archivo de precios {path}.")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    values = data.get("prices") or {}
    missing = [k for k in PRICE_KEYS if not isinstance(values.get(k), (int, float))]
    if missing or not data.get("date") or not data.get("source"):
        what = ", ".join(missing + [k for k in ("date", "source") if not data.get(k)])
        raise SizingError(f"Al archivo de precios {path} le falta: {what}.")
    return Prices(
        str(data.get("region", "")),
        str(data["date"]),
        str(data["source"]).strip(),
        path.name,
        {k: float(values[k]) for k in PRICE_KEYS},
    )


def load_assumptions(path: Path | None = None) -> Assumptions:
    path = path or paths.project_root() / "parameters" / "sizing.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    prices = load_prices((path.parent / data.pop("prices")).resolve())
    data.pop("capacity_model", None)  # DynamoDB's metering rules: core.capacity.load_rules reads them
    try:
        return Assumptions(prices=prices, **data)
    except TypeError as exc:
        raise SizingError(f"{path}: {exc}") from None


# ----------------------------------------------------------------------------------------- item sizes


@dataclass(frozen=True)
class ItemSizes:
    source: str
    sampled: int
    mean: float
    p95: float
    max: int
    write_units_per_item: float  # mean of ceil(size / 1 KB) over the sample
    read_units_per_item: float  # mean of ceil(size / 4 KB), strongly consistent
    near_limit: int
    nulls_not_written: int
    refused_keys: int


def item_sizes(rows: pd.DataFrame, table: TableSpec, near_limit_share: float = 0.9) -> ItemSizes:
    """Sizes of the sample's rows as DynamoDB items; rows with a bad key are counted, not sized."""
    sizes: list[int] = []
    nulls = refused = 0
    for row in rows.to_dict("records"):
        try:
            item = to_item(row, table)
        except BadKey:
            refused += 1
            continue
        nulls += sum(1 for v in row.values() if is_null(v))
        sizes.append(item_size(item))
    if not sizes:
        raise SizingError(f"{table.source}: la muestra no tiene filas con clave válida; no se puede medir el tamaño.")
    arr = np.array(sizes)
    return ItemSizes(
        source=table.source,
        sampled=len(sizes),
        mean=float(arr.mean()),
        p95=float(np.percentile(arr, 95)),
        max=int(arr.max()),
        write_units_per_item=float(np.ceil(arr / WRITE_UNIT_BYTES).mean()),
        read_units_per_item=float(np.ceil(arr / READ_UNIT_BYTES).mean()),
        near_limit=int((arr >= near_limit_share * MAX_ITEM_BYTES).sum()),
        nulls_not_written=nulls,
        refused_keys=refused,
    )


# ------------------------------------------------------------------------------------------ write plan


def load_seconds_with_scaling(
    total_wcu: float, start: float, maximum: float, share: float, target: float, step_s: float
) -> float:
    """Seconds to write ``total_wcu`` when the table starts at ``start`` WCU and target tracking raises it.

    The loader writes at ``share`` of the table's *current* capacity (never more). Each ``step_s`` that the
    utilization (that share) stays above ``target``, capacity becomes consumption / target, up to the
    maximum: it never jumps to the maximum at once, and when ``share`` is not above ``target`` the load never
    raises it (then the table stays at ``start``; warming is the way out). Infinite when nothing is written.
    """
    if total_wcu <= 0:
        return 0.0
    capacity, done, t = float(start), 0.0, 0.0
    if share <= 0 or capacity <= 0:
        return math.inf
    while True:
        rate = share * capacity
        if share <= target or capacity >= maximum or done + rate * step_s >= total_wcu:
            return t + (total_wcu - done) / rate
        done, t = done + rate * step_s, t + step_s
        capacity = min(maximum, max(capacity + 1, math.ceil(rate / target)))


def load_seconds(
    total_wcu: float, start: float, maximum: float, share: float, target: float, step_s: float, warmed: bool
) -> float:
    """Seconds of a load: warmed, at ``share`` of ``maximum`` from the first second; otherwise starting at
    ``start`` and riding target tracking (``load_seconds_with_scaling``)."""
    if warmed:
        return total_wcu / (share * maximum) if total_wcu > 0 else 0.0
    return load_seconds_with_scaling(total_wcu, start, maximum, share, target, step_s)


@dataclass(frozen=True)
class WritePlan:
    source: str
    items: int
    write_units_per_item: float
    total_write_units: float
    write_range: tuple[int, int]
    share: float
    hours_at_max: float
    hours_at_share: float
    hours_with_scaling: float  # from the autoscaling minimum, riding target tracking (no warming)
    window_hours: float
    fits_window: bool  # the load as planned (warmed or not) fits the window with the HU's own maximum
    recommended_write_max: int
    quota_limited: bool
    hot_key_hours: float  # the busiest partition key alone, at the per-partition limit
    partition_limited: bool  # no table capacity makes the load faster than that
    planned_rate_wcu: float  # what the loader will push: share x recommended max
    scales_during_load: bool = True  # write_share above the target: the load makes target tracking raise it
    warm: bool = False  # the plan raises the capacity for the load (load.warm, or auto because it must)
    warm_capacity_wcu: int = 0  # what the table is raised to for the load window
    hours_planned: float = 0.0  # the load as planned (warmed, or from the minimum) at the recommended maximum


def write_plan(sizes: ItemSizes, items: int, hu: HU, a: Assumptions, max_items_per_key: int = 1) -> WritePlan:
    """The full load of one table. ``max_items_per_key``: rows of the busiest partition key (from conteo);
    they all go to one partition, which takes at most ``partition_write_limit_wcu`` whatever the table has.

    The loader never writes above ``write_share`` of the table's current capacity, so a table at its
    autoscaling minimum grows only when that share is above the scaling target; warming (``load.warm``)
    raises the capacity for the load window instead."""
    if items <= 0:
        raise SizingError(f"{sizes.source}: el conteo no tiene ítems que cargar (0 filas con clave válida).")
    lo, hi = hu.capacity.write
    share, window = hu.load.write_share, hu.load.window_hours
    total = items * sizes.write_units_per_item
    target = a.write_target_utilization

    hot_key_hours = max_items_per_key * sizes.write_units_per_item / a.partition_write_limit_wcu / 3600

    def hours(maximum: float, warmed: bool) -> float:
        secs = load_seconds(total, lo, maximum, share, target, a.scale_up_delay_s, warmed)
        return max(secs / 3600, hot_key_hours)

    budget = window * a.window_margin
    from_minimum = hours(hi, False)
    warm = hu.load.warm == "always" or (hu.load.warm == "auto" and from_minimum > budget and lo < hi)
    planned = with_hu = hours(hi, warm)
    recommended, quota_limited = hi, False
    partition_limited = hot_key_hours > budget
    if planned > budget and not partition_limited:
        quota = a.table_write_quota_wcu
        if hours(quota, warm) > budget:
            recommended, quota_limited = quota, True
        else:  # the smallest maximum, in thousands, that finishes within the margin of the window
            recommended = next(
                m
                for m in range(math.ceil(hi / 1000) * 1000, quota + 1000, 1000)
                if hours(min(m, quota), warm) <= budget
            )
            recommended = min(recommended, quota)
        planned = hours(recommended, warm)
    return WritePlan(
        source=sizes.source,
        items=items,
        write_units_per_item=sizes.write_units_per_item,
        total_write_units=total,
        write_range=(lo, hi),
        share=share,
        hours_at_max=total / hi / 3600,
        hours_at_share=total / (hi * share) / 3600,
        hours_with_scaling=from_minimum,
        window_hours=window,
        fits_window=with_hu <= window,
        recommended_write_max=int(recommended),
        quota_limited=quota_limited,
        hot_key_hours=hot_key_hours,
        partition_limited=partition_limited,
        planned_rate_wcu=share * recommended,
        scales_during_load=share > target,
        warm=warm,
        warm_capacity_wcu=int(recommended) if warm else 0,
        hours_planned=planned,
    )


# ------------------------------------------------------------------------------------------- read plan


@dataclass(frozen=True)
class ReadPlan:
    source: str
    peak_rps: float
    consistency: str
    items_per_request: int
    read_units_per_item: float
    read_units_needed: float
    provisioned_needed: int  # so that the need sits at the scaling target
    read_range: tuple[int, int]
    fits_range: bool
    recommended_read_max: int


def read_plan(sizes: ItemSizes, table: TableSpec, hu: HU, a: Assumptions) -> ReadPlan:
    t = table.traffic
    per_item = sizes.read_units_per_item * (0.5 if t.consistency == "eventual" else 1.0)
    needed = t.peak_rps * t.items_per_request * per_item
    provisioned = math.ceil(needed / a.read_target_utilization)
    lo, hi = hu.capacity.read
    return ReadPlan(
        table.source,
        t.peak_rps,
        t.consistency,
        t.items_per_request,
        per_item,
        needed,
        provisioned,
        (lo, hi),
        provisioned <= hi,
        max(hi, provisioned),
    )


# ------------------------------------------------------------------------------------------------ Glue


@dataclass(frozen=True)
class GluePlan:
    worker_type: str
    number_of_workers: int
    max_concurrent_runs: int
    task_slots: int
    planned_rate_wcu: float

    def as_template(self) -> dict[str, Any]:
        return {
            "WorkerType": self.worker_type,
            "NumberOfWorkers": self.number_of_workers,
            "MaxConcurrentRuns": self.max_concurrent_runs,
        }


def glue_plan(plans: list[WritePlan], hu: HU, a: Assumptions, worker_type: str = "G.1X") -> GluePlan:
    """Workers so one run can push the fastest table's planned rate: slots = (workers - 1) x slots/worker."""
    worker_type = hu.glue.worker_type or worker_type
    rate = max(p.planned_rate_wcu for p in plans)
    slots = max(1, math.ceil(rate / a.task_write_wcu))
    workers = max(2, math.ceil(slots / a.slots_per_worker[worker_type]) + 1)
    runs = hu.glue.max_concurrent_runs or len(hu.tables)
    return GluePlan(worker_type, workers, runs, (workers - 1) * a.slots_per_worker[worker_type], rate)


# ------------------------------------------------------------------------------------------------ cost


@dataclass(frozen=True)
class Cost:
    provisioned_month: float
    on_demand_month: float
    storage_month: float
    load_provisioned: float
    load_on_demand: float
    glue_per_run: float


def monthly_read_cost(
    reads: list[ReadPlan], hu: HU, a: Assumptions, traffic_factor: float = 1.0
) -> tuple[float, float]:
    """(provisioned, on-demand) USD a month at ``traffic_factor`` times the HU's peaks.

    Provisioned: autoscaling follows the traffic, so on average it holds the average need at the target
    utilization (never below the minimum), plus the write minimum of each table. On demand: every read of
    the average traffic is paid.
    """
    p = a.prices
    prov = on_demand = 0.0
    for r in reads:
        average = r.read_units_needed * traffic_factor * a.average_to_peak_traffic
        capacity = max(hu.capacity.read[0], average / a.read_target_utilization)
        prov += capacity * a.hours_per_month * p["dynamodb_provisioned_rcu_hour"]
        prov += hu.capacity.write[0] * a.hours_per_month * p["dynamodb_provisioned_wcu_hour"]
        on_demand += average * a.hours_per_month * 3600 / 1e6 * p["dynamodb_on_demand_read_million"]
    return prov, on_demand


def cost(
    writes: list[WritePlan], reads: list[ReadPlan], sizes: list[ItemSizes], glue: GluePlan, hu: HU, a: Assumptions
) -> Cost:
    p = a.prices
    prov, on_demand = monthly_read_cost(reads, hu, a)
    gb = sum(w.items * s.mean for w, s in zip(writes, sizes)) / 1024**3
    # a load at rate R for T hours keeps R / share WCU provisioned (the loader uses only its share)
    load_prov = sum(w.total_write_units / 3600 / w.share for w in writes) * p["dynamodb_provisioned_wcu_hour"]
    load_od = sum(w.total_write_units for w in writes) / 1e6 * p["dynamodb_on_demand_write_million"]
    longest_h = max(w.total_write_units / glue.planned_rate_wcu / 3600 for w in writes)
    dpu = glue.number_of_workers * a.dpu_per_worker[glue.worker_type]
    glue_run = dpu * max(longest_h, 1 / 60) * p["glue_dpu_hour"]
    storage = gb * p["dynamodb_storage_gb_month"]
    return Cost(prov + storage, on_demand + storage, storage, load_prov, load_od, glue_run)


# ------------------------------------------------------------------------------------------ the step


@dataclass
class Sizing:
    sizes: list[ItemSizes]
    writes: list[WritePlan]
    reads: list[ReadPlan]
    glue: GluePlan
    cost: Cost
    assumptions: Assumptions
    notes: list[str] = field(default_factory=list)


class Counted(Protocol):
    """What the model needs of a table's counts (``conteo``'s facts have it)."""

    @property
    def expected_items(self) -> int: ...
    @property
    def max_rows_per_partition_key(self) -> int: ...


@dataclass(frozen=True)
class Counts:
    expected_items: int
    max_rows_per_partition_key: int = 1


def size(hu: HU, counted: Mapping[str, Counted], samples: dict[str, pd.DataFrame], a: Assumptions) -> Sizing:
    """Every plan of the step, from each table's counts (keyed by source) and one sample per table."""
    missing = [t.source for t in hu.tables if t.source not in counted]
    if missing:
        raise SizingError(f"El conteo no tiene las tablas {', '.join(missing)}: ejecute el paso conteo con esta HU.")
    sizes = [item_sizes(samples[t.source], t, a.near_limit_share) for t in hu.tables]
    writes = [
        write_plan(s, counted[t.source].expected_items, hu, a, counted[t.source].max_rows_per_partition_key)
        for s, t in zip(sizes, hu.tables)
    ]
    reads = [read_plan(s, t, hu, a) for s, t in zip(sizes, hu.tables)]
    glue = glue_plan(writes, hu, a)
    return Sizing(sizes, writes, reads, glue, cost(writes, reads, sizes, glue, hu, a), a)


def draw_samples(zone: ResultsZone, hu: HU, rows: int) -> dict[str, pd.DataFrame]:
    """A random sample of each table, drawn by the engine (the tables are never loaded whole)."""
    return {t.source: zone.sample(t.source, rows) for t in hu.tables}
