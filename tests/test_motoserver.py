"""The embedded AWS endpoint serializes requests, so concurrent writers lose nothing.

moto's own server, with the interpreter switching threads often, loses the first items of a partition key
that two ``BatchWriteItem`` calls create at once (measured 6 of 80,000; the CI run that showed it lost one
item of the demo's 100,000). The same workload against ``productizar.local.motoserver`` must lose none.
"""

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3

from productizar.local import loopback
from productizar.local.loopback import HOST
from productizar.local.motoserver import Serialized


def test_serialized_runs_one_request_at_a_time_and_closes_each_body():
    inside, most, closed = 0, 0, []
    guard = threading.Lock()

    class Body(list):
        def close(self):
            closed.append(1)

    def app(environ, start_response):
        nonlocal inside, most
        with guard:
            inside += 1
            most = max(most, inside)
        time.sleep(0.01)
        with guard:
            inside -= 1
        start_response("200 OK", [])
        return Body([environ["n"].encode()])

    serialized = Serialized(app)
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda n: serialized({"n": str(n)}, lambda *a: None), range(32)))
    assert most == 1
    assert bodies == [[str(n).encode()] for n in range(32)]
    assert len(closed) == 32


def _start(log) -> tuple[int, int]:
    # a tiny switch interval makes thread switches land inside moto's handlers, where the race is
    code = "import sys; sys.setswitchinterval(1e-6); from productizar.local.motoserver import main; main(sys.argv[1:])"
    started = loopback.spawn(
        lambda port: [sys.executable, "-c", code, "-H", HOST, "-p", str(port)],
        lambda port: f"http://{HOST}:{port}/moto-api/",
        log,
        30,
    )
    assert started, f"productizar.local.motoserver did not start; see {log}"
    return started


def _count(client, table: str) -> int:
    total, start = 0, None
    while True:
        page = client.scan(TableName=table, Select="COUNT", **({"ExclusiveStartKey": start} if start else {}))
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


def test_concurrent_batch_writes_to_the_same_new_partitions_lose_nothing(tmp_path):
    pid, port = _start(tmp_path / "moto.log")
    try:
        ddb = boto3.client(
            "dynamodb",
            endpoint_url=f"http://{HOST}:{port}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        ddb.create_table(
            TableName="carrera",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        # 8 writers at a time, each adding one sort key to the same 25 partitions that do not exist yet
        batches = [
            [{"pk": {"S": f"{r}-{k}"}, "sk": {"N": str(w)}} for k in range(25)] for r in range(300) for w in range(8)
        ]
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda b: ddb.batch_write_item(RequestItems={"carrera": [{"PutRequest": {"Item": i}} for i in b]}),
                    batches,
                )
            )
        assert _count(ddb, "carrera") == 300 * 8 * 25
    finally:
        assert loopback.stop(pid, "productizar.local.motoserver")
