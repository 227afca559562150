"""Promotion DEV → QA → PRD on the embedded rehearsals: the gate from the environment before, the HU's
fingerprint, ``--steps`` subsets, the manual gates and their approvals log (a stale one, an unknown one)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from productizar.core import paths
from productizar.core.environments import get_environment
from productizar.core.gates import load_gates
from productizar.core.hu import load_hu
from productizar.run import approvals, promotion
from productizar.run.approvals import ApprovalRefused
from productizar.run.promotion import PromotionRefused
from productizar.run.records import StepRecord, StepStatus
from productizar.run.runner import Runner
from productizar.run.step import start

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "parameters" / "hu" / "demo.yaml"
HU_ID = "3575833"


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    """This test's own evidence (kernels inherit the variable)."""
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "outputs"))
    return tmp_path / "outputs"


def run(env: str, steps: list[str], hu: Path = DEMO, **kw):
    lines: list[str] = []
    result = Runner(hu, env, steps, echo=lines.append, **kw).run()
    assert result.exit_code == 0, lines
    return result


def summary(env: str) -> dict:
    return json.loads((paths.hu_output_dir(int(HU_ID), env) / "summary.json").read_text())


# ------------------------------------------------------------------------------------------------ rules


def test_a_step_is_promoted_only_from_a_green_run_of_the_same_hu():
    fp = "abc"
    ok = StepRecord("carga", StepStatus.OK, hu_fingerprint=fp)
    assert promotion.why_not_green(ok, fp) is None
    assert promotion.why_not_green(None, fp) == "has not run there"
    assert promotion.why_not_green(StepRecord("carga"), fp) == "has not run there"
    assert "failed there" in promotion.why_not_green(ok.but(status=StepStatus.FAILED), fp)
    assert "other tables, keys or capacities" in promotion.why_not_green(ok, "other")
    dry = ok.but(dry_run=True, dry_run_reason="simulación: este entorno exige --confirm")
    assert "dry run (simulación" in promotion.why_not_green(dry, fp)
    # the reservation belongs to PRD: its dry run before PRD is what DEV and QA do
    reservation = StepRecord("consecutivo", StepStatus.OK, hu_fingerprint=fp, dry_run=True)
    assert promotion.why_not_green(reservation, fp) is None


def test_the_hu_fingerprint_follows_tables_keys_and_capacities_not_the_file_bytes(tmp_path):
    base = load_hu(DEMO).promotion_fingerprint()
    text = DEMO.read_text(encoding="utf-8")
    cases = {
        "comment": (text.replace("# Demo HU:", "# Demo HU (revisada):"), True),
        "load window": (text.replace("window_hours: 6", "window_hours: 8"), True),
        "capacity": (text.replace("write: [1, 8000]", "write: [1, 6000]"), False),
        "key": (text.replace("{name: fecha_corte, type: N}", "{name: fecha_corte, type: S}"), False),
    }
    for what, (changed, same) in cases.items():
        path = tmp_path / f"{what.replace(' ', '_')}.yaml"
        path.write_text(changed, encoding="utf-8")
        shutil_copy_ahp(path.parent)
        assert (load_hu(path).promotion_fingerprint() == base) is same, what


def shutil_copy_ahp(folder: Path) -> None:
    """The HU's AHP matrix beside a changed copy of it (the HU names it relative to itself)."""
    shutil.copy(DEMO.parent / "demo-matriz-ahp.xlsx", folder / "demo-matriz-ahp.xlsx")


# ---------------------------------------------------------------------------------------- real runs


@pytest.mark.usefixtures("embedded")
def test_qa_before_a_green_dev_is_refused_before_anything_is_written(outputs):
    with pytest.raises(PromotionRefused) as refused:
        Runner(DEMO, "local-qa", ["conteo"], confirm=HU_ID, echo=lambda _: None)
    assert "local-dev has no run of HU 3575833" in str(refused.value)
    assert not outputs.exists()  # nothing written, not even the evidence folder
    with pytest.raises(PromotionRefused):  # nor by hand, one notebook in JupyterLab
        start("conteo", str(DEMO), "local-qa", confirm=HU_ID)

    run("local-dev", ["conteo"])
    run("local-qa", ["conteo"], confirm=HU_ID)  # the same step, green in DEV: promoted
    qa = summary("local-qa")
    assert qa["promotes_from"] == "local-dev" and qa["status"] == "ok"
    # QA's copy of the data is older than DEV's: the counts differ as real environments do
    dev_rows = summary("local-dev")["steps"][0]["figures"]["filas · alter_ctra_score_delta"]
    assert (dev_rows, qa["steps"][0]["figures"]["filas · alter_ctra_score_delta"]) == (100_000, 98_500)

    # a subset is held to the rule for the steps it includes
    with pytest.raises(PromotionRefused) as refused:
        Runner(DEMO, "local-qa", ["conteo", "dimensionamiento"], confirm=HU_ID, echo=lambda _: None)
    assert "dimensionamiento has not run there" in str(refused.value)
    assert "conteo" not in str(refused.value).split("where:")[1]


@pytest.mark.usefixtures("embedded")
def test_a_changed_capacity_must_go_through_dev_again(outputs, tmp_path):
    run("local-dev", ["conteo"])
    changed = tmp_path / "hu" / "demo.yaml"
    changed.parent.mkdir()
    changed.write_text(DEMO.read_text(encoding="utf-8").replace("write: [1, 8000]", "write: [1, 6000]"), "utf-8")
    shutil_copy_ahp(changed.parent)
    with pytest.raises(PromotionRefused, match="conteo ran there with other tables, keys or capacities"):
        Runner(changed, "local-qa", ["conteo"], confirm=HU_ID, echo=lambda _: None)
    run("local-dev", ["conteo"], hu=changed)  # DEV again with the new capacity: then QA may follow
    run("local-qa", ["conteo"], hu=changed, confirm=HU_ID)


@pytest.mark.usefixtures("embedded")
def test_prd_waits_for_every_gate_and_a_stale_or_unknown_approval_is_refused(outputs):
    hu, prd = load_hu(DEMO), get_environment("local-prd")
    run("local-dev", ["conteo"])
    with pytest.raises(ApprovalRefused, match="no evidence of HU 3575833 in local-qa"):
        approvals.approve(hu, "local-prd", prd, "monitoreo", "Mesa de monitoreo", "HA3629938")
    run("local-qa", ["conteo"], confirm=HU_ID)

    with pytest.raises(PromotionRefused) as refused:
        Runner(DEMO, "local-prd", ["conteo"], confirm=HU_ID, echo=lambda _: None)
    text = str(refused.value)
    for gate in load_gates():
        assert f"{gate.id}: pendiente" in text  # every missing gate is listed, not only the first

    with pytest.raises(ApprovalRefused, match="'visto_bueno' is not a gate of local-prd"):
        approvals.approve(hu, "local-prd", prd, "visto_bueno", "Alguien", "correo")
    assert not approvals.log_path(hu.id, "local-prd").exists()  # nothing recorded

    seen = approvals.current_evidence(hu, prd, "local-prd")
    for gate in load_gates():
        approvals.approve(hu, "local-prd", prd, gate.id, "Jefa de Ejemplo Muñoz", f"correo {gate.id}", seen)
    log = [json.loads(line) for line in approvals.log_path(hu.id, "local-prd").read_text().splitlines()]
    assert [a["gate"] for a in log] == [g.id for g in load_gates()]
    assert {a["evidence"] for a in log} == {seen} and all(a["by"] and a["at"] and a["ref"] for a in log)

    # QA's evidence changes after the approvals (its step runs again): every approval is stale
    run("local-qa", ["conteo"], confirm=HU_ID, force=True)
    assert approvals.current_evidence(hu, prd, "local-prd") != seen
    assert {s.state for s in approvals.states(hu, "local-prd", prd)} == {"vencida"}
    with pytest.raises(PromotionRefused, match="monitoreo: vencida, la evidencia cambió"):
        Runner(DEMO, "local-prd", ["conteo"], confirm=HU_ID, echo=lambda _: None)
    with pytest.raises(ApprovalRefused, match=f"changed since {seen}"):
        approvals.approve(hu, "local-prd", prd, "monitoreo", "Mesa de monitoreo", "HA3629938", seen)

    now = approvals.current_evidence(hu, prd, "local-prd")
    for gate in load_gates():
        approvals.approve(hu, "local-prd", prd, gate.id, "Jefa de Ejemplo Muñoz", "correo de nuevo", now)
    run("local-prd", ["conteo"], confirm=HU_ID)
    prd_summary = summary("local-prd")
    assert [a["gate"] for a in prd_summary["approvals"]] == [g.id for g in load_gates()]
    assert all(a["approved"] and a["state"] == "aprobada" and a["evidence"] == now for a in prd_summary["approvals"])
    # PRD's record, gates included, is what the published schema says
    jsonschema.validate(prd_summary, json.loads((ROOT / "schemas" / "summary.schema.json").read_text(encoding="utf-8")))
    # PRD's copy has more rows than DEV's
    assert prd_summary["steps"][0]["figures"]["filas · alter_ctra_score_delta"] == 106_000
    index = (paths.hu_output_dir(hu.id, "local-prd") / "index.html").read_text()
    assert "Compuertas manuales" in index and "correo de nuevo" in index


@pytest.mark.usefixtures("embedded")
def test_the_approvals_command_lists_every_gate_as_json(outputs, tmp_path):
    env = dict(os.environ, PRODUCTIZAR_OUTPUT_ROOT=str(outputs))

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "productizar", *args], env=env, capture_output=True, text=True)

    run("local-dev", ["conteo"])
    run("local-qa", ["conteo"], confirm=HU_ID)
    done = cli("approve", str(DEMO), "--env", "local-prd", "--gate", "monitoreo", "--by", "Mesa", "--ref", "HA3629938")
    assert done.returncode == 0, done.stderr
    assert "7 gate(s) still pending" in done.stdout
    bad = cli("approve", str(DEMO), "--env", "local-prd", "--gate", "nada", "--by", "Mesa", "--ref", "x")
    assert bad.returncode == 2 and "'nada' is not a gate of local-prd" in bad.stderr
    listed = cli("approvals", str(DEMO), "--env", "local-prd", "--json")
    assert listed.returncode == 0, listed.stderr
    gates = json.loads(listed.stdout)
    assert [g["gate"] for g in gates] == [g.id for g in load_gates()]
    assert [g["gate"] for g in gates if g["approved"]] == ["monitoreo"]
    assert all({"gate", "approved", "state", "title"} <= set(g) for g in gates)
    assert "[x] monitoreo: aprobada por Mesa" in cli("approvals", str(DEMO), "--env", "local-prd").stdout


@pytest.mark.usefixtures("embedded")
def test_each_rehearsal_is_its_own_account_on_the_one_embedded_server():
    from productizar.cloud import aws
    from productizar.run.endpoints import resolve

    dev, qa, local = (resolve(get_environment(e)) for e in ("local-dev", "local-qa", "local"))
    assert dev.aws.endpoint == qa.aws.endpoint == local.aws.endpoint  # one server
    name = "productizar-test-cuentas"
    ddb = aws.client(dev, "dynamodb")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
        assert ":111111111111:" in arn
        assert name not in aws.client(qa, "dynamodb").list_tables()["TableNames"]
        assert name not in aws.client(local, "dynamodb").list_tables()["TableNames"]
        assert aws.client(qa, "sts").get_caller_identity()["Account"] == "222222222222"
        # a child process (the reference API, Spark's tasks) reaches the same account through its variables
        assert aws.process_environment(dev)["AWS_ACCESS_KEY_ID"] == "productizar-local-111111111111"
        # each its own copy of the demo data
        assert dev.results_zone.path != qa.results_zone.path != local.results_zone.path
    finally:
        ddb.delete_table(TableName=name)
