"""The Hive engine: HiveServer2 through PyHive and SQLAlchemy's ``hive://`` dialect (dev, qa, prd)."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import sqlalchemy
from sqlalchemy.pool import NullPool

from productizar.core.environments import HiveZone
from productizar.core.naming import split_source
from productizar.results_zone.base import DEFAULT_CHUNK_ROWS, ResultsZone, ResultsZoneError, quote, table_ref

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
            "NOSASL": "el servidor debe tener hive.server2.authentication=NOSASL; con otro modo responde "
            "«TSocket read 0 bytes»",
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
            lambda: hive.get_installed_sasl(
                host=s.host,
                sasl_auth=mechanism,
                service=s.kerberos_service_name,
                username=self.username,
                password=password,
            ),
            mechanism,
            sock,
        )

    def _connect(self) -> Any:
        from pyhive import hive  # imported here: only non-local environments need the driver
        from thrift.transport.TSocket import TSocket

        s = self.settings
        sock = TSocket(s.host, s.port)
        sock.setTimeout(self.connect_timeout_s * 1000)  # connect, SASL, OpenSession: fail fast and clearly
        transport = self._transport(sock)
        try:
            conn = hive.connect(
                thrift_transport=transport,
                username=self.username,
                database=s.database,
                # the server ends queries that run longer (Hive 2.3+); the session is ours alone
                configuration={"hive.query.timeout.seconds": str(s.query_timeout_s)},
            )
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
        with (
            self._statement(sql) as stmt,
            self.engine.connect().execution_options(stream_results=True, max_row_buffer=chunk_rows) as conn,
        ):
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
        column = (
            "tab_name"
            if "tab_name" in names.columns
            else ("tableName" if "tableName" in names.columns else names.columns[0])
        )
        return table.lower() in {str(v).lower() for v in names[column]}

    def sample(self, source: str, n: int, seed: int = 7) -> pd.DataFrame:
        rows = self.count_rows(source)
        fraction = min(1.0, 2.0 * n / rows) if rows else 1.0
        return self.query(f"SELECT * FROM {table_ref(source)} WHERE rand({int(seed)}) < {fraction:.8f} LIMIT {int(n)}")

    def describe(self) -> str:
        s = self.settings
        return f"Hive {s.host}:{s.port} (base {s.database}, autenticación {s.auth})"
