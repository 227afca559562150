"""Issue 21, item 1: every infrastructure check seen passing on a right resource and failing on one that
differs by a single property. moto's CloudFormation skips SSE, PITR, autoscaling and Glue jobs, so the
resources are made here with moto's direct APIs (as AWS itself would hold them), and checked as against
real AWS (no known gaps)."""

import uuid
from pathlib import Path

import pytest
import yaml as pyyaml

from productizar.cloud.inspection import Checker
from productizar.core import naming
from productizar.core.hu import HU
from tests.support.dynamo import clients, strict
from tests.support.runbook import RUNBOOK_TAGS

pytestmark = pytest.mark.usefixtures("embedded")

ROOT = Path(__file__).resolve().parents[2]
GLUE = {"NumberOfWorkers": 4, "MaxConcurrentRuns": 3}
KEYS = ["exists", "keys", "billing_mode", "sse", "pitr", "tags", "initial_capacity"]
KEYS += ["read_autoscaling", "read_policy", "write_autoscaling", "write_policy"]


def one_table_hu() -> HU:
    data = pyyaml.safe_load((ROOT / "parameters" / "hu" / "demo.yaml").read_text(encoding="utf-8"))
    suffix = uuid.uuid4().hex[:6]
    data["api"] = {"name": f"InspeccionPrueba{suffix.capitalize()}", "slug": f"inspeccion-prueba-{suffix}"}
    data["tables"] = [dict(data["tables"][0], dynamo_table=f"dynamo-inspeccion-{suffix}")]
    return HU.model_validate(data)


def deploy(hu: HU, **wrong) -> None:
    """The table, its autoscaling and the Glue job as the runbook's template declares them, built with the
    direct APIs; ``wrong`` changes one property (sse, pitr, tags, capacity, read_min, read_target,
    write_max, write_target, workers, key_type, billing)."""
    t = hu.tables[0]
    name = t.names.dynamo_table
    aws_ = clients(strict())
    ddb, aas, glue = aws_("dynamodb"), aws_("application-autoscaling"), aws_("glue")
    kms = aws_("kms").create_key(Description="tablas del API")["KeyMetadata"]["KeyId"]
    sk_type = wrong.get("key_type", t.sort_key.type)
    create = {
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": t.partition_key.name, "AttributeType": t.partition_key.type},
            {"AttributeName": t.sort_key.name, "AttributeType": sk_type},
        ],
        "KeySchema": [
            {"AttributeName": t.partition_key.name, "KeyType": "HASH"},
            {"AttributeName": t.sort_key.name, "KeyType": "RANGE"},
        ],
        "Tags": [{"Key": k, "Value": v} for k, v in (wrong.get("tags") or RUNBOOK_TAGS).items()],
    }
    if wrong.get("billing") == "PAY_PER_REQUEST":
        create["BillingMode"] = "PAY_PER_REQUEST"
    else:
        read, write = wrong.get("capacity", (1, 1))
        create["BillingMode"] = "PROVISIONED"
        create["ProvisionedThroughput"] = {"ReadCapacityUnits": read, "WriteCapacityUnits": write}
    if wrong.get("sse") != "off":
        create["SSESpecification"] = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms}
    ddb.create_table(**create)
    if wrong.get("pitr") != "off":
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    for kind, (lo, hi), target in (("Read", (1, 50), 80.0), ("Write", (1, 8000), 60.0)):
        lo = wrong.get(f"{kind.lower()}_min", lo)
        hi = wrong.get(f"{kind.lower()}_max", hi)
        dimension = f"dynamodb:table:{kind}CapacityUnits"
        aas.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId=f"table/{name}",
            ScalableDimension=dimension,
            MinCapacity=lo,
            MaxCapacity=hi,
        )
        aas.put_scaling_policy(
            PolicyName=f"{name}{kind}ScalingPolicy",
            ServiceNamespace="dynamodb",
            ResourceId=f"table/{name}",
            ScalableDimension=dimension,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": wrong.get(f"{kind.lower()}_target", target),
                "PredefinedMetricSpecification": {"PredefinedMetricType": f"DynamoDB{kind}CapacityUtilization"},
            },
        )
    glue.create_job(
        Name=naming.glue_job_name(hu.api.slug),
        Role="arn:aws:iam::123456789012:role/glue",
        Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/cargar_dynamo.py"},
        WorkerType="G.1X",
        NumberOfWorkers=wrong.get("workers", GLUE["NumberOfWorkers"]),
        ExecutionProperty={"MaxConcurrentRuns": GLUE["MaxConcurrentRuns"]},
        GlueVersion="4.0",
    )


def checks_of(hu: HU) -> dict[str, str]:
    checker = Checker(strict(), clients(strict()))
    checker.table(hu, hu.tables[0])
    checker.glue_job(hu, GLUE)
    return {c.key: c.status.value for c in checker.results}


def test_a_table_and_job_as_the_runbook_declares_them_pass_every_check():
    hu = one_table_hu()
    deploy(hu)
    assert checks_of(hu) == {key: "pass" for key in KEYS + ["glue_job"]}


# each: the one property that differs, and the only check that must fail for it
ONE_WRONG = [
    ({"sse": "off"}, "sse"),
    ({"pitr": "off"}, "pitr"),
    ({"tags": RUNBOOK_TAGS | {"bancolombia:bkdiario": "si"}}, "tags"),
    ({"capacity": (1, 5)}, "initial_capacity"),
    ({"key_type": "S"}, "keys"),
    ({"read_max": 40}, "read_autoscaling"),  # a minimum above 1 would also raise the table, as AWS does
    ({"read_target": 70.0}, "read_policy"),
    ({"write_max": 4000}, "write_autoscaling"),
    ({"write_target": 50.0}, "write_policy"),
    ({"workers": 3}, "glue_job"),
]


@pytest.mark.parametrize("wrong,failing", ONE_WRONG, ids=[f for _, f in ONE_WRONG])
def test_one_property_off_fails_that_check_and_only_it(wrong, failing):
    hu = one_table_hu()
    deploy(hu, **wrong)
    found = checks_of(hu)
    assert found == {key: "fail" if key == failing else "pass" for key in KEYS + ["glue_job"]}


def test_an_on_demand_table_fails_billing_and_is_not_asked_for_capacity():
    hu = one_table_hu()
    deploy(hu, billing="PAY_PER_REQUEST")
    found = checks_of(hu)
    assert found["billing_mode"] == "fail" and found["exists"] == found["sse"] == found["pitr"] == "pass"


def test_what_was_never_deployed_fails_and_is_never_not_checkable():
    hu = one_table_hu()
    assert checks_of(hu) == {"exists": "fail", "glue_job": "fail"}
