"""A step runs again only when one of its own inputs changed, and says which: the source it runs is its
module and what that imports (not the whole package), file by file."""

import shutil

import pytest

from productizar.core import paths
from productizar.run import code, inputs
from productizar.run.records import StepRecord, StepStatus
from productizar.run.runner import Runner


def test_each_step_runs_its_own_module_what_it_imports_and_the_kernels_entry_not_the_whole_package():
    graph, files = code.graph(), code.digests()
    conteo, sizing = code.step_sources("conteo", graph, files), code.step_sources("dimensionamiento", graph, files)
    assert {"steps/conteo.py", "run/step.py", "results_zone/profile.py"} <= conteo.keys()
    assert "dynamo/sizing.py" in sizing and "dynamo/sizing.py" not in conteo  # dimensionamiento's, not conteo's
    assert "run/board.py" not in conteo and "run/board.py" not in sizing  # the driver's board: no step's
    assert "steps/carga.py" not in sizing and len(conteo) < len(code.modules())


def test_a_comment_changes_the_digest_of_its_file_only_and_is_named(tmp_path):
    lib = tmp_path / "lib"
    shutil.copytree(code.LIB / "productizar", lib / "productizar", ignore=shutil.ignore_patterns("__pycache__"))
    before = {s: code.step_sources(s, code.graph(lib), code.digests(lib)) for s in ("conteo", "dimensionamiento")}
    with (lib / "productizar" / "run" / "board.py").open("a") as f:
        f.write("# un comentario\n")
    with (lib / "productizar" / "dynamo" / "sizing.py").open("a") as f:
        f.write("# otro\n")
    after = {s: code.step_sources(s, code.graph(lib), code.digests(lib)) for s in ("conteo", "dimensionamiento")}
    assert after["conteo"] == before["conteo"]
    changed = {k for k in after["dimensionamiento"] if after["dimensionamiento"][k] != before["dimensionamiento"][k]}
    assert changed == {"dynamo/sizing.py"}
    said = inputs.why_run(
        {f"{inputs.CODE}{k}": v for k, v in before["dimensionamiento"].items()},
        {f"{inputs.CODE}{k}": v for k, v in after["dimensionamiento"].items()},
    )
    assert said == "cambió el código de dynamo/sizing.py"


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"code:a.py": "2", "code:b.py": "9"}, "cambió el código de a.py y 1 archivo más"),
        ({"code:c.py": "1"}, "cambió el código de c.py"),  # a file the step imports now
        ({"hu": "2"}, "cambió el archivo de la HU"),
        ({"server": "2"}, "el servidor embebido es otro (los datos que escribió ya no están)"),
        ({"upstream:conteo": "2"}, "cambiaron los hechos de conteo"),
        ({}, ""),
    ],
)
def test_the_first_changed_input_is_said_in_spanish(change, said):
    before = {"code:a.py": "1", "code:b.py": "1", "hu": "1", "server": "1", "upstream:conteo": "1"}
    assert inputs.why_run(before, before | change) == said
    assert (inputs.fingerprint(before) == inputs.fingerprint(before | change)) is (said == "")
    assert inputs.why_run(None, before).startswith("su registro es de una versión anterior")


def test_a_step_without_a_good_record_runs_and_says_why():
    now = {"hu": "1"}
    ok = StepRecord("conteo", status=StepStatus.OK, started_at="t", fingerprint=inputs.fingerprint(now), inputs=now)
    assert inputs.why(ok, now) == "" and inputs.why(ok, now, force=True) == "--force"
    assert inputs.why(ok, {"hu": "2"}) == "cambió el archivo de la HU"
    assert inputs.why(StepRecord("conteo"), now) == "primera corrida"
    assert inputs.why(ok.but(status=StepStatus.FAILED), now) == "la corrida anterior falló o no terminó"
    assert inputs.why(ok.but(status=StepStatus.SKIPPED), now) == "la vez anterior se omitió"  # not applicable then
    assert inputs.why(ok.but(inputs={}, fingerprint="old"), now).startswith("su registro es de una versión anterior")


@pytest.mark.usefixtures("embedded")
def test_a_comment_in_the_board_reruns_nothing_and_one_in_sizing_reruns_dimensionamiento(tmp_path, monkeypatch):
    """The issue's check, on a copy of the package's source: ``--plan`` predicts, the run agrees."""
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))
    lib = tmp_path / "lib"
    shutil.copytree(code.LIB / "productizar", lib / "productizar", ignore=shutil.ignore_patterns("__pycache__"))
    steps = ["conteo", "dimensionamiento"]

    def runner():
        lines: list[str] = []
        return Runner(paths.regression_hu(), "local", steps, source=lib, echo=lines.append), lines

    first, lines = runner()
    assert first.run().exit_code == 0, lines
    with (lib / "productizar" / "run" / "board.py").open("a") as f:
        f.write("# un comentario\n")
    planned, _ = runner()
    assert all(" al día desde " in line for line in planned.plan())
    second, lines = runner()
    assert second.run().exit_code == 0 and sum(" al día desde " in line for line in lines) == 2, lines
    with (lib / "productizar" / "dynamo" / "sizing.py").open("a") as f:
        f.write("# otro\n")
    planned, _ = runner()
    assert [line.split("] ")[1].split()[:2] for line in planned.plan()] == [
        ["conteo", "al"],
        ["dimensionamiento", "se"],
    ]
    assert planned.plan()[1].endswith("se ejecutaría: cambió el código de dynamo/sizing.py")
    third, lines = runner()
    assert third.run().exit_code == 0
    assert " al día desde " in lines[0] and lines[1].endswith("· cambió el código de dynamo/sizing.py"), lines
