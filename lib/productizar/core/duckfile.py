"""A DuckDB file shared by processes: short-lived connections, retried while another process holds it.

Every notebook kernel is its own process and DuckDB lets one process at a time hold a file for writing, so
the results zone's engine and ``productizar local seed`` open it the same way: briefly, waiting out a lock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


@contextmanager
def connect(path: Path, read_only: bool = True, attempts: int = 40) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to ``path``, closed on exit; a file locked by another process is retried with backoff."""
    delay = 0.05
    for attempt in range(attempts):
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:  # another process holds the lock: it is short, wait
            if "lock" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    try:
        yield con
    finally:
        con.close()


def table_comment(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> tuple[bool, str | None]:
    """Whether ``schema.table`` exists (names compared as Hive does, in any case), and its comment."""
    row = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE lower(schema_name) = lower(?) AND lower(table_name) = lower(?)",
        [schema, table],
    ).fetchone()
    return (row is not None, str(row[0]) if row and row[0] else None)
