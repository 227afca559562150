"""The architecture holds: rooms whose imports point one way, one module per step named as the step,
notebooks of one shape, and upstream facts read only where the registry declares them."""

import ast
import importlib.util
import json
from pathlib import Path

import pytest

from productizar.core.errors import ProductizarError
from productizar.run.registry import REGISTRY, STEPS, spec
from productizar.run.step import start

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "parameters" / "hu" / "demo.yaml"


def _layers():
    loaded = importlib.util.spec_from_file_location("layers", ROOT / "tools" / "layers.py")
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module


def test_no_import_circle_and_no_import_against_the_layers():
    layers = _layers()
    graph = layers.graph()
    assert len(graph) > 60  # the measure reads the whole package, rooms included
    assert layers.cycles(graph) == []
    assert layers.violations(graph) == []


def test_the_measure_sees_a_circle_and_an_import_the_wrong_way(tmp_path):
    """The checker itself: a planted circle and a core module importing the run are both reported."""
    layers = _layers()
    pkg = tmp_path / "productizar"
    for room in ("core", "run"):
        (pkg / room).mkdir(parents=True)
        (pkg / room / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "core" / "a.py").write_text("def f():\n    from productizar.core import b\n")
    (pkg / "core" / "b.py").write_text("from productizar.core.a import f\nfrom productizar.run import step\n")
    (pkg / "run" / "step.py").write_text("STEP = 1\n")
    graph = layers.graph(tmp_path)
    assert layers.cycles(graph) == [["productizar.core.a", "productizar.core.b"]]
    assert layers.violations(graph) == ["productizar.core.b -> productizar.run.step"]


def test_the_measure_counts_type_level_circles_and_ranks_the_mechanisms_as_they_stack(tmp_path):
    """A circle made only of annotations is still a circle; ``dynamo`` stands on ``results_zone``, ``cloud``
    on ``dynamo`` and ``api``, and none of them the other way round."""
    layers = _layers()
    pkg = tmp_path / "productizar"
    files = {
        "core/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from productizar.core.b import B\n",
        "core/b.py": "from productizar.core.a import A\n",
        "results_zone/base.py": "from productizar.dynamo import loader\n",  # wrong way
        "dynamo/loader.py": "from productizar.results_zone import base\nfrom productizar.cloud import glue\n",
        "cloud/glue.py": "from productizar.dynamo import loader\nfrom productizar.api import smoke\n",
        "api/smoke.py": "from productizar.cloud import glue\n",  # wrong way
    }
    for rel, text in files.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).parent.joinpath("__init__.py").write_text("")
        (pkg / rel).write_text(text)
    (pkg / "__init__.py").write_text("")
    graph = layers.graph(tmp_path)
    assert ["productizar.core.a", "productizar.core.b"] in layers.cycles(graph)
    assert layers.violations(graph) == [
        "productizar.api.smoke -> productizar.cloud.glue",
        "productizar.dynamo.loader -> productizar.cloud.glue",
        "productizar.results_zone.base -> productizar.dynamo.loader",
    ]


def test_each_step_has_exactly_one_module_named_as_the_step():
    modules = {p.stem for p in (ROOT / "lib" / "productizar" / "steps").glob("*.py") if p.stem != "__init__"}
    assert modules == set(STEPS)
    notebooks = {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert notebooks == set(STEPS)
    for s in REGISTRY:
        assert set(s.upstream) <= set(STEPS[: STEPS.index(s.name)])  # a step builds only on earlier steps


def _code_cells(name: str) -> list[str]:
    nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    return [
        "".join(c["source"])
        for c in nb["cells"]
        if c["cell_type"] == "code" and "parameters" not in c["metadata"].get("tags", [])
    ]


@pytest.mark.parametrize("name", STEPS)
def test_every_notebook_starts_then_only_calls_its_step_module(name):
    cells = _code_cells(name)
    first = ast.parse(cells[0])
    imports = {(n.module, a.name) for n in ast.walk(first) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert imports == {("productizar.run.step", "start"), ("productizar.steps", name)}
    assert f'paso = start("{name}", hu_path, env, output_dir, confirm)' in cells[0]
    for source in cells[1:]:
        tree = ast.parse(source)
        assert not any(
            isinstance(
                n, (ast.Import, ast.ImportFrom, ast.Lambda, ast.FunctionDef, ast.If, ast.IfExp, ast.For, ast.BoolOp)
            )
            for n in ast.walk(tree)
        ), source
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            target = call.func
            owner = (
                target.value.id if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) else None
            )
            assert (isinstance(target, ast.Name) and target.id == "print") or owner in {name, "paso"}, source
        assert not any(
            isinstance(n, ast.Constant) and isinstance(n.value, str) and " " in n.value for n in ast.walk(tree)
        ), f"a sentence is built in the notebook: {source}"
    assert cells[-1] == f"print(paso.record({name}.facts(" + cells[-1].split(".facts(", 1)[1]


@pytest.mark.usefixtures("embedded")
def test_a_step_reads_only_the_facts_it_declares(tmp_path):
    assert spec("verificacion").upstream == ("conteo", "infraestructura", "carga")
    step = start("verificacion", str(DEMO), "local", str(tmp_path))
    with pytest.raises(ProductizarError, match="no está entre sus pasos previos declarados"):
        step.facts_of("dimensionamiento")
    with pytest.raises(ProductizarError, match="ejecútelo antes de este"):
        step.facts_of("conteo")  # declared, but it has not run in this folder


@pytest.mark.usefixtures("embedded")
def test_only_a_step_declared_to_write_asks_for_the_write_mode(tmp_path):
    assert start("carga", str(DEMO), "local", str(tmp_path)).write_mode.apply
    assert start("consecutivo", str(DEMO), "local", str(tmp_path)).write_mode.dry_run  # confirmed everywhere
    conteo = start("conteo", str(DEMO), "local", str(tmp_path))
    with pytest.raises(ProductizarError, match="no escribe en el entorno"):
        _ = conteo.write_mode


@pytest.mark.usefixtures("embedded")
def test_a_started_step_sees_the_embedded_default_resolved(tmp_path):
    from productizar.local import embedded

    step = start("conteo", str(DEMO), "local", str(tmp_path))
    assert step.env.aws.endpoint == embedded.moto_endpoint() and step.env.aws.placeholder_credentials
    assert step.env.results_zone.path == str(embedded.duckdb_path())
    assert step.zone().describe() == "DuckDB embebido (entorno local)"
