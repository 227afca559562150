"""The results zone ("zona de resultados"): one interface, a backend per kind of engine.

Queries are written once in Hive SQL, the dialect the team reads and pastes, and transpiled with sqlglot
for the engine that runs them; the evidence shows the Hive text. ``local`` uses an embedded DuckDB file.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import sqlglot

from . import localenv
from .environments import EMBEDDED, DuckDBZone, Environment
from .errors import ProductizarError
from .naming import split_source


class ResultsZone(ABC):
    """What the steps need from the results zone; implementations differ only in how SQL reaches it."""

    #: sqlglot dialect the engine speaks
    dialect: str = "hive"

    def backend_sql(self, hive_sql: str) -> str:
        """The statement as this engine receives it (Hive SQL transpiled; no trailing ``;``)."""
        hive_sql = hive_sql.strip().rstrip(";").strip()
        if self.dialect == "hive":
            return hive_sql
        return sqlglot.transpile(hive_sql, read="hive", write=self.dialect)[0]

    @abstractmethod
    def query(self, hive_sql: str) -> pd.DataFrame:
        """Run a Hive SQL query and return its rows."""

    @abstractmethod
    def table_exists(self, source: str) -> bool:
        """Whether ``zone.table`` exists."""

    @abstractmethod
    def describe(self) -> str:
        """A short, secret-free description for the evidence ("DuckDB embebido", "Hive host:port")."""


class DuckDBResultsZone(ResultsZone):
    """A DuckDB file. Each call opens its own short-lived read-only connection: every notebook kernel is a
    separate process, and DuckDB lets only one process hold a file for writing."""

    dialect = "duckdb"

    def __init__(self, path: Path, label: str = "DuckDB"):
        self.path = Path(path)
        self.label = label

    @contextmanager
    def connect(self, read_only: bool = True, attempts: int = 20) -> Iterator[duckdb.DuckDBPyConnection]:
        delay = 0.05
        for attempt in range(attempts):
            try:
                con = duckdb.connect(str(self.path), read_only=read_only)
                break
            except duckdb.IOException as exc:  # another process holds the write lock: wait, it is short
                if "lock" not in str(exc).lower() or attempt == attempts - 1:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        try:
            yield con
        finally:
            con.close()

    def query(self, hive_sql: str) -> pd.DataFrame:
        with self.connect() as con:
            return con.execute(self.backend_sql(hive_sql)).df()

    def table_exists(self, source: str) -> bool:
        zone, table = split_source(source)
        with self.connect() as con:
            row = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE lower(table_schema) = lower(?) AND lower(table_name) = lower(?)",
                [zone, table],
            ).fetchone()
        return bool(row and row[0])

    def describe(self) -> str:
        return self.label


def open_zone(env: Environment) -> ResultsZone:
    """The results zone of an environment, ready to query."""
    settings = env.results_zone
    if isinstance(settings, DuckDBZone):
        if settings.path == EMBEDDED:
            return DuckDBResultsZone(localenv.duckdb_path(), "DuckDB embebido (entorno local)")
        return DuckDBResultsZone(Path(settings.path), f"DuckDB {Path(settings.path).name}")
    raise ProductizarError(
        f"La zona de resultados Hive ({settings.host}:{settings.port}) todavía no tiene conector en esta versión: "
        "use el entorno local o espere el conector PyHive."
    )
