"""A private embedded endpoint with DynamoDB's capacity model and a compressed clock, for the capacity tests."""

import contextlib
import sys
import uuid
from pathlib import Path

import boto3
from botocore.config import Config

from productizar.local import loopback, motoserver

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "parameters" / "sizing.yaml"


@contextlib.contextmanager
def server(log: Path, time_scale: float):
    """``python -m productizar.local.motoserver --capacity-rules parameters/sizing.yaml --time-scale N``."""

    def argv(port):
        return [sys.executable, "-m", motoserver.MARKER, "-H", loopback.HOST, "-p", str(port)] + [
            "--capacity-rules",
            str(RULES),
            "--time-scale",
            str(time_scale),
        ]

    started = loopback.spawn(argv, lambda port: f"http://{loopback.HOST}:{port}/moto-api/", log, 30)
    assert started, log.read_text()
    pid, port = started
    try:
        yield f"http://{loopback.HOST}:{port}"
    finally:
        loopback.stop(pid, motoserver.MARKER)


def client(url: str, service: str = "dynamodb", attempts: int = 1):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="pruebas",
        aws_secret_access_key="pruebas",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}, read_timeout=10, connect_timeout=5),
    )


def table(url: str, wcu: int | None = None, rcu: int = 5, keys=(("id", "S"), ("n", "N")), name: str = "") -> str:
    """A table keyed by ``keys`` (partition, then sort): provisioned with ``wcu`` write units, or on demand."""
    name = name or f"capacidad-{uuid.uuid4().hex[:8]}"
    billing = (
        {"BillingMode": "PROVISIONED", "ProvisionedThroughput": {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu}}
        if wcu
        else {"BillingMode": "PAY_PER_REQUEST"}
    )
    client(url).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": k, "KeyType": t} for (k, _), t in zip(keys, ("HASH", "RANGE"))],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": a} for k, a in keys],
        **billing,
    )
    return name


def count(url: str, name: str) -> int:
    pages = client(url, attempts=10).get_paginator("scan").paginate(TableName=name, Select="COUNT")
    return sum(p["Count"] for p in pages)
