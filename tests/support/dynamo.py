"""The session's moto server as the load tests use it: one client, tables keyed as an HU table, item counts."""

import uuid

from productizar.cloud import aws
from productizar.core.environments import get_environment
from productizar.core.hu import TableSpec
from productizar.run.endpoints import resolve


def client():
    """A DynamoDB client of the embedded endpoint with one attempt: the loader under test does the retrying."""
    return aws.client(resolve(get_environment("local")), "dynamodb", max_attempts=1)


def create_table(spec: TableSpec, name: str | None = None) -> str:
    """An on-demand table with the keys of ``spec``, named ``name`` or a fresh one; returns its name."""
    name = name or f"prueba-carga-{uuid.uuid4().hex[:8]}"
    keys = [(spec.partition_key, "HASH")] + ([(spec.sort_key, "RANGE")] if spec.sort_key else [])
    client().create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": k.name, "KeyType": t} for k, t in keys],
        AttributeDefinitions=[{"AttributeName": k.name, "AttributeType": k.type} for k, _ in keys],
    )
    client().get_waiter("table_exists").wait(TableName=name)
    return name


def count_items(name: str) -> int:
    return sum(p["Count"] for p in client().get_paginator("scan").paginate(TableName=name, Select="COUNT"))
