"""The demo HU at its full size, once: 10⁵ rows a table loaded into the embedded default and counted back
exactly (``make demo``'s load). Every other test runs on the regression HU's few thousand rows."""

import json

import pytest

from productizar.core import paths
from productizar.core.hu import load_hu
from productizar.run.runner import Runner

DEMO = paths.project_root() / "parameters" / "hu" / "demo.yaml"
EXPECTED = {  # the demo data's planted defects: conteo's figures, computed from the generator's rows
    "resultados_riesgos.alter_ctra_score_delta": 100_000 - 5 - 4,
    "resultados_riesgos.alter_ctra_segmento_cliente": 100_000,
    "resultados_comercial.alter_ctra_oferta_producto": 100_000 - 1 - 2,
}


@pytest.mark.scale
@pytest.mark.usefixtures("embedded")
def test_the_full_size_demo_loads_and_counts_exactly(tmp_path, monkeypatch):
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))  # its own evidence, no one else's
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
