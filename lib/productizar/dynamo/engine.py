"""Which engine loads a table: the single-machine loader or the Glue/Spark job, from the sizing figures.

The single machine is right for ``local``, DEV and tables whose load fits the window at the rate one
machine sustains (``single_machine_wcu`` in ``parameters/sizing.yaml``); above the HU's item threshold, or
when one machine would not finish inside the window, the table goes to the Glue job the template declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from productizar.core.hu import HU

SINGLE, SPARK = "single-machine", "spark"


@dataclass(frozen=True)
class Choice:
    source: str
    engine: str
    reason: str
    items: int
    single_machine_hours: float


def _int(x: float) -> str:
    return f"{x:,.0f}".replace(",", ".")  # Spanish: 100.000


def _dec(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".").replace(".", ",") if x % 1 else f"{x:.0f}"  # 0,8 · 6


class Planned(Protocol):
    """What the choice needs of a table's write plan (``sizing.WritePlan`` has it)."""

    @property
    def items(self) -> int: ...
    @property
    def total_write_units(self) -> float: ...
    @property
    def planned_rate_wcu(self) -> float: ...


def choose(hu: HU, plans: Mapping[str, Planned], single_machine_wcu: float) -> list[Choice]:
    """One choice per table, with the figure that decided it (``plans``: the sizing step's write plans)."""
    out = []
    window = hu.load.window_hours
    for t in hu.tables:
        plan = plans[t.source]
        rate = min(plan.planned_rate_wcu, single_machine_wcu)
        hours = plan.total_write_units / rate / 3600 if rate else float("inf")
        items = int(plan.items)
        engine: str
        if hu.load.engine != "auto":
            engine, reason = hu.load.engine, f"la HU fija load.engine: {hu.load.engine}"
        elif items >= hu.load.spark_from_items:
            engine, reason = (
                SPARK,
                (
                    f"{_int(items)} ítems: desde {_int(hu.load.spark_from_items)} "
                    "(load.spark_from_items) la carga va al job de Glue"
                ),
            )
        elif hours > window:
            engine, reason = (
                SPARK,
                (f"una máquina ({_int(rate)} WCU/s) tardaría {_dec(hours)} h, más que la ventana de {_dec(window)} h"),
            )
        else:
            engine, reason = (
                SINGLE,
                (
                    f"{_int(items)} ítems: una máquina ({_int(rate)} WCU/s) termina en "
                    f"{_dec(hours * 60)} min, dentro de la ventana de {_dec(window)} h"
                ),
            )
        out.append(Choice(t.source, engine, reason, items, hours))
    return out


def choices_table(choices: list[Choice]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"Tabla": c.source, "Motor": "una máquina" if c.engine == SINGLE else "Glue/Spark", "Motivo": c.reason}
            for c in choices
        ]
    ).set_index("Tabla")
