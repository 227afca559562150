"""Step ``consecutivo``: one consecutive per coordinator in ``resultados.inventario_lz``, reserved once.

By default the step is a dry run in every environment: it shows the look-up, the anomalies and the exact
INSERTs. Only with the HU id typed back (``--confirm``) does it reserve (``reservation``), then reads
the inventory back and records the codes for the documents and the release.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from productizar.cloud.coordinators import coordinator_roots
from productizar.core.environments import WriteMode
from productizar.results_zone import inventory, reservation
from productizar.results_zone.reservation import Plan, ReadBack, ReservationError
from productizar.run import headline
from productizar.run.step import Step


def mode(step: Step) -> str:
    """Whether this run reserves or only plans, as a sentence (reserving needs --confirm everywhere)."""
    return f"Modo: {step.write_mode.reason}."


def prd_root() -> str:
    """The PRD coordinators root: the inventory's ``data_folder`` points at the config there."""
    return coordinator_roots()["prd"]


def look_up(step: Step) -> Plan:
    return reservation.plan(step.zone(), step.hu, prd_root())


def summary(p: Plan) -> str:
    lk = p.lookup
    out = [f"Paquetes en el inventario: {len(lk.readings)}. Último consecutivo: {lk.last}.", inventory.RULE]
    if lk.seed_last is not None and lk.seed_last != lk.last:
        out.append(
            f"Atención: la consulta del runbook (todos los dígitos juntos) tomaría {lk.seed_last} como último "
            f"consecutivo por los paquetes anómalos; aquí se toma {lk.last}."
        )
    if lk.repeated:
        out.append(
            "Paquetes que ya aparecen en más de una fila (no los creó esta HU): "
            + ", ".join(f"{k} ×{v}" for k, v in sorted(lk.repeated.items()))
            + "."
        )
    return "\n".join(out)


def queries_text(p: Plan) -> str:
    return "\n\n".join(f"-- {title}\n{sql}" for title, sql in p.lookup.queries.items())


def coordinators_table(p: Plan) -> pd.DataFrame:
    """The inventory's coordinators, by the runbook's own query."""
    return p.lookup.coordinators


def plan_table(p: Plan) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Tabla": e.source,
                "Consecutivo": e.consecutive,
                "Paquete": e.package,
                "Proceso": e.process,
                "Estado": e.status.label,
            }
            for e in p.entries
        ]
    ).set_index("Tabla")


def plan_sql(p: Plan) -> str:
    """The INSERTs a confirmed run sends for the tables still without a reservation."""
    todo = p.to_reserve
    if not todo:
        return "-- Todas las tablas de la HU ya tienen su consecutivo: no hay nada que insertar."
    return "\n\n".join(e.sql + ";" for e in todo)


@dataclass
class Outcome:
    mode: WriteMode
    entries: list[reservation.Entry]
    back: ReadBack | None


def run(step: Step, p: Plan, out: Callable[[str], None] = print, **claim_options: Any) -> Outcome:
    """Reserve when confirmed (else say it is a dry run), read back, fail on any problem found."""
    m = step.write_mode
    if m.dry_run:
        out(
            f"No se reserva nada: {m.reason}. Los consecutivos de arriba son provisionales: otra reserva puede "
            "tomarlos antes; la ejecución confirmada los reclama de verdad."
        )
        return Outcome(m, p.entries, None)
    zone = step.zone()
    entries = reservation.reserve(zone, step.hu, prd_root(), out=out, **claim_options)
    back = reservation.read_back(zone, step.hu, entries)
    if back.problems:
        raise ReservationError(
            "La lectura del inventario después de reservar encontró problemas:\n  " + "\n  ".join(back.problems)
        )
    out("Lectura posterior correcta: una reserva por tabla y ningún paquete de la HU repetido.")
    return Outcome(m, entries, back)


def _said(sentence: str) -> pd.DataFrame:
    return pd.DataFrame({"Resultado": [sentence]})


def anomalies_table(p: Plan) -> pd.DataFrame:
    table = inventory.anomalies_table(p.lookup.readings)
    return table if len(table) else _said("Ningún paquete anómalo: todos siguen la forma SQOOP<periodicidad><n>.")


def hu_rows_table(p: Plan) -> pd.DataFrame:
    rows = p.lookup.hu_rows
    return rows.set_index("package") if len(rows) else _said("El inventario no tiene filas de las tablas de esta HU.")


def read_back_table(o: Outcome) -> pd.DataFrame:
    """The HU's inventory rows as read after reserving; in a dry run, one line saying nothing was written."""
    if o.back is None:
        return _said("Simulación: no se escribió nada en el inventario, no hay filas que leer de vuelta.")
    return o.back.rows.set_index("package")


def facts(o: Outcome, p: Plan) -> dict[str, Any]:
    packages = ", ".join(e.package for e in o.entries)
    said = "paquetes planeados" if o.mode.dry_run else "paquetes reservados"
    figures: dict[str, headline.Figure] = {"último consecutivo del inventario": p.lookup.last}
    return {
        "headline": headline.written(f"{said}: {packages}", o.mode, figures).as_fact(),
        "dry_run_reason": o.mode.reason if o.mode.dry_run else None,
        "dry_run": o.mode.dry_run,
        "last_consecutive": p.lookup.last,
        "seed_rule_last_consecutive": p.lookup.seed_last,
        "anomalies": [r.package for r in p.lookup.readings if r.anomaly],
        "tables": {e.source: e.as_fact() for e in o.entries},
    }
