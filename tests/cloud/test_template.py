"""The template patcher: what the seed lists per table, round-tripped, idempotent, additions only."""

import io
from pathlib import Path

import pytest
import yaml as pyyaml
from pydantic import ValidationError
from ruamel.yaml import YAML

from productizar.cloud import template
from productizar.core import naming
from productizar.core.hu import HU, load_hu
from tests.support.cfn import load
from tests.support.hu import demo_with
from tests.support.runbook import RUNBOOK_TAGS

ROOT = Path(__file__).resolve().parents[2]
DEMO = load_hu(ROOT / "parameters" / "hu" / "demo.yaml")
TWO_TABLES = ROOT / "tests" / "fixtures" / "template_two_tables.yaml"


@pytest.fixture(scope="module")
def patched():
    return template.patch(template.new_api_template(DEMO), DEMO)


def test_each_table_gets_what_the_seed_lists(patched):
    doc = load(patched.text)
    params, res = doc["Parameters"], doc["Resources"]
    for t in DEMO.tables:
        n = t.names
        assert params[n.table_parameter]["Type"] == "String"
        assert params[n.read_capacity_parameter]["Type"] == "List<Number>"
        assert params[n.write_capacity_parameter]["Type"] == "List<Number>"
        table = res[n.table_resource]
        assert table["Type"] == "AWS::DynamoDB::Table"
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
        p = table["Properties"]
        assert p["SSESpecification"] == {
            "KMSMasterKeyId": {"!Ref": "s3KeyEncriptAlias"},
            "SSEEnabled": True,
            "SSEType": "KMS",
        }
        assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert p["TableName"] == {"!Ref": n.table_parameter}
        assert p["BillingMode"] == {"!If": ["IsDyTablesBillingModeProvisioned", "PROVISIONED", "PAY_PER_REQUEST"]}
        keys = [(t.partition_key.name, "HASH", t.partition_key.type)] + (
            [(t.sort_key.name, "RANGE", t.sort_key.type)] if t.sort_key else []
        )
        assert [(k["AttributeName"], k["KeyType"]) for k in p["KeySchema"]] == [(a, b) for a, b, _ in keys]
        assert [(a["AttributeName"], a["AttributeType"]) for a in p["AttributeDefinitions"]] == [
            (a, c) for a, _, c in keys
        ]
        assert {tag["Key"]: tag["Value"] for tag in p["Tags"]} == RUNBOOK_TAGS
        for kind, target in (("Read", 80), ("Write", 60)):
            st = res[f"{n.table_resource}{kind}ScalableTarget"]
            assert st["Condition"] == "IsDyTablesBillingModeProvisioned"
            assert st["Properties"]["ResourceId"] == {"!Sub": f"table/${{{n.table_resource}}}"}
            pol = res[f"{n.table_resource}{kind}ScalingPolicy"]["Properties"]
            assert pol["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == target
        for policy, suffixes in (
            (template.EKS_POLICY, ["", "/index/*", "/stream/*"]),
            (template.GLUE_POLICY, ["", "/index/*"]),
        ):
            assert n.table_resource in res[policy]["DependsOn"]
            statement = next(
                s
                for s in res[policy]["Properties"]["PolicyDocument"]["Statement"]
                if s.get("Sid") == template.TABLES_SID
            )
            assert {"!GetAtt": f"{n.table_resource}.Arn"} in statement["Resource"]
            for suffix in suffixes[1:]:
                assert {"!Sub": f"${{{n.table_resource}.Arn}}{suffix}"} in statement["Resource"]


def test_both_name_styles_and_shapes_are_in_the_demo(patched):
    ids = set(load(patched.text)["Resources"])
    assert {
        "DynamoAlterCtraScoreDeltaapi",
        "DynamoAlterCtraSegmentoClienteapi",
        "Dynamoalterctraofertaproductoapi",
    } <= ids
    segmento = load(patched.text)["Resources"]["DynamoAlterCtraSegmentoClienteapi"]["Properties"]
    assert len(segmento["KeySchema"]) == 1 and segmento["AttributeDefinitions"][0]["AttributeType"] == "N"


def glue_of(text: str, hu: HU) -> tuple:
    job = load(text)["Resources"][naming.glue_job_resource(hu.api.name)]["Properties"]
    return job["WorkerType"], job["NumberOfWorkers"], job["ExecutionProperty"]["MaxConcurrentRuns"]


def test_glue_job_figures_hu_first_then_sizing_then_defaults(patched):
    assert glue_of(patched.text, DEMO) == ("G.1X", 2, 3)  # defaults: one concurrent run per table
    recommended = {"WorkerType": "G.1X", "NumberOfWorkers": 5, "MaxConcurrentRuns": 3}
    sized = template.glue_settings(DEMO, recommended)
    assert sized["source"] == {
        "WorkerType": "dimensionamiento",
        "NumberOfWorkers": "dimensionamiento",
        "MaxConcurrentRuns": "dimensionamiento",
    }
    assert glue_of(template.patch(template.new_api_template(DEMO), DEMO, glue=sized).text, DEMO) == ("G.1X", 5, 3)
    hu = demo_with(glue={"worker_type": "G.2X", "number_of_workers": 6, "max_concurrent_runs": 2})
    mixed = template.glue_settings(hu, recommended)
    assert mixed["source"]["NumberOfWorkers"] == "HU"
    assert glue_of(template.patch(template.new_api_template(hu), hu, glue=mixed).text, hu) == ("G.2X", 6, 2)


def test_short_forms_and_comments_survive(patched):
    assert "Fn::" not in patched.text and "!GetAtt s3KeyEncript.Arn" in patched.text
    assert "!Equals [!Ref DyTablesBillingMode, PROVISIONED]" in patched.text  # flow style kept
    assert "# El runbook exige DependsOn explícito" in patched.text
    assert patched.text.startswith("# Plantilla base de un API de Productizar")


def test_applying_the_same_hu_twice_gives_the_same_bytes(patched):
    again = template.patch(patched.text, DEMO)
    assert not again.changed and again.text == patched.text and again.diff == ""
    assert sorted(again.already_present) == sorted(t.names.table_resource for t in DEMO.tables)


def test_existing_template_only_gains_additions():
    text = TWO_TABLES.read_text(encoding="utf-8")
    hu = demo_with(glue={"max_concurrent_runs": 2})  # the value the existing template already has
    result = template.patch(text, hu, name="template.yaml")
    removed = [line for line in result.diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert result.changed and removed == []
    assert sorted(result.not_in_hu) == ["DynamoAlterCtraHistoricoapi", "Dynamoalterctraalertasapi"]
    assert set(template.template_tables(result.text)) >= {
        "DynamoAlterCtraHistoricoapi",
        "Dynamoalterctraalertasapi",
        "DynamoAlterCtraScoreDeltaapi",
    }
    assert "# Tabla histórica, desplegada en la HU 3401122" in result.text
    # what the file had, it still has, in the same order
    old_lines = [line for line in text.splitlines() if line.strip()]
    new_lines = iter(line for line in result.text.splitlines() if line.strip())
    assert all(any(o == n for n in new_lines) for o in old_lines)
    assert template.patch(result.text, hu).text == result.text


def test_a_table_whose_keys_changed_is_a_conflict_not_an_edit():
    data = pyyaml.safe_load((ROOT / "parameters" / "hu" / "demo.yaml").read_text())
    first = template.patch(template.new_api_template(DEMO), DEMO).text
    data["tables"][0]["sort_key"] = {"name": "fecha_corte", "type": "S"}
    changed = HU.model_validate(data)
    result = template.patch(first, changed)
    assert result.conflicts and "DynamoAlterCtraScoreDeltaapi" in result.conflicts[0]
    assert "fecha_corte', 'RANGE', 'N'" in result.conflicts[0]


def test_template_without_the_runbook_resources_is_refused():
    with pytest.raises(template.TemplateError, match="job de Glue"):
        template.patch("Resources:\n  B:\n    Type: AWS::S3::Bucket\n", DEMO)


def test_single_word_api_names_are_refused_by_the_hu():
    data = pyyaml.safe_load((ROOT / "parameters" / "hu" / "demo.yaml").read_text())
    data["api"]["name"] = "Score"
    with pytest.raises(
        ValidationError, match=r'"Score" gives the same CloudFormation ID to the Glue job parameter and resource'
    ):
        HU.model_validate(data)


def test_a_file_indented_with_four_spaces_keeps_its_indentation():
    y = YAML()
    y.width = 4096
    y.indent(mapping=4, sequence=6, offset=4)
    buf = io.StringIO()
    y.dump(YAML().load(TWO_TABLES.read_text(encoding="utf-8")), buf)
    four = buf.getvalue()
    assert "\n    Environment:\n" in four
    result = template.patch(four, demo_with(glue={"max_concurrent_runs": 2}))
    assert not [line for line in result.diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert "\n    dynamoAlterCtraScoreDeltaapi:\n        Description:" in result.text
