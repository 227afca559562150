"""A table's profile in the results zone: rows, bad keys, repeated keys, the sort key's range, the busiest
partition key, each in Hive SQL that the evidence shows as it ran.

DynamoDB refuses an item with a null or empty key and silently keeps only the last of several items with
the same key, so both are counted before anything is loaded; the load and its verification later compare
against ``expected_items``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd
import sqlglot
from pydantic import BaseModel, ConfigDict, computed_field

from productizar.core.errors import KeyColumnsMissing, TablesMissing
from productizar.core.hu import TableSpec
from productizar.results_zone.base import ResultsZone, quote, table_ref


def _bad_key(col: str) -> str:
    """Hive SQL: the key value is null, or empty once trimmed (DynamoDB rejects both)."""
    return f"({quote(col)} IS NULL OR trim(CAST({quote(col)} AS STRING)) = '')"


def _pretty(hive_sql: str) -> str:
    """Hive SQL laid out for reading; the same text is what runs and what the evidence shows."""
    return sqlglot.transpile(hive_sql, read="hive", write="hive", pretty=True)[0]


def profile_sql(t: TableSpec) -> str:
    """Hive SQL for rows, rows with a bad key and the sort key's range, in one scan."""
    bad = " OR ".join(_bad_key(k) for k in t.key_names)
    cols = [
        "count(*) AS total_rows",
        f"coalesce(sum(CASE WHEN {bad} THEN 1 ELSE 0 END), 0) AS null_key_rows",
    ]
    if t.sort_key:
        cols += [f"min({quote(t.sort_key.name)}) AS sort_min", f"max({quote(t.sort_key.name)}) AS sort_max"]
    return _pretty(f"SELECT {', '.join(cols)} FROM {table_ref(t.source)}")


def duplicates_sql(t: TableSpec) -> str:
    """Hive SQL for keys present more than once among rows with a good key (grouped by name, not position)."""
    keys = ", ".join(quote(k) for k in t.key_names)
    good = " AND ".join(f"NOT {_bad_key(k)}" for k in t.key_names)
    inner = (
        f"SELECT {keys}, count(*) AS copies FROM {table_ref(t.source)} WHERE {good} GROUP BY {keys} HAVING count(*) > 1"
    )
    return _pretty(
        f"SELECT count(*) AS duplicate_keys, coalesce(sum(copies - 1), 0) AS duplicate_rows FROM ({inner}) dup"
    )


def hot_key_sql(t: TableSpec) -> str:
    """Hive SQL for the most rows sharing one partition key: they all land on one partition, which takes at
    most 1,000 write units a second whatever the table's capacity."""
    pk = quote(t.partition_key.name)
    good = f"NOT {_bad_key(t.partition_key.name)}"
    inner = f"SELECT {pk}, count(*) AS copies FROM {table_ref(t.source)} WHERE {good} GROUP BY {pk}"
    return _pretty(f"SELECT coalesce(max(copies), 0) AS max_rows_per_partition_key FROM ({inner}) per_key")


def _plain(value: Any) -> Any:
    """numpy and pandas scalars as JSON-friendly Python values."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


class TableCount(BaseModel):
    """One table's profile; also the record ``conteo`` hands on (``expected_items`` is derived, never stored
    apart from the counts it comes from)."""

    model_config = ConfigDict(frozen=True)

    source: str
    partition_key: str
    sort_key: str | None
    rows: int
    null_key_rows: int
    duplicate_keys: int
    duplicate_rows: int
    sort_min: Any
    sort_max: Any
    max_rows_per_partition_key: int
    sql: tuple[str, ...]
    # where the rows came from, when the engine records it (a table seeded on the embedded default)
    origin: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def expected_items(self) -> int:
        """Items DynamoDB will hold after a full load: bad keys refused, repeated keys collapsed."""
        return self.rows - self.null_key_rows - self.duplicate_rows

    def as_fact(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def count_table(zone: ResultsZone, t: TableSpec) -> TableCount:
    sqls = (profile_sql(t), duplicates_sql(t), hot_key_sql(t))
    prof = zone.query(sqls[0]).to_dict("records")[0]  # per column, so ints stay ints
    dup = zone.query(sqls[1]).to_dict("records")[0]
    hot = zone.query(sqls[2]).to_dict("records")[0]
    return TableCount(
        source=t.source,
        partition_key=t.partition_key.name,
        sort_key=t.sort_key.name if t.sort_key else None,
        rows=int(prof["total_rows"]),
        null_key_rows=int(prof["null_key_rows"]),
        duplicate_keys=int(dup["duplicate_keys"]),
        duplicate_rows=int(dup["duplicate_rows"]),
        sort_min=_plain(prof["sort_min"]) if t.sort_key else None,
        sort_max=_plain(prof["sort_max"]) if t.sort_key else None,
        max_rows_per_partition_key=int(hot["max_rows_per_partition_key"]),
        sql=sqls,
        origin=zone.origin(t.source),
    )


def check_key_columns(zone: ResultsZone, tables: list[TableSpec]) -> None:
    """Every key column the HU names exists in its table (``tables`` in the HU's order, so the field path
    names the HU's entry); all the missing ones are reported at once, before any query uses them."""
    problems = []
    for i, t in enumerate(tables):
        cols = zone.columns(t.source)
        have = {c.lower() for c in cols}
        for role, key in (("partition_key", t.partition_key), ("sort_key", t.sort_key)):
            if key is not None and key.name.lower() not in have:
                problems.append((f"tables[{i}].{role}.name", t.source, key.name, cols))
    if problems:
        raise KeyColumnsMissing(problems, zone.describe())


def count_tables(zone: ResultsZone, tables: list[TableSpec], max_workers: int = 4) -> list[TableCount]:
    """Count every table, at most ``max_workers`` at once (each query on its own connection).

    All missing tables are reported together before anything is counted.
    """
    missing = [t.source for t in tables if not zone.table_exists(t.source)]
    if missing:
        raise TablesMissing(missing, zone.describe())
    check_key_columns(zone, tables)
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(tables)))) as pool:
        return list(pool.map(lambda t: count_table(zone, t), tables))
