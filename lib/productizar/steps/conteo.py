"""Step ``conteo``: rows, bad keys and repeated keys of each HU table in the results zone, before anything
is loaded (the profile itself is ``results_zone.profile``)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import BaseModel

from productizar.results_zone.profile import TableCount, count_tables
from productizar.run import headline
from productizar.run.step import Step


class Facts(BaseModel):
    """What ``conteo`` hands on: the results zone it read and each table's counts, keyed by source."""

    results_zone: str
    tables: dict[str, TableCount]
    headline: dict[str, Any] = {}


def count(step: Step) -> list[TableCount]:
    """Count every HU table, a few at a time (every missing table is named before anything is counted)."""
    return count_tables(step.zone(), step.hu.tables, step.env.max_concurrent_queries)


def results_table(counts: list[TableCount]) -> pd.DataFrame:
    """The table the analyst reads (and pastes into the HU), with Spanish number formatting."""
    return pd.DataFrame(
        [
            {
                "Tabla": c.source,
                "Filas": _n(c.rows),
                "Clave nula o vacía": _n(c.null_key_rows),
                "Claves repetidas": _n(c.duplicate_keys),
                "Filas que se sobrescriben": _n(c.duplicate_rows),
                "Ítems esperados en Dynamo": _n(c.expected_items),
                "Clave de ordenamiento (mín – máx)": f"{c.sort_min} – {c.sort_max}"
                if c.sort_key
                else "sin clave de ordenamiento",
            }
            for c in counts
        ]
    ).set_index("Tabla")


def _n(value: int, noun: str = "", plural: str = "") -> str:
    """A count as Spanish text writes it (100.000), with its noun in singular or plural."""
    text = headline.n(value)
    if noun:
        text += " " + (noun if value == 1 else plural or noun + "s")
    return text


def observations(counts: list[TableCount]) -> str:
    """One Spanish sentence per table saying what the counts mean for the load."""
    out = []
    for c in counts:
        keys = c.partition_key + (f" + {c.sort_key}" if c.sort_key else "")
        if c.rows == 0:
            out.append(f"{c.source}: la tabla está vacía; no hay nada que cargar.")
            continue
        issues = []
        if c.null_key_rows:
            issues.append(f"{_n(c.null_key_rows, 'fila')} con la clave ({keys}) nula o vacía que DynamoDB rechazará")
        if c.duplicate_keys:
            issues.append(
                f"{_n(c.duplicate_keys, 'clave repetida', 'claves repetidas')} ({_n(c.duplicate_rows, 'fila')} "
                "de más): DynamoDB conservará solo la última"
            )
        if issues:
            out.append(f"{c.source}: {'; '.join(issues)}. Se esperan {_n(c.expected_items, 'ítem')} en DynamoDB.")
        else:
            out.append(f"{c.source}: {_n(c.rows, 'fila')}, claves ({keys}) completas y únicas.")
    seeded = [c for c in counts if c.origin]
    if seeded:
        out.append("")
        out += [f"Origen de {c.source}: {c.origin}." for c in seeded]
    return "\n".join(out)


def sql_text(counts: list[TableCount]) -> str:
    """The Hive SQL that ran, ready to paste into Hue or Beeline (one statement per block)."""
    blocks = []
    for c in counts:
        blocks.append(f"-- {c.source}\n" + ";\n".join(c.sql) + ";")
    return "\n\n".join(blocks)


def facts(step: Step, counts: list[TableCount]) -> Facts:
    """What later steps and summary.json need: per table counts, keyed by source."""
    rows = sum(c.rows for c in counts)
    expected = sum(c.expected_items for c in counts)
    figures: dict[str, headline.Figure] = {}
    for c in counts:
        figures[f"filas · {headline.short(c.source)}"] = c.rows
        figures[f"ítems esperados · {headline.short(c.source)}"] = c.expected_items
    text = f"{_n(len(counts), 'tabla')} · {_n(rows, 'fila')} · {_n(expected, 'ítem esperado', 'ítems esperados')}"
    return Facts(
        results_zone=step.zone().describe(),
        tables={c.source: c for c in counts},
        headline=headline.Headline(text, figures).as_fact(),
    )


def read_facts(step: Step) -> Facts:
    """``conteo``'s facts, for the steps that declare it upstream."""
    return step.typed_facts_of("conteo", Facts)
