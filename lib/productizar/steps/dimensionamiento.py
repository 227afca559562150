"""Step ``dimensionamiento``: the sizing model (``dynamo.sizing``) run on the HU's counts and samples, shown as
tables, two plots and a recommendation in Spanish; its Glue figures go to the infrastructure step."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from productizar.core.hu import HU
from productizar.dynamo.sizing import (
    Assumptions,
    Cost,
    ItemSizes,
    ReadPlan,
    Sizing,
    WritePlan,
    draw_samples,
    load_assumptions,
    load_seconds_with_scaling,
    monthly_read_cost,
    size,
)
from productizar.run import headline
from productizar.run.step import Step
from productizar.steps import conteo


class GlueFacts(BaseModel):
    """The Glue job's figures, as the template's job takes them."""

    model_config = ConfigDict(extra="forbid")
    WorkerType: str
    NumberOfWorkers: int
    MaxConcurrentRuns: int


class Facts(BaseModel):
    """What ``dimensionamiento`` hands on: every plan per table (keyed by source), the Glue figures for the
    template, the cost and the recommendation."""

    prices: dict[str, str]
    item_sizes: dict[str, ItemSizes]
    write_plans: dict[str, WritePlan]
    read_plans: dict[str, ReadPlan]
    recommended: dict[str, list[int]]
    glue: GlueFacts
    cost_usd: Cost
    recommendation: list[str]
    headline: dict[str, Any] = {}


def read_facts(step: Step) -> Facts:
    """``dimensionamiento``'s facts, for the steps that declare it upstream."""
    return step.typed_facts_of("dimensionamiento", Facts)


def read_facts_if_any(step: Step) -> Facts | None:
    """The same, or None when the step has not run (for steps that can do without: the HU's values)."""
    found = step.facts_if_any("dimensionamiento")
    return Facts.model_validate(found) if found is not None else None


def assumptions() -> Assumptions:
    """``parameters/sizing.yaml`` and the dated prices file it names."""
    return load_assumptions()


def plan(step: Step, a: Assumptions) -> Sizing:
    """Every plan, from ``conteo``'s counts and a sample of each table drawn by the results zone."""
    samples = draw_samples(step.zone(), step.hu, a.sample_rows)
    return size(step.hu, conteo.read_facts(step).tables, samples, a)


def describe_assumptions(a: Assumptions) -> str:
    p = a.prices
    return (
        f"Precios: {p.file} (región {p.region}, vigentes al {p.date}; fuente: {p.source}). "
        f"Supuestos: muestra de {a.sample_rows} filas por tabla, escalado cada {a.scale_up_delay_s} s al "
        f"{_pct(a.write_target_utilization)} de uso, {a.task_write_wcu:.0f} WCU/s por tarea de Spark, "
        f"cuota de {a.table_write_quota_wcu} WCU por tabla."
    )


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
    worst = max(s.writes, key=lambda w: w.hours_planned)
    target = s.assumptions.write_target_utilization
    if not worst.scales_during_load and lo < hi:
        out.append(
            f"Escritura: con load.write_share {_dec(hu.load.write_share)} (no mayor que el objetivo del "
            f"autoescalado, {_pct(target)}) la carga nunca hace crecer la tabla: desde {lo} WCU la carga de "
            f"{worst.source} tardaría {_h(worst.hours_with_scaling)}."
        )
    warmed = [w for w in s.writes if w.warm]
    if warmed:
        out.append(
            f"Calentamiento: para la ventana de carga se eleva la capacidad de escritura a "
            f"{max(w.warm_capacity_wcu for w in warmed)} WCU (el mínimo del autoescalado) y se restituye {lo},{hi} "
            f"al terminar; la carga más larga ({worst.source}) tarda así {_h(worst.hours_planned)}."
        )
    if all(w.fits_window for w in s.writes) and all(w.recommended_write_max == hi for w in s.writes):
        if not warmed:
            out.append(
                f"Escritura: mantener {lo},{hi}. La carga más larga ({worst.source}) tarda "
                f"{_h(worst.hours_planned)} empezando en {lo} WCU y escalando, dentro de la ventana de "
                f"{_h(hu.load.window_hours)}."
            )
        else:
            out.append(f"Escritura: mantener {lo},{hi}, dentro de la ventana de {_h(hu.load.window_hours)}.")
    else:
        new_max = max(w.recommended_write_max for w in s.writes)
        if any(w.partition_limited for w in s.writes):
            hot = next(w for w in s.writes if w.partition_limited)
            out.append(
                f"Escritura: la clave de partición más repetida de {hot.source} sola tarda {_h(hot.hot_key_hours)} "
                f"(una partición admite {s.assumptions.partition_write_limit_wcu} WCU/s): ninguna capacidad la "
                f"acelera; revise el diseño de la clave o amplíe la ventana de {_h(hu.load.window_hours)}."
            )
        elif any(w.quota_limited for w in s.writes):
            out.append(
                f"Escritura: ni con {new_max} WCU (la cuota por tabla) la carga de {worst.source} cabe en "
                f"{_h(hu.load.window_hours)}: amplíe la ventana, pida aumento de cuota, caliente la tabla "
                "(load.warm) o divida la carga."
            )
        else:
            out.append(
                f"Escritura: subir el máximo a {lo},{new_max}: con {lo},{hi} la carga de {worst.source} tardaría "
                f"{_h(worst.hours_with_scaling if not worst.warm else worst.hours_planned)} y la ventana es de "
                f"{_h(hu.load.window_hours)}."
            )
    r_lo, r_hi = hu.capacity.read
    short = [r for r in s.reads if not r.fits_range]
    if short:
        new_max = max(r.recommended_read_max for r in short)
        out.append(
            f"Lectura: subir el máximo a {r_lo},{new_max}: el pico de {short[0].source} necesita "
            f"{short[0].provisioned_needed} RCU provisionadas para quedar al "
            f"{_pct(s.assumptions.read_target_utilization)}."
        )
    else:
        peak = max(s.reads, key=lambda r: r.provisioned_needed)
        out.append(
            f"Lectura: mantener {r_lo},{r_hi}; el mayor pico ({peak.source}) necesita {peak.provisioned_needed} RCU."
        )
    g = s.glue
    out.append(
        f"Job de Glue: {g.worker_type} con {g.number_of_workers} workers ({g.task_slots} tareas en paralelo para "
        f"{g.planned_rate_wcu:.0f} WCU/s) y MaxConcurrentRuns {g.max_concurrent_runs} (un coordinador por tabla)."
    )
    c = s.cost
    cheaper = "aprovisionado" if c.provisioned_month <= c.on_demand_month else "bajo demanda"
    out.append(
        f"Costo mensual estimado: aprovisionado {_money(c.provisioned_month)}, bajo demanda "
        f"{_money(c.on_demand_month)} (conviene {cheaper}); cada carga completa cuesta "
        f"{_money(c.glue_per_run)} de Glue (precios al {s.assumptions.prices.date})."
    )
    for z in s.sizes:
        if z.near_limit:
            out.append(f"Atención: {z.source} tiene {z.near_limit} ítems de la muestra cerca del límite de 400 KB.")
    return out


def _pct(x: float) -> str:
    return f"{x * 100:.0f} %"


def _dec(x: float) -> str:
    return f"{x:g}".replace(".", ",")


def sizes_table(s: Sizing) -> pd.DataFrame:
    return tables(s)["tamaños"]


def write_table(s: Sizing) -> pd.DataFrame:
    return tables(s)["escritura"]


def read_table(s: Sizing) -> pd.DataFrame:
    return tables(s)["lectura"]


def cost_table(s: Sizing) -> pd.DataFrame:
    return tables(s)["costo"]


def tables(s: Sizing) -> dict[str, pd.DataFrame]:
    """One table per plan, with Spanish headers, for the notebook."""
    sizes = pd.DataFrame(
        [
            {
                "Tabla": z.source,
                "Muestra": z.sampled,
                "Media (B)": round(z.mean, 1),
                "p95 (B)": round(z.p95, 1),
                "Máx (B)": z.max,
                "WCU por ítem": round(z.write_units_per_item, 2),
                "Nulos no escritos": z.nulls_not_written,
                "Cerca de 400 KB": z.near_limit,
            }
            for z in s.sizes
        ]
    )
    writes = pd.DataFrame(
        [
            {
                "Tabla": w.source,
                "Ítems": w.items,
                "WCU totales": round(w.total_write_units),
                "Rango": f"{w.write_range[0]},{w.write_range[1]}",
                "Al máximo": _h(w.hours_at_max),
                f"Al {_pct(w.share)} del máximo": _h(w.hours_at_share),
                "Escalando desde el mínimo": _h(w.hours_with_scaling),
                "Calentada a (WCU)": w.warm_capacity_wcu if w.warm else "no",
                "Planeada": _h(w.hours_planned),
                "¿Cabe en la ventana?": "sí" if w.fits_window else "no",
                "Máximo recomendado": w.recommended_write_max,
            }
            for w in s.writes
        ]
    )
    reads = pd.DataFrame(
        [
            {
                "Tabla": r.source,
                "Pico (req/s)": r.peak_rps,
                "Consistencia": r.consistency,
                "Ítems por consulta": r.items_per_request,
                "RCU necesarias": round(r.read_units_needed, 1),
                "RCU a aprovisionar": r.provisioned_needed,
                "Rango": f"{r.read_range[0]},{r.read_range[1]}",
                "Máximo recomendado": r.recommended_read_max,
            }
            for r in s.reads
        ]
    )
    c = s.cost
    cost_df = pd.DataFrame(
        [
            {
                "Concepto": "Mensual aprovisionado (lecturas + mínimo de escritura + almacenamiento)",
                "US$": round(c.provisioned_month, 2),
            },
            {
                "Concepto": "Mensual bajo demanda (tráfico promedio + almacenamiento)",
                "US$": round(c.on_demand_month, 2),
            },
            {"Concepto": "Almacenamiento mensual (incluido arriba)", "US$": round(c.storage_month, 2)},
            {"Concepto": "Carga completa, aprovisionado", "US$": round(c.load_provisioned, 2)},
            {"Concepto": "Carga completa, bajo demanda", "US$": round(c.load_on_demand, 2)},
            {"Concepto": "Job de Glue por ejecución", "US$": round(c.glue_per_run, 2)},
        ]
    )
    return {
        "tamaños": sizes.set_index("Tabla"),
        "escritura": writes.set_index("Tabla"),
        "lectura": reads.set_index("Tabla"),
        "costo": cost_df.set_index("Concepto"),
    }


def plot_load_time(s: Sizing, hu: HU) -> plt.Figure:
    """Hours to load each table against the write maximum, starting at the minimum and scaling."""
    a, lo = s.assumptions, hu.capacity.write[0]
    maxima = np.geomspace(100, a.table_write_quota_wcu, 40)
    fig, ax = plt.subplots(figsize=(8, 4))
    for w in s.writes:
        hours = [
            load_seconds_with_scaling(
                w.total_write_units, lo, m, w.share, a.write_target_utilization, a.scale_up_delay_s
            )
            / 3600
            for m in maxima
        ]
        ax.plot(maxima, hours, label=w.source.split(".")[1])
    ax.axvline(hu.capacity.write[1], color="gray", linestyle="--", label=f"máximo de la HU ({hu.capacity.write[1]})")
    ax.axhline(hu.load.window_hours, color="firebrick", linestyle=":", label=f"ventana ({hu.load.window_hours:g} h)")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="máximo de escritura (WCU)",
        ylabel="horas de carga",
        title="Tiempo de carga según la capacidad de escritura",
    )
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
    ax.set(
        xscale="log",
        xlabel="solicitudes por segundo en el pico (todas las tablas)",
        ylabel="US$ al mes",
        title=f"Costo mensual según el tráfico (precios al {s.assumptions.prices.date})",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.close(fig)
    return fig


def recommendation_text(s: Sizing, hu: HU) -> str:
    return "\n".join(recommendation(s, hu))


def facts(s: Sizing, hu: HU) -> Facts:
    p = s.assumptions.prices
    write = [hu.capacity.write[0], max(w.recommended_write_max for w in s.writes)]
    read = [hu.capacity.read[0], max(r.recommended_read_max for r in s.reads)]
    figures: dict[str, headline.Figure] = {
        "escritura recomendada (WCU)": f"{write[0]}–{write[1]}",
        "lectura recomendada (RCU)": f"{read[0]}–{read[1]}",
        "capacidad de la HU (escritura)": f"{hu.capacity.write[0]}–{hu.capacity.write[1]}",
        "capacidad de la HU (lectura)": f"{hu.capacity.read[0]}–{hu.capacity.read[1]}",
    }
    text = (
        f"escritura {write[0]}–{headline.n(write[1])} WCU · lectura {read[0]}–{headline.n(read[1])} RCU · "
        f"US$ {headline.n(round(s.cost.provisioned_month, 2))}/mes aprovisionado"
    )
    return Facts(
        headline=headline.Headline(text, figures).as_fact(),
        prices={"file": p.file, "date": p.date, "region": p.region},
        item_sizes={z.source: z for z in s.sizes},
        write_plans={w.source: w for w in s.writes},
        read_plans={r.source: r for r in s.reads},
        recommended={"write": write, "read": read},
        glue=GlueFacts.model_validate(s.glue.as_template()),
        cost_usd=s.cost,
        recommendation=recommendation(s, hu),
    )
