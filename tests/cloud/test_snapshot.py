"""One environment's live state as a flat record, read from the embedded endpoint in accounts of its own:
a table's keys, billing, capacity, PITR, tags and items; what is missing said as missing; the account number
never a difference; and the keys sampled for the APIs present in every environment compared."""

import random

import pytest

from productizar.cloud import aws, snapshot
from productizar.core.environments import Environment
from productizar.core.hu import load_hu
from tests.support.dynamo import local, spec_for
from tests.support.hu import DEMO

SCORE = "resultados_riesgos.alter_ctra_score_delta"


def account_env() -> Environment:
    """The embedded environment in a fresh account (nothing another test made is there), read as real AWS:
    no property declared a known gap."""
    env = local()
    account = str(random.randrange(10**11, 10**12))
    return env.model_copy(update={"aws": env.aws.model_copy(update={"account_id": account}), "known_gaps": []})


def make_table(env: Environment, name: str, keys: list[str]) -> None:
    ddb = aws.client(env, "dynamodb")
    ddb.create_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
        KeySchema=[
            {"AttributeName": "num_documento", "KeyType": "HASH"},
            {"AttributeName": "fecha_corte", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "num_documento", "AttributeType": "S"},
            {"AttributeName": "fecha_corte", "AttributeType": "N"},
        ],
        Tags=[{"Key": "bancolombia:clasificacion-confidencialidad", "Value": "confidencial"}],
    )
    for k in keys:
        ddb.put_item(TableName=name, Item={"num_documento": {"S": k}, "fecha_corte": {"N": "20261101"}})


@pytest.mark.usefixtures("embedded")
def test_a_tables_configuration_and_items_are_read_as_one_flat_record():
    env = account_env()
    spec = spec_for(SCORE, "tabla-snapshot")
    make_table(env, "tabla-snapshot", ["1", "2", "3"])
    values = snapshot.table_values(aws.clients(env), spec, env)
    prefix = f"tablas.{spec.names.table}"
    assert values[f"{prefix}.existe"] == "sí"
    assert values[f"{prefix}.claves"] == "num_documento:S:HASH, fecha_corte:N:RANGE"
    assert (values[f"{prefix}.billing_mode"], values[f"{prefix}.read_capacity"]) == ("PROVISIONED", 5)
    assert values[f"{prefix}.write_capacity"] == 7 and values[f"{prefix}.items"] == 3
    assert values[f"{prefix}.tags.bancolombia:clasificacion-confidencialidad"] == "confidencial"
    assert values[f"{prefix}.pitr"] == "DISABLED"
    gapped = env.model_copy(update={"known_gaps": ["pitr", "sse"]})
    said = snapshot.table_values(aws.clients(gapped), spec, gapped, count=False)
    assert said[f"{prefix}.pitr"] == said[f"{prefix}.sse"] == "no verificable aquí" and f"{prefix}.items" not in said


@pytest.mark.usefixtures("embedded")
def test_what_an_environment_lacks_is_said_and_its_account_is_never_a_difference():
    env = account_env()
    spec = spec_for(SCORE, "tabla-que-no-existe")
    missing = snapshot.table_values(aws.clients(env), spec, env)
    assert list(missing) == [f"tablas.{spec.names.table}.existe"]
    assert missing[f"tablas.{spec.names.table}.existe"].startswith("no (ResourceNotFoundException")
    assert snapshot.stack_values(aws.client(env, "cloudformation"), "stack-inexistente", env.aws.account_id) is None
    account = env.aws.account_id
    assert snapshot.normalize(f"arn:aws:iam::{account}:role/x", account) == "arn:aws:iam::<cuenta>:role/x"
    assert snapshot.normalize(7, account) == 7


@pytest.mark.usefixtures("embedded")
def test_the_apis_are_asked_only_keys_every_environment_holds():
    dev, qa = account_env(), account_env()
    spec = spec_for(SCORE, "tabla-comun")
    make_table(dev, "tabla-comun", ["1", "2", "3", "4"])
    make_table(qa, "tabla-comun", ["2", "4", "9"])
    hu = load_hu(DEMO).model_copy(update={"tables": [spec]})
    keys = snapshot.common_keys(hu, [aws.client(dev, "dynamodb"), aws.client(qa, "dynamodb")], n=5)
    assert sorted(k["num_documento"] for k in keys[spec.names.table]) == ["2", "4"]
