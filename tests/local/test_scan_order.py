"""The embedded endpoint's Scan keeps each table's key order between pages (``local.scan_order``) and answers
exactly what moto's own Scan answers: the same items in the same order, the same pages, ``LastEvaluatedKey``,
``ScannedCount`` and consumed capacity, also when the table changes between two pages."""

import sys

import boto3
import pytest

from productizar.local import loopback, motoserver
from productizar.local.embedded import capacity_model
from productizar.local.scan_order import READS, KeptScanOrder, ScanOrder

WITH_SORT, HASH_ONLY = "con-orden", "sin-orden"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Two metered servers side by side: moto's Scan (``--scan-as-moto``) and the kept order, same items."""
    log = tmp_path_factory.mktemp("scan") / "servers.log"
    rules, scale = capacity_model()
    started = []
    for extra in (["--scan-as-moto"], []):
        found = loopback.spawn(
            lambda port, extra=extra: [
                *(sys.executable, "-m", motoserver.MARKER, "-H", loopback.HOST, "-p", str(port)),
                *("--capacity-rules", str(rules), "--time-scale", str(scale), *extra),
            ],
            lambda port: f"http://{loopback.HOST}:{port}/moto-api/",
            log,
            30,
        )
        assert found, f"the server did not start; see {log}"
        started.append(found)
    clients = [_client(port) for _, port in started]
    for ddb in clients:
        _fill(ddb)
    yield clients
    for pid, _ in started:
        loopback.stop(pid, motoserver.MARKER)


def _client(port: int):
    return boto3.client(
        "dynamodb",
        endpoint_url=f"http://{loopback.HOST}:{port}",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def _fill(ddb) -> None:
    """A table with a sort key (text partition keys, numeric sort keys, a few items of 20 KB, so some pages
    end at 1 MB) and one without (numeric partition keys), in the same order on both servers."""
    for name, keys in (
        (WITH_SORT, [("doc", "S", "HASH"), ("corte", "N", "RANGE")]),
        (HASH_ONLY, [("id", "N", "HASH")]),
    ):
        ddb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": n, "KeyType": k} for n, _, k in keys],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t, _ in keys],
        )
    items = [
        {
            "doc": {"S": f"{(n // 4) * 7919 % 1009:04d}ñ"},  # 1,000 partitions in no order, four items each
            "corte": {"N": str(20260100 + n % 4)},
            "texto": {"S": "á" * (10_000 if n % 29 == 0 else 20)},
        }
        for n in range(4000)
    ]
    for start in range(0, len(items), 25):
        ddb.batch_write_item(RequestItems={WITH_SORT: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]})
        ddb.batch_write_item(
            RequestItems={
                HASH_ONLY: [{"PutRequest": {"Item": {"id": {"N": str(-500 + start + k)}}}} for k in range(25)]
            }
        )


def _pages(ddb, between=None, **scan) -> list[dict]:
    """Every page of a Scan as answered (without the request's metadata); ``between(ddb, n)`` runs before page n."""
    pages, start = [], None
    while True:
        if between and pages:
            between(ddb, len(pages))
        page = ddb.scan(**scan, **({"ExclusiveStartKey": start} if start else {}))
        page.pop("ResponseMetadata")
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages


SCANS = {
    "whole, by size": {"TableName": WITH_SORT, "ReturnConsumedCapacity": "TOTAL"},
    "counted, 370 a page": {"TableName": WITH_SORT, "Select": "COUNT", "Limit": 370, "ConsistentRead": True},
    "segment 2 of 3": {
        "TableName": WITH_SORT,
        "Segment": 2,
        "TotalSegments": 3,
        "Limit": 101,
        "ReturnConsumedCapacity": "INDEXES",
    },
    "filtered": {
        "TableName": WITH_SORT,
        "Limit": 300,
        "FilterExpression": "corte = :c",
        "ExpressionAttributeValues": {":c": {"N": "20260102"}},
        "ProjectionExpression": "doc, corte",
    },
    "no sort key, segment 0 of 4": {"TableName": HASH_ONLY, "Segment": 0, "TotalSegments": 4, "Limit": 50},
    "no sort key, whole": {"TableName": HASH_ONLY, "Limit": 333, "ReturnConsumedCapacity": "TOTAL"},
}


@pytest.mark.server
@pytest.mark.parametrize("scan", SCANS.values(), ids=SCANS.keys())
def test_every_page_is_the_one_motos_own_scan_answers(servers, scan):
    moto_pages, kept_pages = (_pages(ddb, **scan) for ddb in servers)
    assert len(moto_pages) > 2
    assert kept_pages == moto_pages


@pytest.mark.server
def test_a_table_changed_between_two_pages_is_scanned_as_moto_scans_it(servers):
    def change(ddb, page):
        """Before each page: a new item after the last one read, the next one deleted, one rewritten."""
        ddb.put_item(TableName=HASH_ONLY, Item={"id": {"N": str(page * 40 + 1)}, "nuevo": {"S": "sí"}})
        ddb.delete_item(TableName=HASH_ONLY, Key={"id": {"N": str(page * 40 + 2)}})
        ddb.put_item(TableName=HASH_ONLY, Item={"id": {"N": str(page * 40 + 3)}, "cambiado": {"N": str(page)}})

    moto_pages, kept_pages = (_pages(ddb, change, TableName=HASH_ONLY, Limit=40) for ddb in servers)
    assert any("nuevo" in item for page in kept_pages for item in page["Items"])
    assert kept_pages == moto_pages


def test_only_dynamodbs_reads_keep_the_order():
    forgotten = []

    class Order(ScanOrder):
        def forget(self):
            forgotten.append(True)

    def app(environ, start_response):
        return [b""]

    kept = KeptScanOrder(app, Order())
    for target in sorted(READS):
        kept({"HTTP_X_AMZ_TARGET": f"DynamoDB_20120810.{target}"}, None)
    assert forgotten == []
    for target in ("DynamoDB_20120810.PutItem", "DynamoDB_20120810.BatchWriteItem", "DynamoDB_20120810.DeleteTable"):
        kept({"HTTP_X_AMZ_TARGET": target}, None)
    kept({"PATH_INFO": "/moto-api/reset"}, None)  # no target: CloudFormation, a reset, anything else
    assert len(forgotten) == 4
