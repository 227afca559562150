"""``productizar local seed``: any HU's tables in an embedded results zone, from exported files or made up.

The embedded default holds the demo HU's tables; an analyst rehearsing their own HU brings a sample (files
exported from Hue or Hive, ``local.exports``) or lets the tool synthesize one (``local.synthetic``). Every
table is written in one transaction (all of them or none), under the HU's own names, and carries its origin
as the table's comment, which ``conteo`` shows in its evidence and the runner's fingerprint reads (a table
seeded again runs the steps again). A table that the seed did not write (the demo's, say) is only replaced
when asked.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from productizar.core import duckfile
from productizar.core.errors import BadInput
from productizar.core.hu import DEFAULT_SAMPLE_ROWS, HU
from productizar.core.naming import split_source
from productizar.local import exports, synthetic
from productizar.local.demo_data import DemoTable

#: how a table written by the seed begins its comment (what tells it from a table the seed must not replace)
ORIGIN_PREFIX = "productizar local seed"
GENERATOR_VERSION = 1  # bump when synthetic.py makes other values: the fingerprint changes with it


class SeedRefused(BadInput):
    """The seed would replace tables it did not write."""


@dataclass(frozen=True)
class Seeded:
    """One table written: where from, its rows, and each column's Hive type with how it was decided."""

    source: str
    rows: int
    origin: str
    columns: tuple[tuple[str, str], ...]
    decided: tuple[str, ...]


def _n(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.hexdigest()[:12]


def _synthetic_origin(hu: HU, t: DemoTable, rows: int) -> str:
    digest = _digest(json.dumps([GENERATOR_VERSION, hu.id, t.source, rows, t.columns]).encode())
    return (
        f"{ORIGIN_PREFIX} · datos sintéticos, no reales ({_n(rows)} filas generadas desde la HU, con claves nulas, "
        f"vacías y repetidas a propósito) · huella {digest}"
    )


def _export_origin(e: exports.ExportTable) -> str:
    return f"{ORIGIN_PREFIX} · exportado de {e.header.path.name} ({e.header.how}) · huella {e.header.digest}"


def existing_comments(con: duckdb.DuckDBPyConnection, sources: list[str]) -> dict[str, str | None]:
    """The comment of each of ``sources`` that exists already (None: a table without one)."""
    out: dict[str, str | None] = {}
    for source in sources:
        exists, comment = duckfile.table_comment(con, *split_source(source))
        if exists:
            out[source] = comment
    return out


def _refuse_foreign(con: duckdb.DuckDBPyConnection, sources: list[str], zone_file: Path) -> None:
    foreign = [s for s, c in existing_comments(con, sources).items() if not (c or "").startswith(ORIGIN_PREFIX)]
    if foreign:
        raise SeedRefused(
            f"{zone_file.name} ya tiene {', '.join(foreign)}, que no escribió `productizar local seed` (¿los datos "
            "demo?); nada se cargó. Use --replace para reemplazarlas."
        )


def _write(con: duckdb.DuckDBPyConnection, table: DemoTable, parquet: Path | None, comment: str) -> None:
    zone, name = split_source(table.source)
    con.execute(f'DROP TABLE IF EXISTS "{zone}"."{name}"')
    if parquet is None:
        table.write(con)
    else:
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{zone}"')
        cols = ", ".join(f'"{c}"' for c, _ in table.columns)
        con.execute(f'CREATE TABLE "{zone}"."{name}" AS SELECT {cols} FROM read_parquet(?)', [str(parquet)])
    con.execute(f'COMMENT ON TABLE "{zone}"."{name}" IS \'{comment.replace(chr(39), chr(39) * 2)}\'')


def seed(hu: HU, zone_file: Path, folder: Path | None = None, replace: bool = False) -> list[Seeded]:
    """Write every HU table into the DuckDB results zone ``zone_file``: read from ``folder`` when given,
    synthesized otherwise. All tables or none (one transaction)."""
    planned: list[tuple[DemoTable, Path | None, Seeded]] = []
    if folder is not None:
        for e in exports.read(folder, list(hu.tables)):
            parquet = e.header.path if e.frame is None else None
            table = DemoTable(e.source, e.columns, e.frame if e.frame is not None else pd.DataFrame())
            planned.append((table, parquet, Seeded(e.source, e.rows, _export_origin(e), e.columns, e.decided)))
    else:
        for t in hu.tables:
            table = synthetic.synthesize(hu, t)
            rows = t.rows or DEFAULT_SAMPLE_ROWS
            how = tuple("from the HU" if t.columns else "synthetic" for _ in table.columns)
            origin = _synthetic_origin(hu, table, rows)
            planned.append((table, None, Seeded(t.source, rows, origin, table.columns, how)))
    with duckfile.connect(zone_file, read_only=False) as con:
        if not replace:
            _refuse_foreign(con, [t.source for t in hu.tables], zone_file)
        con.execute("BEGIN TRANSACTION")
        try:
            for table, parquet, seeded in planned:
                _write(con, table, parquet, seeded.origin)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("CHECKPOINT")
    return [s for _, _, s in planned]
