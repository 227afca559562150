"""Reading ``resultados.inventario_lz``: how each package is read, the last consecutive, the HU's rows.

The runbook takes the last consecutive as every digit of ``package`` joined (``REGEXP_REPLACE(package,
'[^0-9]+', '')``). A hand-kept inventory has packages where that reading is wrong: ``SQOOP2DI1500`` reads
as 21500, ``SQOOPDI1890B2`` as 18902. The rule here, documented in ``RULE`` and shown in the evidence:

* a package ``SQOOP<periodicity letters><n>`` counts with its number ``n`` (any periodicity: the
  consecutive is one sequence for the whole inventory, as the runbook's query assumes);
* written with leading zeros (``SQOOPME0042``) or in lower case it still counts, as its number, and is
  listed as an anomaly;
* a package without digits, with digits in the prefix, with several numbers or another shape does not
  count, and is listed with what the runbook's rule would have read.

So a stray package can never make the next consecutive jump, and one that counts can never be re-used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from productizar.core import naming
from productizar.core.hu import HU, TableSpec
from productizar.results_zone.base import ResultsZone, table_ref
from productizar.results_zone.hivesql import hive_literal

TABLE = naming.INVENTORY_TABLE
COLUMNS = naming.INVENTORY_COLUMNS
ORIGIN = "Coordinador"

RULE = (
    "Último consecutivo = el mayor número de los paquetes con forma SQOOP<periodicidad><n> (cualquier "
    "periodicidad; con ceros a la izquierda o en minúsculas cuentan por su número). Los paquetes sin dígitos, "
    "con dígitos en el prefijo, con varios números o con otra forma no cuentan: la regla del runbook (juntar "
    "todos los dígitos) los leería mal."
)

_WELL_FORMED = re.compile(r"^SQOOP(?P<per>[A-Z]+)(?P<n>[0-9]+)$", re.I)
_DIGIT_IN_PREFIX = re.compile(r"^SQOOP[0-9]", re.I)


@dataclass(frozen=True)
class PackageReading:
    """How one package is read: by the runbook's rule and by this tool's."""

    package: str
    seed_value: int | None  # every digit joined, as the runbook's query reads it
    consecutive: int | None  # what counts towards the last consecutive; None: it does not count
    anomaly: str | None  # why the package is not well formed (Spanish), None when it is


def read_package(package: str | None) -> PackageReading:
    """Read one package by the rule in ``RULE``."""
    text = (package or "").strip()
    groups = re.findall(r"[0-9]+", text)
    seed = int("".join(groups)) if groups else None
    if not text:
        return PackageReading(text, None, None, "paquete vacío: no cuenta")
    m = _WELL_FORMED.match(text)
    if m:
        n = int(m.group("n"))
        notes = []
        if m.group("n").startswith("0"):
            notes.append("ceros a la izquierda")
        if text != text.upper():
            notes.append("en minúsculas")
        return PackageReading(text, seed, n, f"{' y '.join(notes)}: cuenta como {n}" if notes else None)
    if not groups:
        return PackageReading(text, None, None, "sin dígitos: no cuenta")
    if _DIGIT_IN_PREFIX.match(text):
        reason = "dígitos dentro del prefijo"
    elif len(groups) > 1:
        reason = "varios números"
    else:
        reason = "no sigue la forma SQOOP<periodicidad><n>"
    return PackageReading(text, seed, None, f"{reason}: no cuenta (la regla del runbook leería {seed})")


def last_consecutive(readings: list[PackageReading]) -> int:
    """The largest consecutive that counts (0 for an empty inventory)."""
    return max((r.consecutive for r in readings if r.consecutive is not None), default=0)


def seed_rule_last(readings: list[PackageReading]) -> int | None:
    """What the runbook's query would have taken as the last consecutive."""
    return max((r.seed_value for r in readings if r.seed_value is not None), default=None)


def anomalies_table(readings: list[PackageReading]) -> pd.DataFrame:
    def shown(n: int | None) -> str:
        return "—" if n is None else str(n)

    rows = [(r.package, shown(r.seed_value), shown(r.consecutive), r.anomaly) for r in readings if r.anomaly]
    return pd.DataFrame(rows, columns=["Paquete", "Regla del runbook", "Cuenta como", "Motivo"], dtype=object)


# ------------------------------------------------------------------------------------------- queries


def packages_sql(table: str = TABLE) -> str:
    """Every package with how many rows carry it (a package on two rows is a collision)."""
    return f"SELECT package, count(*) AS filas FROM {table_ref(table)} GROUP BY package"


def coordinators_sql(table: str = TABLE) -> str:
    """The runbook's coordinators query (every one: ``latest_coordinators`` keeps the last by consecutive)."""
    return f"SELECT {', '.join(COLUMNS)} FROM {table_ref(table)} WHERE proceso LIKE '%CRD%'"


def latest_coordinators(rows: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """The ``limit`` coordinators with the highest consecutive as read by ``RULE`` (text order would put
    SQOOPME0042 above SQOOPDI1936); packages that do not count go last."""
    order = [read_package(str(p)).consecutive for p in rows["package"]]
    ranked = rows.assign(_n=[-1 if n is None else n for n in order]).sort_values(["_n", "package"], ascending=False)
    return ranked.drop(columns="_n").head(limit).reset_index(drop=True)


def hu_rows_sql(hu: HU, table: str = TABLE) -> str:
    """The inventory rows of the HU's tables (by results-zone table name), whatever their process."""
    names = ", ".join(hive_literal(s.names.table) for s in hu.tables)
    return f"SELECT {', '.join(COLUMNS)} FROM {table_ref(table)} WHERE table_name IN ({names}) ORDER BY package"


def process_pattern(hu: HU) -> re.Pattern[str]:
    """A coordinator process of this HU's periodicity and aplicativo: ``SQP<per><n>CRD<app>``."""
    c = hu.coordinator
    return re.compile(rf"^SQP{re.escape(c.periodicity)}(?P<n>[0-9]+)CRD{re.escape(c.aplicativo)}$")


def reservation_of(hu: HU, spec: TableSpec, rows: pd.DataFrame) -> dict[str, Any] | None:
    """The row that already reserves a consecutive for this table (same table and zone, a coordinator
    process of this HU's periodicity and aplicativo whose number matches its package), if any."""
    pattern = process_pattern(hu)
    for row in rows.to_dict("records"):
        m = pattern.match(str(row.get("proceso") or ""))
        if (
            m
            and row.get("table_name") == spec.names.table
            and row.get("semilla") == spec.names.zone
            and str(row.get("package")) == naming.package_code(hu.coordinator.periodicity, int(m.group("n")))
        ):
            return row
    return None


@dataclass
class Lookup:
    """What the inventory says before anything is reserved."""

    table: str
    readings: list[PackageReading]
    repeated: dict[str, int]  # package -> rows, for packages on more than one row
    coordinators: pd.DataFrame
    hu_rows: pd.DataFrame
    queries: dict[str, str]  # title -> the Hive SQL sent

    @property
    def last(self) -> int:
        return last_consecutive(self.readings)

    @property
    def seed_last(self) -> int | None:
        return seed_rule_last(self.readings)


def look_up(zone: ResultsZone, hu: HU, table: str = TABLE) -> Lookup:
    """Read the inventory: every package, the last coordinators, and the HU's own rows."""
    queries = {
        "Paquetes del inventario": packages_sql(table),
        "Coordinadores en el inventario (consulta del runbook)": coordinators_sql(table),
        "Filas de las tablas de la HU": hu_rows_sql(hu, table),
    }
    packages = zone.query(queries["Paquetes del inventario"])
    readings = [read_package(p) for p in sorted(packages["package"].fillna("").astype(str))]
    repeated = {str(p): int(n) for p, n in zip(packages["package"], packages["filas"]) if int(n) > 1}
    coordinators = latest_coordinators(zone.query(queries["Coordinadores en el inventario (consulta del runbook)"]))
    hu_rows = zone.query(queries["Filas de las tablas de la HU"])
    return Lookup(table, readings, repeated, coordinators, hu_rows, {k: zone.hive_sql(v) for k, v in queries.items()})


# ------------------------------------------------------------------------------------------- the row


def row_values(hu: HU, spec: TableSpec, consecutive: int, prd_root: str) -> dict[str, str]:
    """The 12 columns of the coordinator's inventory row (section "Promover coordinador" of the runbook)."""
    c = hu.coordinator
    n = spec.names
    return {
        "package": naming.package_code(c.periodicity, consecutive),
        "table_name": n.table,
        "semilla": n.zone,
        "proceso": naming.process_code(c.periodicity, consecutive, c.aplicativo),
        "origen_fuente": ORIGIN,
        "data_folder": f"{prd_root}/{n.coordinator_config(hu.api.name)}",
        "periodicidad": c.periodicity,
        "descripcion": f"Carga a DynamoDB de {n.table} para el API {hu.api.name} (HU {hu.id}: {hu.hu.title})",
        "solicita_ingestion": hu.hu.requested_by,
        "dia_ejecucion": c.execution_day,
        "hora_ejecucion": c.execution_hour,
        "prerrequisito": c.prerequisite,
    }


def insert_sql(values: dict[str, str], table: str = TABLE) -> str:
    """The 12-column INSERT in Hive SQL, every value a safely quoted literal."""
    cols = ", ".join(COLUMNS)
    vals = ", ".join(hive_literal(values[c]) for c in COLUMNS)
    return f"INSERT INTO {table_ref(table)} ({cols}) VALUES ({vals})"
