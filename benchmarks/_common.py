"""Shared set-up for the benchmarks: a private embedded default and synthetic results-zone tables."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
_TMP = Path(tempfile.mkdtemp(prefix="productizar-bench-"))
os.environ.setdefault("PRODUCTIZAR_STATE_DIR", str(_TMP / "state"))

from productizar.cloud import aws  # noqa: E402
from productizar.core.environments import get_environment  # noqa: E402
from productizar.core.hu import TableSpec  # noqa: E402
from productizar.local import embedded as localenv  # noqa: E402
from productizar.results_zone.duckdb import DuckDBResultsZone  # noqa: E402
from productizar.run.endpoints import resolve  # noqa: E402

SPEC = TableSpec(
    source="bench.clientes",
    partition_key={"name": "num_documento", "type": "S"},
    sort_key={"name": "periodo", "type": "N"},
)


def up() -> None:
    localenv.up()


def down() -> None:
    localenv.down(purge=True)


def local():
    """The embedded default, resolved (after ``up``)."""
    return resolve(get_environment("local"))


def client():
    return aws.client(local(), "dynamodb", max_attempts=1)


def results_zone(rows: int) -> DuckDBResultsZone:
    """A results-zone table of ``rows`` rows (~300-byte items) in a private DuckDB file."""
    import duckdb

    path = _TMP / f"zone_{rows}.duckdb"
    if not path.exists():
        con = duckdb.connect(str(path))
        con.execute("CREATE SCHEMA bench")
        con.execute(f"""CREATE TABLE bench.clientes AS SELECT
            lpad(CAST(range // 4 AS VARCHAR), 10, '0') AS num_documento, 202601 + range % 4 AS periodo,
            CAST(range % 100000 AS DECIMAL(18,2)) / 7 AS saldo,
            DATE '2020-01-01' + CAST(range % 2000 AS INTEGER) AS fecha,
            'Segmento ' || CAST(range % 5 AS VARCHAR) AS segmento, repeat('x', 180) AS detalle
            FROM range({rows})""")
        con.close()
    return DuckDBResultsZone(path)


def new_table(wcu: int | None = None, rcu: int = 5, ddb=None) -> str:
    """A table keyed as ``SPEC``: on demand, or provisioned with ``wcu`` write units; in the embedded default,
    or through the DynamoDB client ``ddb``."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    billing = (
        {"BillingMode": "PROVISIONED", "ProvisionedThroughput": {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu}}
        if wcu
        else {"BillingMode": "PAY_PER_REQUEST"}
    )
    (ddb or client()).create_table(
        TableName=name,
        **billing,
        KeySchema=[
            {"AttributeName": "num_documento", "KeyType": "HASH"},
            {"AttributeName": "periodo", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "num_documento", "AttributeType": "S"},
            {"AttributeName": "periodo", "AttributeType": "N"},
        ],
    )
    return name


def converted_items(zone: DuckDBResultsZone) -> list[dict]:
    """Every row of the benchmark table as a DynamoDB item, converted beforehand (the raw ceiling's input)."""
    from productizar.dynamo.items import to_item

    return [to_item(r, SPEC) for chunk in zone.stream_table(SPEC.source) for r in chunk.to_dict("records")]


def bare_write(items: list[dict], table: str, workers: int) -> tuple[float, float]:
    """The raw ceiling: items already converted, written by bare parallel batch_write_item calls (no
    conversion, pacing or bookkeeping); returns (CPU seconds of this process, wall seconds)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    ddb = client()
    batches = [items[i : i + 25] for i in range(0, len(items), 25)]
    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(
            pool.map(
                lambda b: ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": i}} for i in b]}), batches
            )
        )
    return time.process_time() - cpu, time.perf_counter() - wall
