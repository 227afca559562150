"""The demo HU at its full size, once: 10⁵ rows a table loaded into the embedded default and counted back
exactly (``make demo``'s load). Every other test runs on the regression HU's few thousand rows."""

import json

import pytest
import yaml

from productizar.core import paths
from productizar.core.hu import load_hu
from productizar.run.runner import Runner

DEMO = paths.project_root() / "parameters" / "hu" / "demo.yaml"
EXPECTED = {  # the demo data's planted defects: conteo's figures, computed from the generator's rows
    "resultados_riesgos.alter_ctra_score_delta": 100_000 - 5 - 4,
    "resultados_riesgos.alter_ctra_segmento_cliente": 100_000,
    "resultados_comercial.alter_ctra_oferta_producto": 100_000 - 1 - 2,
}


@pytest.fixture
def own_account(tmp_path, monkeypatch):
    """``local`` in an account of this test's own on the session's server: the demo's stack and 3·10⁵ items
    (and the read capacity autoscaling gives them after the count) are no other test's world."""
    data = yaml.safe_load((paths.project_root() / "parameters" / "environments.yaml").read_text(encoding="utf-8"))
    data["local"]["aws"]["account_id"] = "666666666666"
    path = tmp_path / "environments.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("PRODUCTIZAR_ENVIRONMENTS", str(path))
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))  # its own evidence, no one else's


@pytest.mark.scale
@pytest.mark.usefixtures("embedded", "own_account")
def test_the_full_size_demo_loads_and_counts_exactly():
    steps = ["conteo", "dimensionamiento", "infraestructura", "carga", "verificacion"]
    lines: list[str] = []
    result = Runner(DEMO, "local", steps, force=True, echo=lines.append).run()
    assert result.exit_code == 0, "\n".join(lines)
    summary = json.loads((paths.hu_output_dir(load_hu(DEMO).id, "local") / "summary.json").read_text())
    facts = {s["name"]: s["facts"] for s in summary["steps"] if s["name"] in steps}
    assert {t: c["expected_items"] for t, c in facts["conteo"]["tables"].items()} == EXPECTED
    assert {t: r["items_written"] for t, r in facts["carga"]["tables"].items()} == EXPECTED
    counts = [c for c in facts["verificacion"]["checks"] if c["key"] == "item_count"]
    assert sorted(int(c["found"]) for c in counts) == sorted(EXPECTED.values())
    assert {c["status"] for c in counts} == {"pass"}
    # the load went to this test's own account, where the session's default one does not look
    from tests.support.dynamo import clients

    ddb = clients()("dynamodb")
    arns = [ddb.describe_table(TableName=t.names.dynamo_table)["Table"]["TableArn"] for t in load_hu(DEMO).tables]
    assert all(":666666666666:table/" in arn for arn in arns), arns
