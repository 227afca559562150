"""The DuckDB engine: the embedded default's results zone, a file on this machine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import duckdb
import pandas as pd

from productizar.core import duckfile
from productizar.core.naming import split_source
from productizar.results_zone.base import DEFAULT_CHUNK_ROWS, DuplicateKey, ResultsZone

STREAM_MEMORY_LIMIT = "48MB"  # DuckDB's block cache while a table is streamed


class DuckDBResultsZone(ResultsZone):
    """A DuckDB file. Each call opens its own short-lived connection: every notebook kernel is a separate
    process, and DuckDB lets one process at a time hold a file for writing, so a busy file is retried."""

    dialect = "duckdb"
    enforces_keys = True

    def __init__(self, path: Path, label: str = "DuckDB"):
        self.path = Path(path)
        self.label = label

    def connect(self, read_only: bool = True, attempts: int = 40) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        return duckfile.connect(self.path, read_only, attempts)

    def query(self, sql: str) -> pd.DataFrame:
        with self.connect() as con:
            return con.execute(self.backend_sql(sql)).df()

    def stream(self, sql: str, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        with self.connect() as con:
            reader = con.execute(self.backend_sql(sql))
            columns = [d[0] for d in reader.description]
            while rows := reader.fetchmany(chunk_rows):
                # object columns keep each value as the driver gave it (Decimal, date, int): no float detour
                yield pd.DataFrame(rows, columns=columns, dtype=object)

    def stream_ordered(
        self, source: str, keys: list[str], chunk_rows: int = DEFAULT_CHUNK_ROWS
    ) -> Iterator[pd.DataFrame]:
        """Key order by keyset pages (``WHERE key > last ORDER BY key LIMIT n``): DuckDB runs inside this process
        and its client keeps a whole result in memory, so one big sorted query would not stay bounded.
        Rows with a null key come first; a page never splits the rows of one key."""
        zone, table = split_source(source)
        ref, ks = f'"{zone}"."{table}"', [f'"{k}"' for k in keys]
        any_null = " OR ".join(f"{k} IS NULL" for k in ks)
        not_null = " AND ".join(f"{k} IS NOT NULL" for k in ks)
        row = f"({', '.join(ks)})" if len(ks) > 1 else ks[0]
        marks = f"({', '.join('?' for _ in ks)})" if len(ks) > 1 else "?"
        with self.connect() as con:
            # DuckDB caches the file's blocks up to its memory limit: keep the cache small while streaming
            con.execute(f"SET memory_limit = '{STREAM_MEMORY_LIMIT}'")
            con.execute("SET threads = 1")  # one page at a time: a single thread needs the least memory
            cur = con.execute(f"SELECT * FROM {ref} WHERE {any_null}")
            columns = [d[0] for d in cur.description]
            at = [columns.index(k) for k in keys]
            while rows := cur.fetchmany(chunk_rows):
                yield pd.DataFrame(rows, columns=columns, dtype=object)
            last: tuple | None = None
            while True:
                after = f" AND {row} > {marks}" if last is not None else ""
                rows = con.execute(
                    f"SELECT * FROM {ref} WHERE {not_null}{after} ORDER BY {', '.join(ks)} LIMIT {int(chunk_rows)}",
                    list(last or ()),
                ).fetchall()
                if not rows:
                    return
                last = tuple(rows[-1][i] for i in at)
                if len(rows) == chunk_rows:  # the last key may go on: take its whole group now
                    group = con.execute(
                        f"SELECT * FROM {ref} WHERE {' AND '.join(f'{k} = ?' for k in ks)}", list(last)
                    ).fetchall()
                    rows = [r for r in rows if tuple(r[i] for i in at) != last] + group
                yield pd.DataFrame(rows, columns=columns, dtype=object)

    def export_parquet(self, source: str, target: Path) -> Path:
        """The table as one Parquet file (what the Spark job reads locally), written whole or not at all."""
        zone, table = split_source(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".partial")
        with self.connect() as con:
            con.execute(f'COPY (SELECT * FROM "{zone}"."{table}") TO \'{tmp}\' (FORMAT PARQUET)')
        os.replace(tmp, target)
        return target

    def execute(self, sql: str) -> None:
        with self.connect(read_only=False) as con:
            try:
                con.execute(self.backend_sql(sql))
            except duckdb.ConstraintException as exc:
                raise DuplicateKey(f"{self.label} rechazó una fila con clave repetida: {exc}") from None

    def origin(self, source: str) -> str | None:
        """The table's comment: where ``productizar local seed`` says its rows came from (synthetic or a file)."""
        zone, table = split_source(source)
        with self.connect() as con:
            return duckfile.table_comment(con, zone, table)[1]

    def table_exists(self, source: str) -> bool:
        zone, table = split_source(source)
        with self.connect() as con:
            row = con.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE lower(table_schema) = lower(?) AND lower(table_name) = lower(?)",
                [zone, table],
            ).fetchone()
        return bool(row and row[0])

    def sample(self, source: str, n: int, seed: int = 7) -> pd.DataFrame:
        # DuckDB's own reservoir sample, repeatable with a seed (rand(seed) loses its seed in transpiling)
        zone, table = split_source(source)
        with self.connect() as con:
            cur = con.execute(
                f'SELECT * FROM "{zone}"."{table}" USING SAMPLE reservoir({int(n)} ROWS) REPEATABLE ({int(seed)})'
            )
            # fetchall keeps DECIMAL as Decimal (a DataFrame conversion would turn it into float)
            return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])

    def describe(self) -> str:
        return self.label
