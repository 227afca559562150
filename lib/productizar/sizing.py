"""Step ``dimensionamiento``: capacities, Glue workers, load time and cost, computed from measured data.

Item sizes come from a random sample drawn by the results zone (DynamoDB's own size rules, ``items``);
row counts from ``conteo``; assumptions (scale-up delay, per-task rate, quotas) from
``parameters/sizing.yaml``; prices from a dated prices file. Pure functions: every figure can be
reproduced by hand, and the tests do.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml

from . import paths
from .errors import ProductizarError
from .hu import HU, TableSpec
from .items import MAX_ITEM_BYTES, BadKey, is_null, item_size, to_item
from .results_zone import ResultsZone

KB = 1024
PRICE_KEYS = ("dynamodb_provisioned_wcu_hour", "dynamodb_provisioned_rcu_hour", "dynamodb_on_demand_write_million",
              "dynamodb_on_demand_read_million", "dynamodb_storage_gb_month", "glue_dpu_hour")


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
    return Prices(str(data.get("region", "")), str(data["date"]), str(data["source"]).strip(), path.name,
                  {k: float(values[k]) for k in PRICE_KEYS})


def load_assumptions(path: Path | None = None) -> Assumptions:
    path = path or paths.project_root() / "parameters" / "sizing.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    prices = load_prices((path.parent / data.pop("prices")).resolve())
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
        write_units_per_item=float(np.ceil(arr / KB).mean()),
        read_units_per_item=float(np.ceil(arr / (4 * KB)).mean()),
        near_limit=int((arr >= near_limit_share * MAX_ITEM_BYTES).sum()),
        nulls_not_written=nulls,
        refused_keys=refused,
    )


# ------------------------------------------------------------------------------------------ write plan


def load_seconds_with_scaling(total_wcu: float, start: float, maximum: float, share: float, target: float,
                              step_s: float) -> float:
    """Seconds to write ``total_wcu`` when the table starts at ``start`` WCU and target tracking raises it.

    The loader asks for ``share`` of the maximum; the table serves at most its current capacity (the rest is
    throttled and retried). Each ``step_s`` that consumption stays above ``target`` utilization, capacity
    becomes consumption / target, up to the maximum: it never jumps to the maximum at once.
    """
    if total_wcu <= 0:
        return 0.0
    demand, capacity, done, t = share * maximum, float(start), 0.0, 0.0
    while True:
        rate = min(demand, capacity)
        if done + rate * step_s >= total_wcu:
            return t + (total_wcu - done) / rate
        done, t = done + rate * step_s, t + step_s
        if rate >= target * capacity and capacity < maximum:
            capacity = min(maximum, math.ceil(rate / target))


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
    hours_with_scaling: float
    window_hours: float
    fits_window: bool
    recommended_write_max: int
    quota_limited: bool
    hot_key_hours: float  # the busiest partition key alone, at the per-partition limit
    partition_limited: bool  # no table capacity makes the load faster than that
    planned_rate_wcu: float  # what the loader will push: share x recommended max


def write_plan(sizes: ItemSizes, items: int, hu: HU, a: Assumptions, max_items_per_key: int = 1) -> WritePlan:
    """The full load of one table. ``max_items_per_key``: rows of the busiest partition key (from conteo);
    they all go to one partition, which takes at most ``partition_write_limit_wcu`` whatever the table has."""
    if items <= 0:
        raise SizingError(f"{sizes.source}: el conteo no tiene ítems que cargar (0 filas con clave válida).")
    lo, hi = hu.capacity.write
    share, window = hu.load.write_share, hu.load.window_hours
    total = items * sizes.write_units_per_item

    hot_key_hours = max_items_per_key * sizes.write_units_per_item / a.partition_write_limit_wcu / 3600

    def hours(maximum: float) -> float:
        scaling = load_seconds_with_scaling(total, lo, maximum, share, a.write_target_utilization, a.scale_up_delay_s)
        return max(scaling / 3600, hot_key_hours)

    with_scaling = hours(hi)
    budget = window * a.window_margin
    recommended, quota_limited = hi, False
    partition_limited = hot_key_hours > budget
    if with_scaling > budget and not partition_limited:
        quota = a.table_write_quota_wcu
        if hours(quota) > budget:
            recommended, quota_limited = quota, True
        else:  # the smallest maximum, in thousands, that finishes within the margin of the window
            recommended = next(m for m in range(math.ceil(hi / 1000) * 1000, quota + 1000, 1000)
                               if hours(min(m, quota)) <= budget)
            recommended = min(recommended, quota)
    return WritePlan(
        source=sizes.source,
        items=items,
        write_units_per_item=sizes.write_units_per_item,
        total_write_units=total,
        write_range=(lo, hi),
        share=share,
        hours_at_max=total / hi / 3600,
        hours_at_share=total / (hi * share) / 3600,
        hours_with_scaling=with_scaling,
        window_hours=window,
        fits_window=with_scaling <= window,
        recommended_write_max=int(recommended),
        quota_limited=quota_limited,
        hot_key_hours=hot_key_hours,
        partition_limited=partition_limited,
        planned_rate_wcu=share * recommended,
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
    return ReadPlan(table.source, t.peak_rps, t.consistency, t.items_per_request, per_item, needed, provisioned,
                    (lo, hi), provisioned <= hi, max(hi, provisioned))


# ------------------------------------------------------------------------------------------------ Glue


@dataclass(frozen=True)
class GluePlan:
    worker_type: str
    number_of_workers: int
    max_concurrent_runs: int
    task_slots: int
    planned_rate_wcu: float

    def as_template(self) -> dict[str, Any]:
        return {"WorkerType": self.worker_type, "NumberOfWorkers": self.number_of_workers,
                "MaxConcurrentRuns": self.max_concurrent_runs}


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


def monthly_read_cost(reads: list[ReadPlan], hu: HU, a: Assumptions, traffic_factor: float = 1.0) -> tuple[float, float]:
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


def cost(writes: list[WritePlan], reads: list[ReadPlan], sizes: list[ItemSizes], glue: GluePlan, hu: HU,
         a: Assumptions) -> Cost:
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


def size(hu: HU, conteo: dict[str, Any], samples: dict[str, pd.DataFrame], a: Assumptions) -> Sizing:
    """Every plan of the step, from the conteo facts and one sample per table."""
    counted = conteo.get("tables", {})
    missing = [t.source for t in hu.tables if t.source not in counted]
    if missing:
        raise SizingError(f"El conteo no tiene las tablas {', '.join(missing)}: ejecute el paso conteo con esta HU.")
    sizes = [item_sizes(samples[t.source], t, a.near_limit_share) for t in hu.tables]
    writes = [write_plan(s, counted[t.source]["expected_items"], hu, a,
                         counted[t.source].get("max_rows_per_partition_key", 1)) for s, t in zip(sizes, hu.tables)]
    reads = [read_plan(s, t, hu, a) for s, t in zip(sizes, hu.tables)]
    glue = glue_plan(writes, hu, a)
    return Sizing(sizes, writes, reads, glue, cost(writes, reads, sizes, glue, hu, a), a)


def draw_samples(zone: ResultsZone, hu: HU, rows: int) -> dict[str, pd.DataFrame]:
    """A random sample of each table, drawn by the engine (the tables are never loaded whole)."""
    return {t.source: zone.sample(t.source, rows) for t in hu.tables}


def describe_assumptions(a: Assumptions) -> str:
    p = a.prices
    return (f"Precios: {p.file} (región {p.region}, vigentes al {p.date}; fuente: {p.source}). "
            f"Supuestos: muestra de {a.sample_rows} filas por tabla, escalado cada {a.scale_up_delay_s} s al "
            f"{_pct(a.write_target_utilization)} de uso, {a.task_write_wcu:.0f} WCU/s por tarea de Spark, "
            f"cuota de {a.table_write_quota_wcu} WCU por tabla.")


def _money(usd: float) -> str:
    return "US$ " + f"{usd:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


def _h(hours: float) -> str:
    """A duration as the team reads it: 45 s, 23 min, 5,2 h."""
    if hours * 60 < 1:
        return f"{hours * 3600:.0f} s"
    return f"{hours * 60:.0f} min" if hours < 1 else f"{hours:.1f} h".replace(".", ",")


def recommendation(s: Sizing, hu: HU) -> list[str]:
    """The plan in plain Spanish, one sentence per decision."""
    out = []
    lo, hi = hu.capacity.write
    worst = max(s.writes, key=lambda w: w.hours_with_scaling)
    if all(w.fits_window for w in s.writes) and all(w.recommended_write_max == hi for w in s.writes):
        out.append(f"Escritura: mantener {lo},{hi}. La carga más larga ({worst.source}) tarda {_h(worst.hours_with_scaling)} "
                   f"empezando en {lo} WCU y escalando, dentro de la ventana de {_h(hu.load.window_hours)}.")
    else:
        new_max = max(w.recommended_write_max for w in s.writes)
        if any(w.partition_limited for w in s.writes):
            hot = next(w for w in s.writes if w.partition_limited)
            out.append(f"Escritura: la clave de partición más repetida de {hot.source} sola tarda {_h(hot.hot_key_hours)} "
                       f"(una partición admite {s.assumptions.partition_write_limit_wcu} WCU/s): ninguna capacidad la "
                       f"acelera; revise el diseño de la clave o amplíe la ventana de {_h(hu.load.window_hours)}.")
        elif any(w.quota_limited for w in s.writes):
            out.append(f"Escritura: ni con {new_max} WCU (la cuota por tabla) la carga de {worst.source} cabe en "
                       f"{_h(hu.load.window_hours)}: amplíe la ventana, pida aumento de cuota o divida la carga.")
        else:
            out.append(f"Escritura: subir el máximo a {lo},{new_max}: con {lo},{hi} la carga de {worst.source} tardaría "
                       f"{_h(worst.hours_with_scaling)} y la ventana es de {_h(hu.load.window_hours)}.")
    r_lo, r_hi = hu.capacity.read
    short = [r for r in s.reads if not r.fits_range]
    if short:
        new_max = max(r.recommended_read_max for r in short)
        out.append(f"Lectura: subir el máximo a {r_lo},{new_max}: el pico de {short[0].source} necesita "
                   f"{short[0].provisioned_needed} RCU provisionadas para quedar al {_pct(s.assumptions.read_target_utilization)}.")
    else:
        peak = max(s.reads, key=lambda r: r.provisioned_needed)
        out.append(f"Lectura: mantener {r_lo},{r_hi}; el mayor pico ({peak.source}) necesita {peak.provisioned_needed} RCU.")
    g = s.glue
    out.append(f"Job de Glue: {g.worker_type} con {g.number_of_workers} workers ({g.task_slots} tareas en paralelo para "
               f"{g.planned_rate_wcu:.0f} WCU/s) y MaxConcurrentRuns {g.max_concurrent_runs} (un coordinador por tabla).")
    c = s.cost
    cheaper = "aprovisionado" if c.provisioned_month <= c.on_demand_month else "bajo demanda"
    out.append(f"Costo mensual estimado: aprovisionado {_money(c.provisioned_month)}, bajo demanda "
               f"{_money(c.on_demand_month)} (conviene {cheaper}); cada carga completa cuesta "
               f"{_money(c.glue_per_run)} de Glue (precios al {s.assumptions.prices.date}).")
    for z in s.sizes:
        if z.near_limit:
            out.append(f"Atención: {z.source} tiene {z.near_limit} ítems de la muestra cerca del límite de 400 KB.")
    return out


def _pct(x: float) -> str:
    return f"{x * 100:.0f} %"


def tables(s: Sizing) -> dict[str, pd.DataFrame]:
    """One table per plan, with Spanish headers, for the notebook."""
    sizes = pd.DataFrame([{"Tabla": z.source, "Muestra": z.sampled, "Media (B)": round(z.mean, 1), "p95 (B)": round(z.p95, 1),
                           "Máx (B)": z.max, "WCU por ítem": round(z.write_units_per_item, 2),
                           "Nulos no escritos": z.nulls_not_written, "Cerca de 400 KB": z.near_limit} for z in s.sizes])
    writes = pd.DataFrame([{"Tabla": w.source, "Ítems": w.items, "WCU totales": round(w.total_write_units),
                            "Rango": f"{w.write_range[0]},{w.write_range[1]}", "Al máximo": _h(w.hours_at_max),
                            f"Al {_pct(w.share)} del máximo": _h(w.hours_at_share),
                            "Escalando desde el mínimo": _h(w.hours_with_scaling),
                            "¿Cabe en la ventana?": "sí" if w.fits_window else "no",
                            "Máximo recomendado": w.recommended_write_max} for w in s.writes])
    reads = pd.DataFrame([{"Tabla": r.source, "Pico (req/s)": r.peak_rps, "Consistencia": r.consistency,
                           "Ítems por consulta": r.items_per_request, "RCU necesarias": round(r.read_units_needed, 1),
                           "RCU a aprovisionar": r.provisioned_needed, "Rango": f"{r.read_range[0]},{r.read_range[1]}",
                           "Máximo recomendado": r.recommended_read_max} for r in s.reads])
    c = s.cost
    cost_df = pd.DataFrame([
        {"Concepto": "Mensual aprovisionado (lecturas + mínimo de escritura + almacenamiento)", "US$": round(c.provisioned_month, 2)},
        {"Concepto": "Mensual bajo demanda (tráfico promedio + almacenamiento)", "US$": round(c.on_demand_month, 2)},
        {"Concepto": "Almacenamiento mensual (incluido arriba)", "US$": round(c.storage_month, 2)},
        {"Concepto": "Carga completa, aprovisionado", "US$": round(c.load_provisioned, 2)},
        {"Concepto": "Carga completa, bajo demanda", "US$": round(c.load_on_demand, 2)},
        {"Concepto": "Job de Glue por ejecución", "US$": round(c.glue_per_run, 2)},
    ])
    return {"tamaños": sizes.set_index("Tabla"), "escritura": writes.set_index("Tabla"),
            "lectura": reads.set_index("Tabla"), "costo": cost_df.set_index("Concepto")}


def plot_load_time(s: Sizing, hu: HU) -> plt.Figure:
    """Hours to load each table against the write maximum, starting at the minimum and scaling."""
    a, lo = s.assumptions, hu.capacity.write[0]
    maxima = np.geomspace(100, a.table_write_quota_wcu, 40)
    fig, ax = plt.subplots(figsize=(8, 4))
    for w in s.writes:
        hours = [load_seconds_with_scaling(w.total_write_units, lo, m, w.share, a.write_target_utilization,
                                           a.scale_up_delay_s) / 3600 for m in maxima]
        ax.plot(maxima, hours, label=w.source.split(".")[1])
    ax.axvline(hu.capacity.write[1], color="gray", linestyle="--", label=f"máximo de la HU ({hu.capacity.write[1]})")
    ax.axhline(hu.load.window_hours, color="firebrick", linestyle=":", label=f"ventana ({hu.load.window_hours:g} h)")
    ax.set(xscale="log", yscale="log", xlabel="máximo de escritura (WCU)", ylabel="horas de carga",
           title="Tiempo de carga según la capacidad de escritura")
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_cost(s: Sizing, hu: HU) -> plt.Figure:
    """Monthly cost of both billing modes as traffic grows from a tenth to twenty times the HU's peaks."""
    factors = np.geomspace(0.1, 20, 30)
    prov, od = zip(*(monthly_read_cost(s.reads, hu, s.assumptions, f) for f in factors))
    storage = s.cost.storage_month
    peak = sum(r.peak_rps for r in s.reads)
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(factors * peak, np.array(prov) + storage, label="aprovisionado (autoescalado)")
    ax.plot(factors * peak, np.array(od) + storage, label="bajo demanda")
    ax.axvline(peak, color="gray", linestyle="--", label=f"picos de la HU ({peak:g} req/s)")
    ax.set(xscale="log", xlabel="solicitudes por segundo en el pico (todas las tablas)", ylabel="US$ al mes",
           title=f"Costo mensual según el tráfico (precios al {s.assumptions.prices.date})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.close(fig)
    return fig


def facts(s: Sizing, hu: HU) -> dict[str, Any]:
    p = s.assumptions.prices
    return {
        "prices": {"file": p.file, "date": p.date, "region": p.region},
        "item_sizes": {z.source: asdict(z) for z in s.sizes},
        "write_plans": {w.source: asdict(w) for w in s.writes},
        "read_plans": {r.source: asdict(r) for r in s.reads},
        "recommended": {
            "write": [hu.capacity.write[0], max(w.recommended_write_max for w in s.writes)],
            "read": [hu.capacity.read[0], max(r.recommended_read_max for r in s.reads)],
        },
        "glue": s.glue.as_template(),
        "cost_usd": asdict(s.cost),
        "recommendation": recommendation(s, hu),
    }
