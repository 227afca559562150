"""Synthetic results-zone data for the demo HU: deterministic, realistic shapes, a few planted defects.

One definition serves every engine that hosts the demo: each table is a Hive DDL plus a DataFrame whose
values are strings or numbers that cast exactly to the declared types (decimals as text, never floats).
The defects are the ones the runbook must catch: null and empty keys, duplicated keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import sqlglot

from productizar.core import naming

SEED = 20261129
ROWS = 100_000
VERSION = 2  # bump when the data changes (the regression HU's exports too), so `local up` rebuilds the file


@dataclass(frozen=True)
class Variant:
    """One environment's copy of the demo data: how many rows per table and how old the copy is."""

    rows: int
    days_older: int = 0  # the copy was taken this many days before the others


# `local` and the DEV rehearsal hold the same data; QA's copy is four days older (fewer rows, older
# updates), PRD has more rows than DEV: what promotion and drift find between real environments
VARIANTS: dict[str, Variant] = {
    "local": Variant(ROWS),
    "dev": Variant(ROWS),
    "qa": Variant(98_500, days_older=4),
    "prd": Variant(106_000),
}


@dataclass(frozen=True)
class DemoTable:
    source: str
    columns: tuple[tuple[str, str], ...]  # (name, Hive type)
    frame: pd.DataFrame

    def ddl(self) -> str:
        """``CREATE TABLE`` in Hive SQL."""
        zone, table = naming.split_source(self.source)
        cols = ", ".join(f"`{n}` {t}" for n, t in self.columns)
        return f"CREATE TABLE `{zone}`.`{table}` ({cols})"

    def select_cast(self, relation: str) -> str:
        """``SELECT CAST(c AS type) ...`` from ``relation`` (a loaded frame) in Hive SQL."""
        cols = ", ".join(f"CAST(`{n}` AS {t}) AS `{n}`" for n, t in self.columns)
        return f"SELECT {cols} FROM {relation}"

    def write(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create the table in a DuckDB connection (its schema too) and insert its rows, cast exactly."""
        zone, _ = naming.split_source(self.source)
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{zone}"')
        con.execute(sqlglot.transpile(self.ddl(), read="hive", write="duckdb")[0])
        con.register("frame", self.frame)
        insert = f"INSERT INTO {self.source} " + self.select_cast("frame")
        con.execute(sqlglot.transpile(insert, read="hive", write="duckdb")[0])
        con.unregister("frame")


def decimal_text(units: np.ndarray, scale: int) -> pd.Series:
    """Integers of 10^-scale as exact decimal text: 12345, 2 -> "123.45"."""
    sign = np.where(units < 0, "-", "")
    a = np.abs(units)
    whole = (a // 10**scale).astype(str)
    frac = pd.Series(a % 10**scale).astype(str).str.zfill(scale)
    return pd.Series(sign) + pd.Series(whole) + "." + frac


def _dates(rng: np.random.Generator, n: int, start: str, days: int) -> pd.Series:
    base = np.datetime64(start)
    return pd.Series((base + rng.integers(0, days, n)).astype(str))


def _with_nulls(values: pd.Series, rng: np.random.Generator, share: float) -> pd.Series:
    mask = rng.random(len(values)) < share
    return values.astype(object).where(~mask, None)


SEGMENTOS = np.array(["Personas", "Pyme", "Empresas", "Preferencial", "Emprendedor"])
CANALES = np.array(["App Personas", "Sucursal Virtual", "Oficina", "Contact Center"])
OBSERVACIONES = np.array(
    ["Cliente con pagos al día", "Revisión de límite de crédito", "Reestructuración en curso", "Migración de cartera ñ"]
)
PRODUCTOS = np.array([f"{p}{i:02d}" for p in ("TC", "CDT", "LIB", "HIP") for i in range(1, 26)])


def _score_delta(rng: np.random.Generator, v: Variant) -> DemoTable:
    """Score per client and cut-off date; string partition key, numeric sort key; 5 bad and 4 repeated keys."""
    rows = v.rows
    clients = rows // 4
    docs = (1_000_000_000 + rng.permutation(clients * 7)[:clients]).astype(str)
    cortes = np.array([20260131, 20260228, 20260331, 20260430])
    frame = pd.DataFrame(
        {
            "num_documento": pd.Series(np.repeat(docs, 4), dtype=object),
            "fecha_corte": np.tile(cortes, clients),
            "score": decimal_text(rng.integers(0, 1_000_000, rows), 4),
            "delta_score": _with_nulls(decimal_text(rng.integers(-50_000, 50_000, rows), 4), rng, 0.1),
            "segmento": SEGMENTOS[rng.integers(0, len(SEGMENTOS), rows)],
            "fecha_actualizacion": (
                pd.Timestamp("2026-05-01")
                - pd.Timedelta(days=v.days_older)
                + pd.to_timedelta(rng.integers(0, 86_400 * 30, rows), unit="s")
            ).strftime("%Y-%m-%d %H:%M:%S"),
            "observacion": _with_nulls(pd.Series(OBSERVACIONES[rng.integers(0, len(OBSERVACIONES), rows)]), rng, 0.6),
        }
    )
    frame.loc[0:2, "num_documento"] = None  # null partition keys
    frame.loc[3:4, "num_documento"] = ""  # empty partition keys
    for dup, orig in zip(range(5, 9), range(100, 104)):  # the same key as another row
        frame.loc[dup, ["num_documento", "fecha_corte"]] = frame.loc[orig, ["num_documento", "fecha_corte"]].values
    cols = (
        ("num_documento", "STRING"),
        ("fecha_corte", "INT"),
        ("score", "DECIMAL(9,4)"),
        ("delta_score", "DECIMAL(9,4)"),
        ("segmento", "STRING"),
        ("fecha_actualizacion", "TIMESTAMP"),
        ("observacion", "STRING"),
    )
    return DemoTable("resultados_riesgos.alter_ctra_score_delta", cols, frame)


def _segmento_cliente(rng: np.random.Generator, v: Variant) -> DemoTable:
    """One row per client, numeric partition key, no sort key; clean."""
    rows = v.rows
    frame = pd.DataFrame(
        {
            "id_cliente": (10_000_000 + rng.permutation(rows)).astype(np.int64),
            "segmento": SEGMENTOS[rng.integers(0, len(SEGMENTOS), rows)],
            "subsegmento": _with_nulls(pd.Series(rng.integers(1, 9, rows)).map(lambda i: f"Nivel {i}"), rng, 0.25),
            "saldo_total": decimal_text(rng.integers(0, 5_000_000_000, rows), 2),
            "fecha_vinculacion": _dates(rng, rows, "2005-01-01", 7_600),
            "activo": rng.random(rows) < 0.93,
        }
    )
    cols = (
        ("id_cliente", "BIGINT"),
        ("segmento", "STRING"),
        ("subsegmento", "STRING"),
        ("saldo_total", "DECIMAL(18,2)"),
        ("fecha_vinculacion", "DATE"),
        ("activo", "BOOLEAN"),
    )
    return DemoTable("resultados_riesgos.alter_ctra_segmento_cliente", cols, frame)


def _oferta_producto(rng: np.random.Generator, v: Variant) -> DemoTable:
    """Offers per client and product; string keys; one null sort key and 2 repeated keys."""
    rows = v.rows
    clients = rows // 5
    docs = (2_000_000_000 + rng.permutation(clients * 5)[:clients]).astype(str)
    products = np.stack([rng.choice(PRODUCTOS, 5, replace=False) for _ in range(clients)]).ravel()
    frame = pd.DataFrame(
        {
            "num_documento": pd.Series(np.repeat(docs, 5), dtype=object),
            "codigo_producto": pd.Series(products, dtype=object),
            "tasa": decimal_text(rng.integers(50_000, 400_000, rows), 4),
            "monto_maximo": _with_nulls(decimal_text(rng.integers(100_000_00, 900_000_000_00, rows), 2), rng, 0.15),
            "vigencia_hasta": _dates(rng, rows, "2026-12-01", 365),
            "canal": CANALES[rng.integers(0, len(CANALES), rows)],
            "descripcion": pd.Series(products).map(lambda p: f"Oferta preaprobada {p} – condición preferencial"),
        }
    )
    frame.loc[10, "codigo_producto"] = None  # null sort key
    for dup, orig in ((11, 500), (12, 501)):
        frame.loc[dup, ["num_documento", "codigo_producto"]] = frame.loc[
            orig, ["num_documento", "codigo_producto"]
        ].values
    cols = (
        ("num_documento", "STRING"),
        ("codigo_producto", "STRING"),
        ("tasa", "DECIMAL(7,4)"),
        ("monto_maximo", "DECIMAL(18,2)"),
        ("vigencia_hasta", "DATE"),
        ("canal", "STRING"),
        ("descripcion", "STRING"),
    )
    return DemoTable("resultados_comercial.alter_ctra_oferta_producto", cols, frame)


PRD_ROOT = "/opt/gitDevops/AW1003001_ProductizarLaAnalitica"


def _inventario(rng: np.random.Generator) -> DemoTable:
    """A plausible ``resultados.inventario_lz``: coordinators up to 1936 (the seed's example), ingestions,
    and the odd packages a hand-kept inventory collects (leading zeros, digits in the prefix, none)."""
    apis = ["BamRiesgosA18", "EcoMovilidad", "ScoreLeads", "OfertaDigital"]
    apps = ["CSD", "RSG", "CMR", "EVC"]
    rows = []
    for n in range(1880, 1937):
        api = apis[n % len(apis)]
        table = f"tabla_{api.lower()}_{n}"
        rows.append(
            (
                f"SQOOPDI{n}",
                table,
                "resultados_riesgos",
                f"SQPDI{n}CRD{apps[n % len(apps)]}",
                "Coordinador",
                f"{PRD_ROOT}/{api}/API/cfg/{table}.json",
                "DI",
                f"Carga a DynamoDB de {table} para el API {api}",
                f"analista{n % 7}@example.com",
                str(1 + n % 28),
                f"{5 + n % 4:02d}:00",
                "" if n % 3 else "Ejecución de la malla de riesgos",
            )
        )
    for n in range(400, 412):
        rows.append(
            (
                f"SQOOPME{n}",
                f"ingesta_fuente_{n}",
                "zona_cruda",
                f"SQPME{n}ING",
                "Sqoop",
                f"/data01/ingestas/fuente_{n}",
                "ME",
                "Ingesta mensual desde fuente transaccional",
                "ingestas@example.com",
                "5",
                "02:00",
                "",
            )
        )
    odd = [
        ("SQOOPME0042", "Consecutivo con ceros a la izquierda"),
        ("SQOOP2DI1500", "Dígito dentro del prefijo"),
        ("CARGA_MANUAL", "Paquete sin dígitos"),
        ("SQOOPDI1890B2", "Dos números en el paquete"),
    ]
    for pkg, desc in odd:
        rows.append(
            (
                pkg,
                "tabla_historica",
                "resultados_riesgos",
                f"SQP{pkg[5:]}CRDOLD",
                "Coordinador",
                f"{PRD_ROOT}/Historico/API/cfg/tabla_historica.json",
                "DI",
                desc,
                "soporte@example.com",
                "1",
                "04:00",
                "",
            )
        )
    order = rng.permutation(len(rows))
    frame = pd.DataFrame([rows[i] for i in order], columns=list(naming.INVENTORY_COLUMNS))
    return DemoTable(naming.INVENTORY_TABLE, tuple((c, "STRING") for c in naming.INVENTORY_COLUMNS), frame)


def demo_tables(variant: str = "local") -> list[DemoTable]:
    """The demo HU's three results-zone tables plus the inventory, always the same values for a variant."""
    rng = np.random.default_rng(SEED)
    return _shaped(rng, VARIANTS[variant]) + [_inventario(rng)]


def shaped_tables(v: Variant) -> list[DemoTable]:
    """The demo HU's three tables at ``v``'s size, planted defects included: the regression HU's exports
    are these at a few thousand rows (``tools/regression_exports.py``)."""
    return _shaped(np.random.default_rng(SEED), v)


def _shaped(rng: np.random.Generator, v: Variant) -> list[DemoTable]:
    return [_score_delta(rng, v), _segmento_cliente(rng, v), _oferta_producto(rng, v)]
