"""Reserving consecutives in the inventory so that two analysts at once never get the same number.

Hive has no unique constraint and a plain table cannot delete a losing row, so read-max-then-insert gives
two analysts the same number (``docs/backends.md``, "Reserving consecutives"). The protocol, on every engine:

1. claim: ``n = max(last consecutive of the inventory, every claim ever made) + 1``; append a row
   ``(n, token, 'reclamo')`` to an append-only claims table;
2. read back the claims of ``n``: it is ours only if our token is the only one; otherwise ``n`` is burnt
   for everybody who claimed it, and each backs off (random, growing) and claims a fresh ``n``;
3. a won ``n`` is recorded as ``(n, token, 'ganado')`` *before* the inventory row is written, so a run
   that dies between the two is completed by the next run with the same number, never a second one.

On engines that enforce keys (DuckDB, the embedded default) the claims table also has a primary key, so a
colliding claim fails at once. The inventory row goes in only after the claim is won, and a table that
already has its row (or a won claim) is never claimed again: a re-run reserves nothing twice.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pandas as pd

from productizar.core import naming
from productizar.core.errors import ProductizarError
from productizar.core.hu import HU, TableSpec
from productizar.results_zone import inventory
from productizar.results_zone.base import DuplicateKey, ResultsZone, table_ref
from productizar.results_zone.hivesql import hive_literal

CLAIMS_TABLE = "resultados.inventario_lz_reservas"
CLAIM_COLUMNS = ("consecutivo", "token", "estado", "package", "table_name", "semilla", "hu", "reclamado_en")
CLAIMED, WON = "reclamo", "ganado"


class ReservationError(ProductizarError):
    """The reservation could not be completed or its read-back found a problem."""


@dataclass(frozen=True)
class Tables:
    """Where the inventory and its claims live (other names only for tests and other inventories)."""

    inventory: str = inventory.TABLE
    claims: str = CLAIMS_TABLE


def claims_ddl(tables: Tables, enforce_keys: bool) -> str:
    cols = (
        "consecutivo BIGINT, token STRING, estado STRING, package STRING, table_name STRING, "
        "semilla STRING, hu STRING, reclamado_en STRING"
    )
    if enforce_keys:  # one claim and one win per number: the engine refuses the second
        return f"CREATE TABLE IF NOT EXISTS {table_ref(tables.claims)} ({cols}, PRIMARY KEY (consecutivo, estado))"
    return f"CREATE TABLE IF NOT EXISTS {table_ref(tables.claims)} ({cols}) STORED AS PARQUET"


def claim_sql(tables: Tables, n: int, token: str, state: str, hu: HU, spec: TableSpec) -> str:
    values = [
        str(int(n)),
        hive_literal(token),
        hive_literal(state),
        hive_literal(naming.package_code(hu.coordinator.periodicity, n)),
        hive_literal(spec.names.table),
        hive_literal(spec.names.zone),
        hive_literal(str(hu.id)),
        hive_literal(datetime.now(UTC).isoformat(timespec="seconds")),
    ]
    return f"INSERT INTO {table_ref(tables.claims)} ({', '.join(CLAIM_COLUMNS)}) VALUES ({', '.join(values)})"


def _claims_exist(zone: ResultsZone, tables: Tables) -> bool:
    return zone.table_exists(tables.claims)


def max_claimed(zone: ResultsZone, tables: Tables) -> int:
    if not _claims_exist(zone, tables):
        return 0
    got = zone.query(f"SELECT max(consecutivo) AS n FROM {table_ref(tables.claims)}")["n"].iloc[0]
    return 0 if pd.isna(got) else int(got)


def next_consecutive(zone: ResultsZone, tables: Tables) -> int:
    """One past the last consecutive of the inventory and of every claim, won or burnt."""
    packages = zone.query(inventory.packages_sql(tables.inventory))["package"]
    last = inventory.last_consecutive([inventory.read_package(p) for p in packages.fillna("").astype(str)])
    return max(last, max_claimed(zone, tables)) + 1


def won_claims(zone: ResultsZone, hu: HU, tables: Tables) -> dict[str, int]:
    """Per HU table (its ``source``), the smallest number a run of this HU won (whether or not its
    inventory row was written afterwards)."""
    if not _claims_exist(zone, tables):
        return {}
    got = zone.query(
        f"SELECT consecutivo, table_name, semilla FROM {table_ref(tables.claims)} "
        f"WHERE estado = {hive_literal(WON)} AND hu = {hive_literal(str(hu.id))}"
    )
    sources = {(s.names.zone, s.names.table): s.source for s in hu.tables}  # as the claim rows spell them
    won: dict[str, int] = {}
    for n, table, zone_name in zip(got["consecutivo"], got["table_name"], got["semilla"]):
        source = sources.get((zone_name, table))
        if source is not None:
            won[source] = min(int(n), won.get(source, int(n)))
    return won


def claim(
    zone: ResultsZone,
    hu: HU,
    spec: TableSpec,
    tables: Tables,
    *,
    max_attempts: int = 40,
    backoff_s: float = 0.2,
    max_backoff_s: float = 5.0,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[int, int]:
    """Claim and win one consecutive for ``spec``; returns it and the attempts it took."""
    rng = rng or random.Random()
    for attempt in range(1, max_attempts + 1):
        n = next_consecutive(zone, tables)
        token = uuid.uuid4().hex
        try:
            zone.execute(claim_sql(tables, n, token, CLAIMED, hu, spec))
        except DuplicateKey:
            pass  # somebody claimed n first: try a fresh one
        else:
            tokens = zone.query(
                f"SELECT token FROM {table_ref(tables.claims)} "
                f"WHERE consecutivo = {int(n)} AND estado = {hive_literal(CLAIMED)}"
            )["token"]
            if list(tokens) == [token]:
                zone.execute(claim_sql(tables, n, token, WON, hu, spec))
                return n, attempt
        sleep(rng.uniform(0, min(max_backoff_s, backoff_s * 2**attempt)))
    raise ReservationError(
        f"No se pudo reservar un consecutivo para {spec.source} en {max_attempts} intentos: "
        "hay demasiadas reservas simultáneas. Espere unos minutos y vuelva a ejecutar el paso."
    )


# ------------------------------------------------------------------------------------------- plan


class EntryState(StrEnum):
    """Where one HU table stands: in a plan (the first three) or after a confirmed run."""

    ALREADY_RESERVED = "already_reserved"
    TO_COMPLETE = "to_complete"  # a won claim whose inventory row is missing
    TO_RESERVE = "to_reserve"
    RESERVED = "reserved"
    COMPLETED = "completed"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def fact(self) -> str:
        """The status ``summary.json`` gives: a plan's numbers are only ``planned``."""
        return "planned" if self in (EntryState.TO_COMPLETE, EntryState.TO_RESERVE) else self.value


_LABELS = {
    EntryState.ALREADY_RESERVED: "ya reservado",
    EntryState.TO_COMPLETE: "por completar",
    EntryState.TO_RESERVE: "por reservar",
    EntryState.RESERVED: "reservado",
    EntryState.COMPLETED: "completado",
}


@dataclass
class Entry:
    """One HU table in the plan or in the result."""

    source: str
    consecutive: int
    package: str
    process: str
    status: EntryState
    sql: str
    attempts: int = 0

    def as_fact(self) -> dict[str, Any]:
        return {
            "consecutive": self.consecutive,
            "package": self.package,
            "process": self.process,
            "status": self.status.fact,
        }


def _entry(
    hu: HU, spec: TableSpec, n: int, status: EntryState, prd_root: str, tables: Tables, attempts: int = 0
) -> Entry:
    values = inventory.row_values(hu, spec, n, prd_root)
    return Entry(
        spec.source,
        n,
        values["package"],
        values["proceso"],
        status,
        inventory.insert_sql(values, tables.inventory),
        attempts,
    )


def _reserved_row(hu: HU, spec: TableSpec, rows: pd.DataFrame) -> int | None:
    row = inventory.reservation_of(hu, spec, rows)
    if row is None:
        return None
    m = inventory.process_pattern(hu).match(str(row["proceso"]))
    assert m is not None  # reservation_of matched it
    return int(m.group("n"))


@dataclass
class Plan:
    lookup: inventory.Lookup
    entries: list[Entry]
    next_free: int

    @property
    def to_reserve(self) -> list[Entry]:
        return [e for e in self.entries if e.status is not EntryState.ALREADY_RESERVED]


def plan(zone: ResultsZone, hu: HU, prd_root: str, tables: Tables = Tables()) -> Plan:
    """What a confirmed run would do now: tables already reserved keep their codes; a won claim without
    its row is completed with its number; the others take the next numbers (provisional: another analyst
    may reserve first, the confirmed run claims them for real)."""
    lookup = inventory.look_up(zone, hu, tables.inventory)
    won = won_claims(zone, hu, tables)
    n = max(lookup.last, max_claimed(zone, tables))
    entries = []
    for spec in hu.tables:
        have = _reserved_row(hu, spec, lookup.hu_rows)
        if have is not None:
            entries.append(_entry(hu, spec, have, EntryState.ALREADY_RESERVED, prd_root, tables))
        elif spec.source in won:
            entries.append(_entry(hu, spec, won[spec.source], EntryState.TO_COMPLETE, prd_root, tables))
        else:
            n += 1
            entries.append(_entry(hu, spec, n, EntryState.TO_RESERVE, prd_root, tables))
    return Plan(lookup, entries, n + 1)


# ------------------------------------------------------------------------------------------- reserve


@dataclass
class ReadBack:
    rows: pd.DataFrame  # the inventory rows of the HU's tables
    repeated: dict[str, int]  # every package on more than one row, in the whole inventory
    problems: list[str] = field(default_factory=list)


def reserve(
    zone: ResultsZone,
    hu: HU,
    prd_root: str,
    tables: Tables = Tables(),
    out: Callable[[str], None] = print,
    **claim_options: Any,
) -> list[Entry]:
    """Reserve one consecutive per HU table that has none, exactly once (see the module's protocol)."""
    zone.execute(claims_ddl(tables, zone.enforces_keys))
    done = []
    for spec in hu.tables:
        rows = zone.query(inventory.hu_rows_sql(hu, tables.inventory))  # fresh: another run may have finished
        have = _reserved_row(hu, spec, rows)
        if have is not None:
            done.append(_entry(hu, spec, have, EntryState.ALREADY_RESERVED, prd_root, tables))
            out(f"{spec.source}: ya tenía reservado {done[-1].package}; no se reserva otra vez.")
            continue
        won = won_claims(zone, hu, tables).get(spec.source)
        if won is not None:
            entry = _entry(hu, spec, won, EntryState.COMPLETED, prd_root, tables)
        else:
            n, attempts = claim(zone, hu, spec, tables, **claim_options)
            entry = _entry(hu, spec, n, EntryState.RESERVED, prd_root, tables, attempts)
        zone.execute(entry.sql)
        out(
            f"{spec.source}: {entry.status.label} {entry.package} / {entry.process}"
            + (f" ({entry.attempts} intentos)" if entry.attempts > 1 else "")
            + "."
        )
        done.append(entry)
    return done


def read_back(zone: ResultsZone, hu: HU, entries: list[Entry], tables: Tables = Tables()) -> ReadBack:
    """Read the inventory again: each HU table has exactly one reservation, and none of its packages is
    on two rows. Packages repeated elsewhere in the inventory are reported, not blamed on this HU."""
    rows = zone.query(inventory.hu_rows_sql(hu, tables.inventory))
    packages = zone.query(inventory.packages_sql(tables.inventory))
    repeated = {str(p): int(c) for p, c in zip(packages["package"], packages["filas"]) if int(c) > 1}
    problems = []
    pattern = inventory.process_pattern(hu)
    specs = {s.source: s for s in hu.tables}
    for e in entries:
        spec = specs[e.source]
        mine = rows[
            (rows["table_name"] == spec.names.table)
            & (rows["semilla"] == spec.names.zone)
            & rows["proceso"].astype(str).str.match(pattern)
        ]
        if list(mine["package"]) != [e.package]:
            problems.append(
                f"{e.source}: se esperaba una sola reserva ({e.package}) y el inventario tiene "
                f"{', '.join(map(str, mine['package'])) or 'ninguna'}"
            )
        if e.package in repeated:
            problems.append(f"{e.package} aparece {repeated[e.package]} veces en el inventario")
    return ReadBack(rows, repeated, problems)
