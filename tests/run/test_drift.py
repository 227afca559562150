"""`productizar drift` across the rehearsal environments, each in its own account on the embedded endpoint:
expected differences only (exit 0), planted ones (exit 1, each a row with both values), an environment with
nothing deployed reported as such."""

import json
import os
from pathlib import Path

import pytest
import yaml as pyyaml

from productizar.cloud import aws, coordinators, stack, template
from productizar.core import naming, paths
from productizar.core.environments import get_environment
from productizar.core.errors import UsageError
from productizar.core.hu import load_hu
from productizar.run import drift
from productizar.run.endpoints import resolve
from tests.support.dynamo import clients

ROOT = Path(__file__).resolve().parents[2]
DEMO_PATH = ROOT / "parameters" / "hu" / "demo.yaml"
DEMO = load_hu(DEMO_PATH)
ENVS = ("local-dev", "local-qa", "local-prd")
ACCOUNTS = {
    "local-dev": "601000000001",
    "local-qa": "602000000002",
    "local-prd": "603000000003",
    "local": "609000000009",
}
SCORE = DEMO.tables[0]
READ, WRITE = 20, 50


def items(spec, n=12):
    """The same keys in every environment, as the loads of one results zone would leave them."""
    out = []
    for i in range(n):
        item = {spec.partition_key.name: {spec.partition_key.type: f"{1000 + i}"}, "valor": {"N": str(i)}}
        if spec.sort_key:
            item[spec.sort_key.name] = {spec.sort_key.type: "20261101" if spec.sort_key.type == "N" else f"P{i}"}
        out.append(item)
    return out


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory):
    """The three rehearsal environments deployed from the same template, loaded with the same keys, their
    coordinator configs delivered, as the promotion's runs leave them."""
    tmp = tmp_path_factory.mktemp("drift")
    data = pyyaml.safe_load((ROOT / "parameters" / "environments.yaml").read_text())
    for name, account in ACCOUNTS.items():
        data[name]["aws"]["account_id"] = account
    (tmp / "environments.yaml").write_text(pyyaml.safe_dump(data, allow_unicode=True))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PRODUCTIZAR_ENVIRONMENTS", str(tmp / "environments.yaml"))
        mp.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp / "out"))
        body = template.patch(template.new_api_template(DEMO), DEMO).text
        declared = template.declared_parameters(body)
        for name in ENVS:
            env = resolve(get_environment(name))
            values = {k: v for k, v in stack.parameters(DEMO, name, env).items() if k in declared}
            for spec in DEMO.tables:  # enough capacity that the metered endpoint does not slow the set-up down
                values[spec.names.read_capacity_parameter] = f"{READ},50"
                values[spec.names.write_capacity_parameter] = f"{WRITE},8000"
            stack.deploy(
                aws.client(env, "cloudformation"),
                naming.stack_name(DEMO.api.slug),
                body,
                values,
                progress=lambda _: None,
            )
            ddb = aws.client(env, "dynamodb")
            for spec in DEMO.tables:
                for item in items(spec):
                    ddb.put_item(TableName=spec.names.dynamo_table, Item=item)
            coordinators.write_all(DEMO, paths.hu_output_dir(DEMO.id, name))
        yield mp


def qa_api(base_url: str) -> None:
    """Point local-qa's API somewhere else in the environments file the module uses."""
    path = Path(os.environ["PRODUCTIZAR_ENVIRONMENTS"])
    data = pyyaml.safe_load(path.read_text())
    data["local-qa"]["api"]["base_url"] = base_url
    path.write_text(pyyaml.safe_dump(data, allow_unicode=True))


def reads(table: str) -> dict:
    return {
        "ServiceNamespace": "dynamodb",
        "ResourceId": f"table/{table}",
        "ScalableDimension": "dynamodb:table:ReadCapacityUnits",
    }


def report_of(lines):
    return json.loads((paths.output_root() / f"HU{DEMO.id}" / "drift" / "drift.json").read_text())


@pytest.mark.usefixtures("embedded")
def test_environments_deployed_alike_differ_only_where_expected(rehearsal):
    lines: list[str] = []
    assert drift.run(str(DEMO_PATH), ",".join(ENVS), echo=lines.append) == 0
    report = report_of(lines)
    assert report["drift_rows"] == 0 and report["not_deployed"] == {}
    fields = {r["field"]: r for r in report["rows"]}
    assert fields["stack.parameters.Environment"]["values"] == {
        "local-dev": "dev",
        "local-qa": "qa",
        "local-prd": "prd",
    }
    assert all(r["expected"] and r["why"] for r in report["rows"])
    assert report["compared_fields"] > 100  # stack, 3 tables, Glue, coordinators and the API's answers
    assert "\n0 diferencias de deriva, 3 esperadas, " in lines[-2]
    assert "detección de deriva de CloudFormation en local-dev: no disponible en este endpoint" in lines[-2]


@pytest.mark.usefixtures("embedded")
def test_planted_differences_are_drift_and_prds_larger_capacity_is_expected(rehearsal):
    table = SCORE.names.dynamo_table
    qa, prd = clients("local-qa"), clients("local-prd")
    qa("application-autoscaling").register_scalable_target(**reads(table), MinCapacity=7, MaxCapacity=50)
    arn = prd("dynamodb").describe_table(TableName=table)["Table"]["TableArn"]
    prd("dynamodb").untag_resource(ResourceArn=arn, TagKeys=["bancolombia:bkdiario"])
    for item in items(SCORE):  # QA's copy of the data lacks a field: data, not drift (its API says what it holds)
        key = {k: v for k, v in item.items() if k != "valor"}
        qa("dynamodb").update_item(TableName=table, Key=key, UpdateExpression="REMOVE valor")
    qa_api("http://127.0.0.1:9")  # QA's ingress points nowhere: the API answers nothing there
    config = paths.hu_output_dir(DEMO.id, "local-prd") / "coordinadores" / DEMO.api.name / "API" / "cfg"
    path = config / f"{SCORE.names.table}.json"
    cfg = json.loads(path.read_text())
    cfg["coordinator"]["periodicity"] = "ME"
    path.write_text(json.dumps(cfg))

    lines: list[str] = []
    assert drift.run(str(DEMO_PATH), ",".join(ENVS), echo=lines.append) == 1
    rows = {r["field"]: r for r in report_of(lines)["rows"]}
    prefix = f"tablas.{SCORE.names.table}"
    scaling = rows[f"{prefix}.autoescalado.lectura"]
    assert scaling["values"] == {"local-dev": f"{READ}-50", "local-qa": "7-50", "local-prd": f"{READ}-50"}
    assert not scaling["expected"]
    assert rows[f"{prefix}.tags.bancolombia:bkdiario"]["values"]["local-prd"] == drift.MISSING
    assert rows[f"coordinadores.{SCORE.names.table}.coordinator.periodicity"]["values"]["local-prd"] == "ME"
    api = {f: r for f, r in rows.items() if f.startswith(f"api./{DEMO.api.slug}/")}
    assert api and all(
        r["values"]["local-qa"] == 0 and not r["expected"] for f, r in api.items() if f.endswith(".estado")
    )
    assert all(r["values"]["local-dev"] == "igual al ítem de su tabla" for f, r in api.items() if f.endswith(".fiel"))
    page = (paths.output_root() / f"HU{DEMO.id}" / "drift" / "index.html").read_text()
    assert page.count('class="deriva"') == len([r for r in rows.values() if not r["expected"]]) >= 4

    # put back what drifted; PRD keeps a larger capacity, which drift.yaml expects
    qa("application-autoscaling").register_scalable_target(**reads(table), MinCapacity=READ, MaxCapacity=50)
    prd("dynamodb").tag_resource(ResourceArn=arn, Tags=[{"Key": "bancolombia:bkdiario", "Value": "no"}])
    qa_api("embedded")
    cfg["coordinator"]["periodicity"] = DEMO.coordinator.periodicity
    path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
    prd("application-autoscaling").register_scalable_target(**reads(table), MinCapacity=READ, MaxCapacity=200)
    lines = []
    assert drift.run(str(DEMO_PATH), ",".join(ENVS), echo=lines.append) == 0
    rows = {r["field"]: r for r in report_of(lines)["rows"]}
    scaling = rows[f"{prefix}.autoescalado.lectura"]
    assert scaling["values"]["local-prd"] == f"{READ}-200"
    assert scaling["expected"] and scaling["why"] == "PRD tiene límites de autoescalado mayores"
    assert not [r for r in rows.values() if not r["expected"]]
    # QA's data still lacks the field: its answers differ in their values (expected), and are its table's
    answers = [r for f, r in rows.items() if f.startswith(f"api./{DEMO.api.slug}/{SCORE.names.table}/")]
    assert answers and all(r["field"].endswith(".valores") and r["expected"] for r in answers)
    # and the rest put back too: the other tests of the module find the environments as deployed, in any order
    for item in items(SCORE):
        qa("dynamodb").put_item(TableName=table, Item=item)
    prd("application-autoscaling").register_scalable_target(**reads(table), MinCapacity=READ, MaxCapacity=50)


@pytest.mark.usefixtures("embedded")
def test_an_environment_with_nothing_deployed_is_reported_as_such(rehearsal):
    lines: list[str] = []
    assert drift.run(str(DEMO_PATH), "local-dev,local", echo=lines.append) == 0
    report = report_of(lines)
    assert report["not_deployed"] == {"local": f"no hay stack {naming.stack_name(DEMO.api.slug)} desplegado"}
    assert report["rows"] == [] and any("local: sin nada desplegado" in line for line in lines)
    with pytest.raises(
        UsageError, match=r"^--envs needs two or more different environments, comma-separated \(got 'local-dev'\)$"
    ):
        drift.parse_envs("local-dev")


def test_the_command_refuses_fewer_than_two_environments_and_unknown_ones(capsys):
    from productizar import cli

    assert cli.main(["drift", str(DEMO_PATH), "--envs", "local-dev"]) == 2
    assert "two or more different environments" in capsys.readouterr().err
    assert cli.main(["drift", str(DEMO_PATH), "--envs", "local-dev,cer"]) == 2
    assert "unknown environment 'cer'" in capsys.readouterr().err


@pytest.mark.browser
def test_the_drift_page_shows_each_difference_side_by_side_in_a_real_browser(tmp_path, monkeypatch):
    from tests.support.chromium import SHOTS, browser

    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path))
    report = drift.Report(
        DEMO.id,
        DEMO.api.name,
        ["local-dev", "local-qa", "local-prd", "local"],
        {"local": "no hay stack productizar-alter-ctra-score-delta desplegado"},
        [
            drift.Row(
                "stack.parameters.Environment",
                {"local-dev": "dev", "local-qa": "qa", "local-prd": "prd"},
                True,
                "cada ambiente",
            ),
            drift.Row(
                "tablas.t.autoescalado.lectura", {"local-dev": "1-50", "local-qa": "7-50", "local-prd": "1-50"}, False
            ),
        ],
        {"local-dev": "no disponible en este endpoint"},
        120,
    )
    _, page_path = drift.write(report)
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1400, "height": 700})
        page.goto(page_path.as_uri())
        assert page.locator("#resumen").inner_text().startswith("1 diferencia de deriva, 1 esperada, 120 campos")
        headers = page.locator("#diferencias th").all_inner_texts()
        assert headers == ["Tipo", "Campo", "local-dev", "local-qa", "local-prd", "Por qué es esperada"]
        row = page.locator('tr[data-field="tablas.t.autoescalado.lectura"]')
        assert row.locator("td").all_inner_texts()[:5] == [
            "deriva",
            "tablas.t.autoescalado.lectura",
            "1-50",
            "7-50",
            "1-50",
        ]
        assert row.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(253, 236, 234)"
        assert "local: sin nada desplegado" in page.locator('p.sin-despliegue[data-env="local"]').inner_text()
        page.screenshot(path=str(SHOTS / "drift.png"), full_page=True)
