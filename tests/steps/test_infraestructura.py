"""Scans for real (cfn-lint, checkov), deploy and checks against the moto server, pipeline companions."""

import json
import uuid
from pathlib import Path

import pytest
import yaml as pyyaml

from productizar.cloud import aws, inspection, pipeline, scans, stack, template
from productizar.core import naming
from productizar.core.environments import get_environment
from productizar.core.errors import ProductizarError
from productizar.core.hu import HU, load_hu
from productizar.run.registry import spec
from productizar.run.step import Step
from productizar.steps import infraestructura
from tests.support.dynamo import clients, local

ROOT = Path(__file__).resolve().parents[2]
DEMO_PATH = ROOT / "parameters" / "hu" / "demo.yaml"
DEMO = load_hu(DEMO_PATH)


def unique_hu(**api) -> HU:
    """The demo HU under a fresh API and table names, so each test owns its stack on the shared server."""
    data = pyyaml.safe_load(DEMO_PATH.read_text())
    suffix = uuid.uuid4().hex[:6]
    data["api"] = {"name": "AlterCtraPrueba" + suffix.capitalize(), "slug": f"alter-ctra-prueba-{suffix}"} | api
    for t in data["tables"]:
        t["dynamo_table"] = f"dynamo-{t['source'].split('.')[1].replace('_', '-')}-{suffix}"
    return HU.model_validate(data)


# ------------------------------------------------------------------------------------------------ scans


@pytest.mark.scan
@pytest.mark.parametrize("source", ["base", "two_tables"])
def test_patched_templates_scan_clean_with_the_real_tools(tmp_path, source):
    text = (
        template.new_api_template(DEMO)
        if source == "base"
        else (ROOT / "tests" / "fixtures" / "template_two_tables.yaml").read_text()
    )
    path = tmp_path / "template.yaml"
    path.write_text(template.patch(text, DEMO).text)
    result = scans.scan(path)
    assert result.findings == [] and result.clean, result.table().to_string()
    assert result.checkov_passed > 40
    assert [s.rule for s in result.skipped] == ["CKV_AWS_18"] and result.skipped[0].fix.startswith("Es el bucket")
    assert "Escaneo limpio" in infraestructura.scan_verdict(result)


@pytest.mark.scan
def test_the_base_template_itself_scans_clean():
    result = scans.scan(template.BASE_TEMPLATE)
    assert result.clean and not result.findings


@pytest.mark.scan
def test_a_template_without_pitr_and_a_bad_property_is_caught(tmp_path):
    text = template.patch(template.new_api_template(DEMO), DEMO).text
    text = text.replace("PointInTimeRecoveryEnabled: true", "PointInTimeRecoveryEnabled: false", 1)
    text = text.replace("AttributeType: N", "AttributeType: X", 1)
    path = tmp_path / "template.yaml"
    path.write_text(text)
    result = scans.scan(path)
    rules = {f.rule for f in result.findings}
    assert "CKV_AWS_28" in rules and "E3030" in rules
    cfn = next(f for f in result.findings if f.rule == "E3030")
    assert cfn.line and cfn.resource.startswith("Resources/Dynamo") and cfn.fix
    with pytest.raises(ProductizarError, match="hallazgos"):
        infraestructura.scan_verdict(result)


# ------------------------------------------------------------------------------------- deploy and check


def deploy(hu: HU):
    text = template.patch(template.new_api_template(hu), hu).text
    lines: list[str] = []
    result = stack.deploy(
        aws.client(local(), "cloudformation"),
        naming.stack_name(hu.api.slug),
        text,
        stack.parameters(hu, "local", local()),
        poll_s=0.2,
        progress=lines.append,
    )
    return result, lines


@pytest.mark.usefixtures("embedded")
def test_deploy_on_moto_and_every_check_passes_or_is_a_known_gap():
    hu = unique_hu()
    result, lines = deploy(hu)
    assert result.action == "created" and result.status == "CREATE_COMPLETE"
    assert f"{naming.stack_name(hu.api.slug)}: CREATE_COMPLETE" in lines  # moto reports stack events only
    assert set(result.resources["Tipo"]) >= {"AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::IAM::Policy"}
    checks = inspection.inspect(hu, local(), clients(), template.glue_settings(hu))
    by_status = {s: [c for c in checks if c.status == s] for s in ("pass", "fail", "not_checkable")}
    assert by_status["fail"] == []
    assert {c.check for c in by_status["pass"]} >= {
        "existe y está ACTIVE",
        "claves y tipos",
        "modo de facturación",
        "etiquetas bancolombia:*",
        "capacidad inicial (lectura, escritura)",
        # moto's CloudFormation skips these; the endpoint registers them from the template itself
        "autoescalado de lectura (mín, máx)",
        "política de lectura (objetivo %)",
        "autoescalado de escritura (mín, máx)",
        "política de escritura (objetivo %)",
    }
    gaps = {c.check for c in by_status["not_checkable"]}
    assert gaps == {
        "cifrado SSE con KMS",
        "recuperación a un punto en el tiempo (PITR)",
        "job de Glue (workers, ejecuciones concurrentes)",
    }
    assert "Verificaciones" not in infraestructura.verdict(checks)

    again, _ = deploy(hu)  # the same template again: accepted as an update (moto) or "no updates" (AWS)
    assert again.action in {"updated", "unchanged"}


@pytest.mark.usefixtures("embedded")
def test_checks_catch_a_removed_tag_and_what_an_environment_without_gaps_lacks():
    hu = unique_hu()
    deploy(hu)
    ddb = aws.client(local(), "dynamodb")
    first = hu.tables[0].names.dynamo_table
    arn = ddb.describe_table(TableName=first)["Table"]["TableArn"]
    ddb.untag_resource(ResourceArn=arn, TagKeys=["bancolombia:bkdiario"])
    ddb.update_continuous_backups(
        TableName=first, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    strict = local().model_copy(update={"known_gaps": []})  # as against real AWS: a missing property fails
    checks = {(c.table, c.key): c for c in inspection.inspect(hu, strict, clients(), template.glue_settings(hu))}
    assert checks[(first, "tags")].status == "fail"
    assert "bancolombia:bkdiario" in checks[(first, "tags")].found
    assert checks[(first, "pitr")].status == "pass"  # set via the direct API
    second = hu.tables[1].names.dynamo_table
    assert checks[(second, "pitr")].status == "fail"
    assert checks[(second, "sse")].status == "fail"
    with pytest.raises(ProductizarError, match="Verificaciones que fallan") as failed:
        infraestructura.verdict(list(checks.values()))
    assert f"{second}: cifrado SSE con KMS (se esperaba" in str(failed.value)  # what to look at, not only where


@pytest.mark.usefixtures("embedded")
def test_a_failing_stack_is_reported_with_its_resource_and_reason():
    hu = unique_hu()
    taken = hu.tables[0].names.dynamo_table
    aws.client(local(), "dynamodb").create_table(
        TableName=taken,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(stack.StackFailed, match=f"Table already exists: {taken}"):
        deploy(hu)


def test_first_failure_reads_aws_events_newest_first():
    events = [
        {"StackName": "s", "LogicalResourceId": "s", "ResourceStatus": "ROLLBACK_COMPLETE"},
        {
            "StackName": "s",
            "LogicalResourceId": "TablaB",
            "ResourceStatus": "CREATE_FAILED",
            "ResourceStatusReason": "Resource creation cancelled",
        },
        {
            "StackName": "s",
            "LogicalResourceId": "TablaA",
            "ResourceStatus": "CREATE_FAILED",
            "ResourceStatusReason": "Table already exists",
        },
        {"StackName": "s", "LogicalResourceId": "s", "ResourceStatus": "CREATE_IN_PROGRESS"},
    ]
    assert stack.first_failure(events) == ("TablaA", "Table already exists")


def test_qa_without_confirmation_stops_after_the_scan(tmp_path):
    qa = get_environment("qa")
    step = Step(spec("infraestructura"), DEMO, DEMO_PATH, "qa", qa, tmp_path, "")
    plan = infraestructura.prepare(step)
    lines: list[str] = []
    assert infraestructura.deploy(step, plan, progress=lines.append) is None
    assert "exige --confirm 3575833" in lines[0]
    assert infraestructura.verify(step, plan, None) == []
    assert "simulación" in infraestructura.verdict([])


# -------------------------------------------------------------------------------------------- companions


@pytest.mark.usefixtures("embedded")
def test_first_deployment_runs_only_dev_and_the_files_land_as_in_the_repository(tmp_path):
    step = Step(spec("infraestructura"), DEMO, DEMO_PATH, "local", local(), tmp_path, "")
    plan = infraestructura.prepare(step)
    folder = tmp_path / "infraestructura" / "AlterCtraScoreDelta"
    assert (
        plan.folder == folder
        and (folder / "template.yaml").is_file()
        and (tmp_path / "infraestructura" / "template.diff").is_file()
    )
    azure = pyyaml.safe_load((folder / "azure.yaml").read_text())
    conditions = {s["stage"]: s.get("condition") for s in azure["stages"]}
    assert conditions == {"CodeScanIaC": None, "DEV": "succeeded()", "QA": False, "PRD": False}
    assert plan.pipeline.tags() == "#DEV"
    params = {p["ParameterKey"]: p["ParameterValue"] for p in json.loads((folder / "params" / "qa.json").read_text())}
    assert params["DyAlterCtraScoreDeltaApiReadCapacityUnits"] == "#{dy-alter-ctra-score-delta-api-tables-read-cu}#"
    assert (
        params["DyalterctraofertaproductoApiWriteCapacityUnits"] == "#{dy-alter-ctra-score-delta-api-tables-write-cu}#"
    )
    assert params["dynamoAlterCtraScoreDeltaapi"] == "dynamo-alter-ctra-score-delta-api"
    assert params["Environment"] == "qa" and params["EksOidcProviderArn"].endswith("/id/QA")
    variables = pipeline.vsts_variables(DEMO)
    assert variables.to_dict("records") == [
        {
            "Nombre": "dy-alter-ctra-score-delta-api-tables-read-cu",
            "Valor": "1,50",
            "Grupo": "productizar-variables-informacion-dy-aws",
        },
        {
            "Nombre": "dy-alter-ctra-score-delta-api-tables-write-cu",
            "Valor": "1,8000",
            "Grupo": "productizar-variables-informacion-dy-aws",
        },
    ]
    names = pipeline.names_table(DEMO, plan.pipeline)["Valor"]
    assert names["Título del PR"] == "Feature HU3575833: Despliegue API Alter Ctra Score Delta"
    assert names["Pipeline (carpeta)"] == "\\Cloud_nu0044001_productizar\\AlterCtraScoreDelta"


@pytest.mark.usefixtures("embedded")
def test_an_existing_api_keeps_qa_and_prd_on(tmp_path):
    hu_file = tmp_path / "hu.yaml"
    data = pyyaml.safe_load(DEMO_PATH.read_text())
    # the API's current template beside the HU file (paths in an HU stay inside its folder)
    (tmp_path / "template.yaml").write_bytes((ROOT / "tests" / "fixtures" / "template_two_tables.yaml").read_bytes())
    data["infrastructure"] = {"template": "template.yaml"}
    hu_file.write_text(pyyaml.safe_dump(data, allow_unicode=True))
    hu = load_hu(hu_file)
    plan = infraestructura.prepare(Step(spec("infraestructura"), hu, hu_file, "local", local(), tmp_path / "out", ""))
    assert plan.pipeline.tags() == "#DEV #QA #PRD"
    assert sorted(plan.patch.not_in_hu) == ["DynamoAlterCtraHistoricoapi", "Dynamoalterctraalertasapi"]
    assert "no se borran" in infraestructura.summary(plan)


@pytest.mark.scan
def test_a_template_scanned_before_by_the_same_tools_is_answered_from_that_scan(tmp_path, monkeypatch):
    """The second scan of the same bytes starts no scanner (here: none could start) and says whose result
    it shows; one byte more, or another scanner's version, scans again."""
    monkeypatch.setenv("PRODUCTIZAR_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "template.yaml"
    path.write_text(template.patch(template.new_api_template(DEMO), DEMO).text)
    first = scans.scan(path)
    assert first.clean and first.reused_from is None
    assert "escaneo idéntico" not in infraestructura.scan_verdict(first)

    monkeypatch.setattr(scans, "_run", lambda cmd, timeout=300: pytest.fail(f"a scanner ran: {cmd[0]}"))
    again = scans.scan(path)
    assert again == first and again.reused_from
    assert f"Resultado del escaneo idéntico del {again.reused_from}" in infraestructura.scan_verdict(again)

    ran: list[str] = []
    monkeypatch.setattr(scans, "_run", lambda cmd, timeout=300: ran.append(Path(cmd[0]).name) or _no_output())
    path.write_text(path.read_text() + "\n")  # one byte more
    with pytest.raises(ProductizarError):
        scans.scan(path)
    assert ran == ["cfn-lint"]
    path.write_text(path.read_text()[:-1])  # the scanned bytes again, but another checkov
    real = scans._tool_identity
    monkeypatch.setattr(scans, "_tool_identity", lambda n: real(n) + ("+1" if n == "checkov" else ""))
    with pytest.raises(ProductizarError):
        scans.scan(path)
    assert ran == ["cfn-lint", "cfn-lint"]


def _no_output():
    import subprocess

    return subprocess.CompletedProcess([], 1, stdout="not json", stderr="no scanner here")
