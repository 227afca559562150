"""The results zone's interface: what the steps need from it, whatever the engine behind it.

Queries are written once in Hive SQL, the dialect the team reads and pastes; ``hivesql.prepare`` removes
the engine traps, and sqlglot transpiles for engines that are not Hive. The evidence shows the Hive text
(``hive_sql``). The engines are ``duckdb`` (the embedded default's file) and ``hive`` (PyHive).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import sqlglot

from productizar.core.errors import ProductizarError
from productizar.core.naming import split_source
from productizar.results_zone import hivesql

DEFAULT_CHUNK_ROWS = 50_000


class ResultsZoneError(ProductizarError):
    """The results zone could not be reached or refused a statement; the message says what to check."""


class DuplicateKey(ResultsZoneError):
    """An engine that enforces keys refused a row whose key is already there."""


def quote(identifier: str) -> str:
    """A Hive identifier in backticks (the names are validated identifiers; quoting keeps keywords safe)."""
    return f"`{identifier}`"


def table_ref(source: str) -> str:
    """``zona.tabla`` as a quoted Hive reference."""
    zone, table = split_source(source)
    return f"{quote(zone)}.{quote(table)}"


class ResultsZone(ABC):
    """What the steps need from the results zone; backends differ only in how SQL reaches the engine."""

    #: sqlglot dialect the engine speaks
    dialect: str = "hive"
    #: whether the engine enforces PRIMARY KEY (Hive does not: writers must not rely on it there)
    enforces_keys: bool = False

    def hive_sql(self, sql: str) -> str:
        """The Hive statement that is sent (or, on other engines, transpiled): what the evidence shows."""
        return hivesql.prepare(sql)

    def backend_sql(self, sql: str) -> str:
        """The statement exactly as this engine receives it."""
        hive = self.hive_sql(sql)
        if self.dialect == "hive":
            return hive
        return sqlglot.transpile(hive, read="hive", write=self.dialect)[0]

    # --- engine specific ---------------------------------------------------------------------------
    @abstractmethod
    def query(self, sql: str) -> pd.DataFrame:
        """Run a Hive SQL query and return all its rows (for results that fit in memory)."""

    @abstractmethod
    def stream(self, sql: str, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """Run a query and yield its rows in chunks: memory stays bounded whatever the table's size."""

    def export_parquet(self, source: str, target: Path) -> Path:
        raise ResultsZoneError(
            f"{self.describe()}: el job de Spark lee {source} del catálogo (Hive/Glue), no de una "
            "exportación; exportar a Parquet es solo para la zona embebida de local."
        )

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run a statement that returns no rows (INSERT, CREATE...)."""

    @abstractmethod
    def table_exists(self, source: str) -> bool:
        """Whether ``zona.tabla`` exists."""

    @abstractmethod
    def sample(self, source: str, n: int, seed: int = 7) -> pd.DataFrame:
        """About ``n`` random rows of a table, drawn by the engine (the table is never loaded whole)."""

    @abstractmethod
    def describe(self) -> str:
        """A short, secret-free description for the evidence."""

    def origin(self, source: str) -> str | None:
        """Where a table's rows came from, when the engine records it (the embedded zone's seeded tables say
        so in their comment); None otherwise."""
        return None

    # --- built on the above -----------------------------------------------------------------------
    def columns(self, source: str) -> list[str]:
        """The table's column names, as the engine spells them (no row is read)."""
        frame = self.query(f"SELECT * FROM {table_ref(source)} LIMIT 0")
        return [str(c).rsplit(".", 1)[-1] for c in frame.columns]  # Hive may answer "tabla.columna"

    def count_rows(self, source: str) -> int:
        return int(self.query(f"SELECT count(*) AS total_rows FROM {table_ref(source)}").iloc[0]["total_rows"])

    def stream_ordered(
        self, source: str, keys: list[str], chunk_rows: int = DEFAULT_CHUNK_ROWS
    ) -> Iterator[pd.DataFrame]:
        """All rows in key order, in chunks: repeated keys arrive together and positions are repeatable (a load
        can resume by position). The engine sorts; the client only holds one chunk."""
        order = ", ".join(quote(k) for k in keys)
        return self.stream(f"SELECT * FROM {table_ref(source)} ORDER BY {order}", chunk_rows)

    def stream_table(
        self, source: str, columns: list[str] | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS
    ) -> Iterator[pd.DataFrame]:
        cols = ", ".join(quote(c) for c in columns) if columns else "*"
        return self.stream(f"SELECT {cols} FROM {table_ref(source)}", chunk_rows)
