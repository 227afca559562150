"""The session's embedded default as the tests use it: the resolved environment, clients, tables keyed as an
HU table, item counts. Resolved when called, never at import: a module that only imports this starts no
server (the tests that call it ask for the ``embedded`` fixture)."""

import uuid
from collections.abc import Callable
from typing import Any

from productizar.cloud import aws
from productizar.core import paths
from productizar.core.environments import Environment, get_environment
from productizar.core.hu import TableSpec, load_hu
from productizar.run.endpoints import resolve


def local(name: str = "local") -> Environment:
    """An embedded environment, resolved against the running server."""
    return resolve(get_environment(name))


def clients(env: Environment | str = "local") -> Callable[[str], Any]:
    """One client per service of an embedded environment: its name (resolved now) or the environment itself."""
    return aws.clients(local(env) if isinstance(env, str) else env)


def strict() -> Environment:
    """The embedded default checked as against real AWS: a missing property fails, none is a known gap."""
    return local().model_copy(update={"known_gaps": []})


def client():
    """A DynamoDB client of the embedded endpoint with one attempt: the loader under test does the retrying."""
    return aws.client(local(), "dynamodb", max_attempts=1)


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


def spec_for(source: str, table: str, **keys) -> TableSpec:
    """The demo HU's table ``source`` as loaded into ``table`` (keys overridden by ``keys``)."""
    base = next(
        t for t in load_hu(paths.project_root() / "parameters" / "hu" / "demo.yaml").tables if t.source == source
    )
    return base.model_copy(update={"dynamo_table": table, **keys})
