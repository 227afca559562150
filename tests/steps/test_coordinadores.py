"""Step ``coordinadores``'s own decisions: one valid config per table written under the evidence, a run
without a clone says where to copy them, and a dry run neither uploads the Glue job's script nor hides it."""

import json
from types import SimpleNamespace

from productizar.core import naming
from productizar.core.environments import WriteMode
from productizar.steps import coordinadores
from tests.support.hu import demo_with

DRY = WriteMode(False, "simulación: este entorno exige --confirm 3575833 para escribir")


def step_in(tmp_path, mode: WriteMode = DRY) -> SimpleNamespace:
    return SimpleNamespace(hu=demo_with(), output_dir=tmp_path, write_mode=mode)


def test_one_config_per_table_is_written_under_the_evidence(tmp_path):
    step = step_in(tmp_path)
    written = coordinadores.write(step)
    configs = [spec.names.coordinator_config(step.hu.api.name) for spec in step.hu.tables]
    logs = f"{naming.coordinator_logs_folder(step.hu.api.name)}/test.txt"
    assert [str(f.relative_to(tmp_path / "coordinadores")) for f in written.files] == configs + [logs]
    assert all(json.loads(f.read_text(encoding="utf-8")) for f in written.files[:-1])
    assert coordinadores.example(written) == written.files[0].read_text(encoding="utf-8")


def test_without_a_clone_the_step_says_which_branch_of_which_repository_gets_the_folder(tmp_path):
    said = coordinadores.delivery_text(step_in(tmp_path), None)
    assert naming.coordinators_branch(3575833) in said and naming.COORDINATORS_REPO in said
    assert said.startswith("Sin clon del repositorio (--coordinators-repo): copie la carpeta coordinadores/")


def test_a_dry_run_uploads_nothing_says_why_and_its_headline_says_simulacion(tmp_path):
    step = step_in(tmp_path)
    said: list[str] = []
    assert coordinadores.publish(step, said.append) is None
    assert said == [f"No se sube el script del job de Glue: {DRY.reason}."]
    facts = coordinadores.facts(step, coordinadores.write(step), None)
    assert facts["dry_run"] and facts["dry_run_reason"] == DRY.reason and facts["repository"] is None
    assert facts["headline"]["text"] == f"simulación: 3 coordinadores en {naming.coordinators_branch(3575833)}"
