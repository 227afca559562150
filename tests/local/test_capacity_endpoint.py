"""The embedded endpoint's metering, in front of moto's own DynamoDB app in this process on a virtual clock:
a batch beyond the table's capacity comes back in part as ``UnprocessedItems`` (what fits is written, and
only that), the units consumed are answered, capacity refills with time, a single write beyond it is
refused as AWS refuses it, and reads are charged by size."""

import json
import uuid

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.test import Client

from productizar.core.capacity import CapacityRules
from productizar.local.capacity_endpoint import TARGET_PREFIX, Metered

SIGNED = (
    "AWS4-HMAC-SHA256 Credential=AKIAPRUEBA/20261207/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"
)


class Endpoint:
    """moto's DynamoDB in this process behind the meter, called as botocore calls it."""

    def __init__(self):
        self.now = 1000.0
        self.app = Client(
            Metered(DomainDispatcherApplication(create_backend_app), CapacityRules(), clock=lambda: self.now)
        )

    def call(self, op: str, **payload) -> tuple[int, dict]:
        answer = self.app.post(
            "/",
            data=json.dumps(payload),
            headers={
                "Host": "dynamodb.us-east-1.amazonaws.com",
                "X-Amz-Target": TARGET_PREFIX + op,
                "Content-Type": "application/x-amz-json-1.0",
                "Authorization": SIGNED,
            },
        )
        return answer.status_code, json.loads(answer.data or b"{}")


def puts(n: int, start: int = 0) -> list[dict]:
    return [{"PutRequest": {"Item": {"id": {"S": f"k{i}"}, "v": {"S": "x" * 100}}}} for i in range(start, start + n)]


def test_a_batch_beyond_capacity_is_written_in_part_and_the_rest_handed_back():
    api, table = Endpoint(), f"medida-{uuid.uuid4().hex[:8]}"
    status, _ = api.call(
        "CreateTable",
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    assert status == 200
    status, first = api.call(
        "BatchWriteItem", RequestItems={table: puts(25)}, ReturnConsumedCapacity="TOTAL"
    )  # a new table serves one second of its capacity at once: 5 one-unit items
    assert status == 200 and len(first["UnprocessedItems"][table]) == 20
    assert first["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 5.0}]
    api.now += 2  # two seconds at 5 WCU
    _, second = api.call("BatchWriteItem", RequestItems={table: puts(20, 5)}, ReturnConsumedCapacity="TOTAL")
    assert len(second["UnprocessedItems"][table]) == 10
    status, refused = api.call("PutItem", TableName=table, Item={"id": {"S": "otra"}})
    assert status == 400 and refused["__type"].endswith("#ProvisionedThroughputExceededException")
    _, counted = api.call("Scan", TableName=table, Select="COUNT", ReturnConsumedCapacity="TOTAL")
    assert counted["Count"] == 15  # what was admitted was written, and only that
    # an eventually consistent read of 15 items of about 110 bytes: one 4-KB unit at half price
    assert counted["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 0.5}
