"""Verification finds what is wrong: a missing item, a changed attribute, a wrong key type, a missing tag,
PITR off (set with the direct APIs, since moto's CloudFormation ignores it)."""

import tempfile
import uuid
from pathlib import Path

import pytest
import yaml as pyyaml

from productizar.cloud import aws, stack, template
from productizar.core import naming
from productizar.core.hu import HU
from productizar.dynamo import verify, warming
from productizar.dynamo.loader import load_table
from productizar.results_zone import profile
from productizar.steps import verificacion
from tests.support.dynamo import clients, local, strict

pytestmark = pytest.mark.usefixtures("embedded")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def loaded(small_zone):
    """A fresh stack for the score table only, loaded from the small results zone; never changed by a test
    (the one that breaks a table gets its own), so the tests pass in any order."""
    return deploy_and_load(small_zone)


def deploy_and_load(small_zone):
    data = pyyaml.safe_load((ROOT / "parameters" / "hu" / "demo.yaml").read_text())
    suffix = uuid.uuid4().hex[:6]
    data["api"] = {"name": f"VerificaPrueba{suffix.capitalize()}", "slug": f"verifica-prueba-{suffix}"}
    data["tables"] = [dict(data["tables"][0], dynamo_table=f"dynamo-verifica-{suffix}")]
    hu = HU.model_validate(data)
    text = template.patch(template.new_api_template(hu), hu).text
    stack.deploy(
        clients()("cloudformation"),
        naming.stack_name(hu.api.slug),
        text,
        stack.parameters(hu, "local", local()),
        poll_s=0.2,
        progress=lambda line: None,
    )
    # the stack's table starts at its autoscaling minimum (1 WCU): warmed for the load, as carga does
    journal = warming.Journal(Path(tempfile.mkdtemp()) / "warming")
    name = hu.tables[0].names.dynamo_table
    aws_ = clients()
    with warming.warmed(aws_("dynamodb"), aws_("application-autoscaling"), name, warming.WRITE, 2000, journal):
        load_table(small_zone, aws.client(local(), "dynamodb", max_attempts=1), hu.tables[0], share=0.5, chunk_rows=500)
    counts = {c.source: c.expected_items for c in profile.count_tables(small_zone, hu.tables)}
    return hu, counts


def warm_reads(table, size_bytes):
    """As verificacion does: the count reads the whole table, its reads are warmed for it."""
    journal = warming.Journal(Path(tempfile.mkdtemp()) / "warming")
    units = verificacion.read_units_needed(size_bytes, 5, sample_rows=5000)
    aws_ = clients()
    return warming.warmed(aws_("dynamodb"), aws_("application-autoscaling"), table, warming.READ, units, journal)


def checks_of(hu, zone, counts, env=None):
    found = verificacion.check_tables(hu, env or local(), zone, clients(), counts, sample_rows=5000, warm=warm_reads)
    return {c.key: c for c in found.checks}, found.mismatches


def test_a_faithful_load_passes(loaded, small_zone):
    hu, counts = loaded
    checks, mismatches = checks_of(hu, small_zone, counts)
    assert mismatches == []
    assert checks["item_count"].status == "pass" and checks["item_count"].found == "1995"
    assert checks["sample"].status == "pass"
    assert "1 con clave repetida en el origen" in checks["sample"].found
    assert {c.status for c in checks.values()} <= {"pass", "not_checkable"}


def test_missing_item_changed_attribute_missing_tag_and_pitr(small_zone):
    hu, counts = deploy_and_load(small_zone)  # its own: it deletes, changes and untags
    table = hu.tables[0].names.dynamo_table
    ddb = clients()("dynamodb")
    items = ddb.scan(TableName=table, Limit=2)["Items"]
    gone, changed = items[0], items[1]
    ddb.delete_item(TableName=table, Key={k: gone[k] for k in ("num_documento", "fecha_corte")})
    ddb.update_item(
        TableName=table,
        Key={k: changed[k] for k in ("num_documento", "fecha_corte")},
        UpdateExpression="SET segmento = :s",
        ExpressionAttributeValues={":s": {"S": "Otro segmento"}},
    )
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    ddb.untag_resource(ResourceArn=arn, TagKeys=["bancolombia:cumplimiento"])
    checks, mismatches = checks_of(hu, small_zone, counts, strict())
    assert checks["item_count"].status == "fail" and checks["item_count"].found == "1994"
    assert checks["sample"].status == "fail"
    gone_key = f"{gone['num_documento']['S']} / {gone['fecha_corte']['N']}"
    assert {"Clave": gone_key, "Atributo": "(ítem)", "DynamoDB": "no está en DynamoDB"}.items() <= next(
        m for m in mismatches if m["Clave"] == gone_key
    ).items()
    seg = next(m for m in mismatches if m["Atributo"] == "segmento")
    assert seg["DynamoDB"] == "{'S': 'Otro segmento'}" and seg["Origen"] != seg["DynamoDB"]
    assert checks["tags"].status == "fail" and "cumplimiento" in checks["tags"].found
    assert checks["pitr"].status == "fail"  # moto's CloudFormation ignored it
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    checks, _ = checks_of(hu, small_zone, counts, strict())
    assert checks["pitr"].status == "pass"
    on_local, _ = checks_of(hu, small_zone, counts, local())
    assert on_local["sse"].status == "not_checkable"  # a known gap of the emulator, never a pass


def test_a_wrong_key_type_is_caught(small_zone, loaded):
    hu, counts = loaded
    wrong = f"dynamo-verifica-tipo-{uuid.uuid4().hex[:6]}"
    clients()("dynamodb").create_table(
        TableName=wrong,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "num_documento", "KeyType": "HASH"},
            {"AttributeName": "fecha_corte", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "num_documento", "AttributeType": "S"},
            {"AttributeName": "fecha_corte", "AttributeType": "S"},
        ],
    )
    hu_wrong = hu.model_copy(update={"tables": [hu.tables[0].model_copy(update={"dynamo_table": wrong})]})
    checks, _ = checks_of(hu_wrong, small_zone, counts)
    assert checks["keys"].status == "fail" and "'fecha_corte', 'RANGE', 'S'" in checks["keys"].found


def test_segments_grow_with_table_size():
    assert verify.segments_for(0) == 1 and verify.segments_for(10 * 1024 * 1024) == 3
    assert verify.segments_for(10**12) == verify.MAX_SEGMENTS
