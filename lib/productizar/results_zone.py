"""The results zone ("zona de resultados"): one interface, a backend per kind of engine.

Queries are written once in Hive SQL, the dialect the team reads and pastes; ``hivesql.prepare`` removes
the engine traps, and sqlglot transpiles for engines that are not Hive. The evidence shows the Hive text
(``hive_sql``). ``local`` uses an embedded DuckDB file; ``dev``/``qa``/``prd`` use Hive through PyHive.
"""

from __future__ import annotations

import getpass
import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import sqlalchemy
import sqlglot
from sqlalchemy.pool import NullPool

from . import hivesql, localenv
from .environments import EMBEDDED, DuckDBZone, Environment, HiveZone
from .errors import ProductizarError
from .naming import split_source

DEFAULT_CHUNK_ROWS = 50_000
STREAM_MEMORY_LIMIT = "48MB"  # DuckDB's block cache while a table is streamed


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
        raise ResultsZoneError(f"{self.describe()}: el job de Spark lee {source} del catálogo (Hive/Glue), no de una "
                               "exportación; exportar a Parquet es solo para la zona embebida de local.")

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

    # --- built on the above -----------------------------------------------------------------------
    def count_rows(self, source: str) -> int:
        return int(self.query(f"SELECT count(*) AS total_rows FROM {table_ref(source)}").iloc[0]["total_rows"])

    def stream_ordered(self, source: str, keys: list[str], chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """All rows in key order, in chunks: repeated keys arrive together and positions are repeatable (a load
        can resume by position). The engine sorts; the client only holds one chunk."""
        order = ", ".join(quote(k) for k in keys)
        return self.stream(f"SELECT * FROM {table_ref(source)} ORDER BY {order}", chunk_rows)

    def stream_table(self, source: str, columns: list[str] | None = None,
                     chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        cols = ", ".join(quote(c) for c in columns) if columns else "*"
        return self.stream(f"SELECT {cols} FROM {table_ref(source)}", chunk_rows)


# ------------------------------------------------------------------------------------------- DuckDB


class DuckDBResultsZone(ResultsZone):
    """A DuckDB file. Each call opens its own short-lived connection: every notebook kernel is a separate
    process, and DuckDB lets one process at a time hold a file for writing, so a busy file is retried."""

    dialect = "duckdb"
    enforces_keys = True

    def __init__(self, path: Path, label: str = "DuckDB"):
        self.path = Path(path)
        self.label = label

    @contextmanager
    def connect(self, read_only: bool = True, attempts: int = 40) -> Iterator[duckdb.DuckDBPyConnection]:
        delay = 0.05
        for attempt in range(attempts):
            try:
                con = duckdb.connect(str(self.path), read_only=read_only)
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

    def stream_ordered(self, source: str, keys: list[str], chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
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
                rows = con.execute(f"SELECT * FROM {ref} WHERE {not_null}{after} ORDER BY {', '.join(ks)} LIMIT {int(chunk_rows)}",
                                   list(last or ())).fetchall()
                if not rows:
                    return
                last = tuple(rows[-1][i] for i in at)
                if len(rows) == chunk_rows:  # the last key may go on: take its whole group now
                    group = con.execute(f"SELECT * FROM {ref} WHERE {' AND '.join(f'{k} = ?' for k in ks)}",
                                        list(last)).fetchall()
                    rows = [r for r in rows if tuple(r[i] for i in at) != last] + group
                yield pd.DataFrame(rows, columns=columns, dtype=object)

    def export_parquet(self, source: str, target: Path) -> Path:
        """The table as one Parquet file (what the Spark job reads locally), written whole or not at all."""
        zone, table = split_source(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".partial")
        with self.connect() as con:
            con.execute(f"COPY (SELECT * FROM \"{zone}\".\"{table}\") TO '{tmp}' (FORMAT PARQUET)")
        os.replace(tmp, target)
        return target

    def execute(self, sql: str) -> None:
        with self.connect(read_only=False) as con:
            try:
                con.execute(self.backend_sql(sql))
            except duckdb.ConstraintException as exc:
                raise DuplicateKey(f"{self.label} rechazó una fila con clave repetida: {exc}") from None

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


# --------------------------------------------------------------------------------------------- Hive


_MISSING_DB = re.compile(r"(not found|does not exist|cannot be found|SCHEMA_NOT_FOUND)", re.I)


QUERY_TIMEOUT_MARGIN_S = 30
CLOSE_TIMEOUT_S = 15.0


class _BoundedClose:
    """A PyHive connection whose close waits at most ``CLOSE_TIMEOUT_S`` for the server.

    Closing comes after the results are in hand. Spark's Thrift server (the Hive of the tests) was seen
    to never answer a ``CloseSession`` under concurrent sessions, which hung a reservation for good; a
    session left open ends on the server's idle timeout, so the socket is dropped instead of waiting.
    """

    def __init__(self, conn: Any, sock: Any):
        self._conn, self._sock = conn, sock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def close(self) -> None:
        from pyhive.exc import OperationalError
        from thrift.transport.TTransport import TTransportException

        self._sock.setTimeout(CLOSE_TIMEOUT_S * 1000)
        try:
            self._conn.close()
        except (TTransportException, OSError, OperationalError):
            self._sock.close()


class HiveResultsZone(ResultsZone):
    """HiveServer2 through PyHive and SQLAlchemy's ``hive://`` dialect.

    One connection per operation (no pool): concurrent counts each get their own session, and nothing
    stays open between steps. Statements go through ``sqlalchemy.text`` (never ``pd.read_sql``, which
    first sends ``DESCRIBE <query>``), with colons escaped so literal text is never taken for a bind.
    """

    dialect = "hive"

    def __init__(self, settings: HiveZone, connect_timeout_s: float = 15.0):
        self.settings = settings
        self.connect_timeout_s = connect_timeout_s
        self.engine = sqlalchemy.create_engine("hive://", creator=self._connect, poolclass=NullPool)

    # -- connection ------------------------------------------------------------------------------
    @property
    def username(self) -> str:
        return self.settings.username or getpass.getuser()

    def _password(self) -> str | None:
        s = self.settings
        if s.auth != "LDAP":
            return None
        value = os.environ.get(s.password_env or "")
        if not value:
            raise ResultsZoneError(
                f"Falta la contraseña LDAP de Hive ({s.host}:{s.port}): defina la variable de entorno "
                f"{s.password_env} antes de ejecutar (nunca en el archivo de entornos ni en los parámetros)."
            )
        return value

    def _failure(self, exc: BaseException) -> ResultsZoneError:
        s = self.settings
        hint = {
            "NONE": "el servidor debe aceptar SASL PLAIN sin contraseña (hive.server2.authentication=NONE)",
            "NOSASL": "el servidor debe tener hive.server2.authentication=NOSASL; con otro modo responde «TSocket read 0 bytes»",
            "LDAP": f"usuario {self.username} y la contraseña de la variable {s.password_env}",
            "KERBEROS": f"un ticket vigente (klist) y el servicio «{s.kerberos_service_name}»",
        }[s.auth]
        detail = f"{type(exc).__name__}: {exc}".strip()
        return ResultsZoneError(
            f"No se pudo conectar a Hive en {s.host}:{s.port} con autenticación {s.auth}: {detail}. "
            f"Revise el host y el puerto de HiveServer2, que la red llegue a él, y {hint}."
        )

    def _transport(self, sock: Any) -> Any:
        """PyHive's transport for our auth modes, built on a socket we hold so that every wait has a limit."""
        import thrift_sasl
        from pyhive import hive
        from thrift.transport.TTransport import TBufferedTransport

        s = self.settings
        if s.auth == "NOSASL":
            return TBufferedTransport(sock)
        mechanism = "GSSAPI" if s.auth == "KERBEROS" else "PLAIN"
        # PLAIN needs a password even when the server ignores it (NONE); Kerberos uses the ticket
        password = None if s.auth == "KERBEROS" else (self._password() or "x")
        return thrift_sasl.TSaslClientTransport(
            lambda: hive.get_installed_sasl(host=s.host, sasl_auth=mechanism, service=s.kerberos_service_name,
                                            username=self.username, password=password),
            mechanism, sock)

    def _connect(self) -> Any:
        from pyhive import hive  # imported here: only non-local environments need the driver
        from thrift.transport.TSocket import TSocket

        s = self.settings
        sock = TSocket(s.host, s.port)
        sock.setTimeout(self.connect_timeout_s * 1000)  # connect, SASL, OpenSession: fail fast and clearly
        transport = self._transport(sock)
        try:
            conn = hive.connect(thrift_transport=transport, username=self.username, database=s.database,
                                # the server ends queries that run longer (Hive 2.3+); the session is ours alone
                                configuration={"hive.query.timeout.seconds": str(s.query_timeout_s)})
        except Exception as exc:  # thrift/SASL errors: say which server and mode failed, never the password
            raise self._failure(exc) from None
        sock.setTimeout((s.query_timeout_s + QUERY_TIMEOUT_MARGIN_S) * 1000)  # the server's own timeout speaks first
        return _BoundedClose(conn, sock)

    @staticmethod
    def _text(sql: str) -> sqlalchemy.TextClause:
        # a ':name' inside a literal would be taken for a bind parameter; '%' is doubled by text() itself
        return sqlalchemy.text(sql.replace(":", r"\:"))

    @contextmanager
    def _statement(self, sql: str) -> Iterator[sqlalchemy.TextClause]:
        """The statement ready to send; a server-side refusal becomes one sentence with the server's
        own message (not its Java stack) and the Hive SQL that was sent."""
        hive = self.backend_sql(sql)
        try:
            yield self._text(hive)
        except (sqlalchemy.exc.DBAPIError, pd.errors.DatabaseError) as exc:
            orig = getattr(exc, "orig", None) or getattr(exc.__cause__, "orig", None) or exc
            status = getattr(getattr(orig, "args", [None])[0], "status", None)
            message = (getattr(status, "errorMessage", None) or str(orig)).strip().splitlines()[0]
            raise ResultsZoneError(f"{self.describe()} rechazó la consulta: {message}\nSQL enviado:\n{hive}") from None

    # -- operations ------------------------------------------------------------------------------
    def query(self, sql: str) -> pd.DataFrame:
        with self._statement(sql) as stmt, self.engine.connect() as conn:
            return pd.read_sql_query(stmt, conn)

    def stream(self, sql: str, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        with self._statement(sql) as stmt, \
                self.engine.connect().execution_options(stream_results=True, max_row_buffer=chunk_rows) as conn:
            result = conn.execute(stmt)
            columns = list(result.keys())
            for rows in result.partitions(chunk_rows):
                yield pd.DataFrame([tuple(r) for r in rows], columns=columns, dtype=object)

    def execute(self, sql: str) -> None:
        with self._statement(sql) as stmt, self.engine.connect() as conn:
            conn.execute(stmt)

    def table_exists(self, source: str) -> bool:
        zone, table = split_source(source)
        try:
            names = self.query(f"SHOW TABLES IN {quote(zone)}")
        except ResultsZoneError as exc:
            if _MISSING_DB.search(str(exc)):
                return False
            raise
        # Hive answers one column (tab_name), Spark three (namespace, tableName, isTemporary)
        column = "tab_name" if "tab_name" in names.columns else ("tableName" if "tableName" in names.columns else names.columns[0])
        return table.lower() in {str(v).lower() for v in names[column]}

    def sample(self, source: str, n: int, seed: int = 7) -> pd.DataFrame:
        rows = self.count_rows(source)
        fraction = min(1.0, 2.0 * n / rows) if rows else 1.0
        return self.query(f"SELECT * FROM {table_ref(source)} WHERE rand({int(seed)}) < {fraction:.8f} LIMIT {int(n)}")

    def describe(self) -> str:
        s = self.settings
        return f"Hive {s.host}:{s.port} (base {s.database}, autenticación {s.auth})"


def open_zone(env: Environment) -> ResultsZone:
    """The results zone of an environment, ready to query."""
    settings = env.results_zone
    if isinstance(settings, DuckDBZone):
        if settings.path == EMBEDDED:
            return DuckDBResultsZone(localenv.duckdb_path(), "DuckDB embebido (entorno local)")
        return DuckDBResultsZone(Path(settings.path), f"DuckDB {Path(settings.path).name}")
    return HiveResultsZone(settings)
