"""The Glue job's code on local Spark (local[2]) against the moto server: the same items as the
single-machine loader, throttling absorbed, the budget split among the tasks."""

import json
import os
import sys
import time
from pathlib import Path

import duckdb
import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from productizar.cloud import aws
from productizar.core.environments import get_environment
from productizar.core.hu import Key, TableSpec
from productizar.dynamo import spark_load
from productizar.dynamo.loader import Controller, load_table
from productizar.local import embedded as localenv
from productizar.results_zone.duckdb import DuckDBResultsZone
from productizar.run.endpoints import resolve
from tests.support.clock import FakeClock

pytestmark = pytest.mark.spark
ROOT = Path(__file__).resolve().parents[2]
# the regression HU's tables (the demo's shapes at 4,000 rows): what a Glue job does with them proves no less
# than the demo's 10^5 rows would, at a twenty-fifth of moto's work
SOURCE = "resultados_riesgos.regresion_segmento_cliente"  # clean rows: decimals, dates, booleans
SOURCE_ROWS = 4_000
SCORE = "resultados_riesgos.regresion_score_delta"  # null, empty and repeated keys
SPARK_SOURCE = "resultados_riesgos.segmento_para_spark"  # seeded for the batch through the Spark engine


@pytest.fixture(scope="module")
def parquet(tmp_path_factory, embedded):
    """The regression HU's tables as Parquet files (what a Glue job reads from the table's location)."""
    folder = tmp_path_factory.mktemp("parquet")
    con = duckdb.connect(str(localenv.duckdb_path()), read_only=True)
    try:
        con.execute(f"COPY (SELECT * FROM {SOURCE}) TO '{folder / SOURCE}.parquet' (FORMAT PARQUET)")
        con.execute(f"COPY (SELECT * FROM {SCORE}) TO '{folder / SCORE}.parquet' (FORMAT PARQUET)")
    finally:
        con.close()
    return folder


@pytest.fixture(scope="module")
def source_zone(parquet, tmp_path_factory) -> DuckDBResultsZone:
    """A results zone holding the same rows as the Parquet file, for the single-machine loader."""
    path = tmp_path_factory.mktemp("zona") / "segmento.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA resultados_riesgos")
        con.execute(f"CREATE TABLE {SOURCE} AS SELECT * FROM read_parquet('{parquet / SOURCE}.parquet')")
    return DuckDBResultsZone(path)


@pytest.fixture(scope="module")
def dynamo():
    return aws.client(resolve(get_environment("local")), "dynamodb")


def create(client, name: str, keys: list[Key]) -> str:
    name = f"{name}-{int(time.time() * 1000) % 10**8}"
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": k.name, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"))],
        AttributeDefinitions=[{"AttributeName": k.name, "AttributeType": k.type} for k in keys],
    )
    return name


def scan_all(client, table: str) -> dict[str, dict]:
    """Every item, keyed by its key, with values as DynamoDB holds them."""
    out, kwargs = {}, {"TableName": table}
    des = TypeDeserializer()
    while True:
        page = client.scan(**kwargs)
        for it in page["Items"]:
            out[
                json.dumps(
                    {
                        k: str(des.deserialize(v))
                        for k, v in it.items()
                        if k in ("id_cliente", "num_documento", "fecha_corte")
                    },
                    sort_keys=True,
                )
            ] = it
        if "LastEvaluatedKey" not in page:
            return out
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_the_job_script_writes_exactly_the_items_of_the_single_machine_loader(parquet, source_zone, dynamo, tmp_path):
    spec = TableSpec(source=SOURCE, partition_key=Key(name="id_cliente", type="N"))
    single = create(dynamo, "unica", [spec.partition_key])
    on_spark = create(dynamo, "spark", [spec.partition_key])
    done = load_table(source_zone, dynamo, spec.model_copy(update={"dynamo_table": single}), rate_wcu=None)
    assert done.items_written == SOURCE_ROWS
    args = spark_load.JobArgs(
        SOURCE,
        on_spark,
        spec.partition_key,
        None,
        table_wcu=8000,
        write_share=0.5,
        tasks=2,
        parquet=str(parquet / f"{SOURCE}.parquet"),
        endpoint=localenv.moto_endpoint(),
    )
    tasks = spark_load.submit_local(
        args,
        tmp_path,
        ROOT / "jobs" / "cargar_dynamo.py",  # the job script itself
        aws.process_environment(resolve(get_environment("local"))),
    )
    assert len(tasks) == 2 and all(t.rows_read > 0 for t in tasks)  # both tasks worked
    assert sum(t.rows_read for t in tasks) == sum(t.items_written for t in tasks) == SOURCE_ROWS
    assert sum(t.refused + t.duplicates for t in tasks) == 0
    assert [t.budget_wcu for t in tasks] == [2000, 2000]  # 8000 x 0.5, split between the two tasks
    a, b = scan_all(dynamo, single), scan_all(dynamo, on_spark)
    assert len(a) == len(b) == SOURCE_ROWS
    assert a == b  # the same keys, every attribute with the same DynamoDB type and value


class Throttling:
    """A DynamoDB client that refuses the first calls of each task and leaves items unprocessed now and then,
    as a table at its capacity does."""

    def __init__(self, real, refuse: int = 3):
        self.real, self.refuse, self.calls = real, refuse, 0

    def __getattr__(self, name):  # DescribeTable and the rest: the real client
        return getattr(self.real, name)

    def batch_write_item(self, RequestItems, **kwargs):
        self.calls += 1
        if self.calls <= self.refuse:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "lento"}}, "BatchWriteItem"
            )
        ((table, requests),) = RequestItems.items()
        if self.calls % 4 == 0 and len(requests) > 1:  # half of the batch comes back unprocessed
            keep = requests[: len(requests) // 2]
            self.real.batch_write_item(RequestItems={table: keep})
            return {"UnprocessedItems": {table: requests[len(requests) // 2 :]}}
        return self.real.batch_write_item(RequestItems=RequestItems)


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark import cloudpickle
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # the workers' AWS credentials come from their environment, as on Glue from the job's role; moto takes any
    saved = dict(os.environ)
    os.environ.update(aws.process_environment(resolve(get_environment("local"))))
    # the throttling client below is defined here: ship it to the Python workers by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    work = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("pruebas-carga")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(work / "warehouse"))
        .getOrCreate()
    )
    yield session
    session.stop()
    os.environ.clear()
    os.environ.update(saved)


def test_throttled_tasks_retry_and_the_totals_still_match(parquet, dynamo, spark):
    table = create(dynamo, "estrangulada", [Key(name="num_documento", type="S"), Key(name="fecha_corte", type="N")])
    args = spark_load.JobArgs(
        SCORE,
        table,
        Key(name="num_documento", type="S"),
        Key(name="fecha_corte", type="N"),
        table_wcu=40_000,
        write_share=1.0,
        tasks=3,
        parquet=str(parquet / f"{SCORE}.parquet"),
        endpoint=localenv.moto_endpoint(),
    )

    def throttled(a):
        from productizar.dynamo.spark_load import dynamo_client

        return Throttling(dynamo_client(a))

    stats = spark_load.run(spark, args, client_factory=throttled)
    # refused calls and half-processed batches are both throttling (the wrapper's, and the endpoint's own:
    # 3 tasks ask 3 x 13,333 WCU of an on-demand table that serves 4,000 at once); every retry is one
    assert len(stats) == 3 and all(s.throttles > 3 for s in stats)
    assert all(s.retries == s.throttles + s.connection_errors for s in stats)
    rows = sum(s.rows_read for s in stats)
    refused, repeated = sum(s.refused for s in stats), sum(s.duplicates for s in stats)
    assert (rows, refused, repeated) == (4_000, 5, 4)  # the planted null/empty and repeated keys
    written = sum(s.items_written for s in stats)
    assert written == rows - refused - repeated == dynamo.describe_table(TableName=table)["Table"]["ItemCount"]


def test_each_task_takes_its_share_and_the_shares_sum_to_the_table_budget():
    assert spark_load.task_budget(8000, 0.5, 16) == 250
    budgets = [
        spark_load.JobArgs("z.t", "t", Key(name="k", type="S"), None, 3000, 0.4, n).task_wcu * n for n in (1, 3, 7, 12)
    ]
    assert budgets == pytest.approx([1200] * 4)
    clock = FakeClock()
    limiter = Controller(spark_load.task_budget(1000, 0.5, 4), clock=clock, sleep=clock.sleep)  # 125 units/s
    for _ in range(6):
        limiter.acquire(50)
    assert clock.now == pytest.approx(6 * 50 / 125, abs=1e-6)  # nothing saved up at the start


def test_job_arguments_round_trip_and_ignore_glues_own():
    args = spark_load.JobArgs(
        "zona.tabla",
        "t",
        Key(name="a", type="S"),
        Key(name="b", type="N"),
        100,
        0.5,
        4,
        parquet="s3://x/y",
        endpoint="http://127.0.0.1:1",
    )
    assert (
        spark_load.parse_args(args.to_argv() + ["--JOB_ID", "j_1", "--job-bookmark-option", "job-bookmark-disable"])
        == args
    )


def test_carga_sends_a_table_to_spark_says_why_and_verificacion_agrees(tmp_path):
    """The batch with ``load.engine: spark``: carga runs the job script on local Spark, the evidence says so, and
    the DynamoDB table verifies against the results zone. The table is seeded (4,000 rows, with the seed's null
    and repeated keys): what the job does with them is what the single-machine loader does."""
    import subprocess

    import yaml

    data = yaml.safe_load((ROOT / "parameters" / "hu" / "demo.yaml").read_text(encoding="utf-8"))
    data["load"]["engine"] = "spark"
    data["load"]["warm"] = "always"  # 4,000 items at the autoscaling minimum would take two hours
    data["tables"] = [{"source": SPARK_SOURCE, "partition_key": {"name": "id_cliente", "type": "N"}, "rows": 4_000}]
    data.pop("documents")
    hu_file = tmp_path / "hu.yaml"
    hu_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    env = dict(os.environ, PRODUCTIZAR_STATE_DIR=str(tmp_path / "state"), PRODUCTIZAR_OUTPUT_ROOT=str(tmp_path / "out"))
    seeded = [sys.executable, "-m", "productizar", "local", "seed", str(hu_file)]
    subprocess.run(seeded, env=env, check=True, capture_output=True, timeout=300)
    steps = "conteo,dimensionamiento,infraestructura,coordinadores,carga,verificacion"
    proc = subprocess.run(
        [sys.executable, "-m", "productizar", "run", str(hu_file), "--env", "local", "--steps", steps],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    out = tmp_path / "out" / "HU3575833" / "local"
    facts = {s["name"]: s["facts"] for s in json.loads((out / "summary.json").read_text())["steps"]}
    assert facts["carga"]["engines"] == {SPARK_SOURCE: {"engine": "spark", "reason": "la HU fija load.engine: spark"}}
    loaded = facts["carga"]["tables"][SPARK_SOURCE]
    assert loaded["rows_read"] == 4_000
    # 2 null keys refused, 4 repeated keys collapsed: the items conteo expected
    assert loaded["items_written"] == facts["conteo"]["tables"][SPARK_SOURCE]["expected_items"] == 3_994
    assert facts["verificacion"]["verdict"] == "pass"
    assert facts["coordinadores"]["glue_job"]["script"].endswith("/scripts/cargar_dynamo.py")
    html = (out / "carga.html").read_text(encoding="utf-8")
    assert "Glue/Spark" in html and "la HU fija load.engine: spark" in html and "Spark local" in html
    # the job's input (a copy of results-zone data) is kept with the step's state, not in the evidence
    assert not list((out / "carga").rglob("*.parquet"))
    assert [p.name for p in (out / ".state" / "carga" / "parquet").iterdir()] == [f"{SPARK_SOURCE}.parquet"]
