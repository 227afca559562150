"""The team's channels for real: git clones with a bare remote (branches, one commit per step, no push
unless asked, refusals), and a `pipeline` environment whose stack a test deploys while the step waits."""

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml as pyyaml

from productizar.cloud import aws, pipeline, repository, stack
from productizar.cloud.repository import RepositoryRefused, Target
from productizar.core import naming
from productizar.core.environments import get_environment
from productizar.core.errors import ProductizarError
from productizar.core.hu import load_hu
from productizar.run.endpoints import resolve
from productizar.run.registry import spec
from productizar.run.step import Step
from productizar.steps import infraestructura

ROOT = Path(__file__).resolve().parents[2]
DEMO_PATH = ROOT / "parameters" / "hu" / "demo.yaml"
DEMO = load_hu(DEMO_PATH)
BRANCH = naming.feature_branch(DEMO.id, DEMO.hu.slug)
COORD_BRANCH = naming.coordinators_branch(DEMO.id)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Analista Ejemplo",
    "GIT_AUTHOR_EMAIL": "analista@example.com",
    "GIT_COMMITTER_NAME": "Analista Ejemplo",
    "GIT_COMMITTER_EMAIL": "analista@example.com",
}


def git(repo: Path, *args: str) -> str:
    env = os.environ | GIT_ENV
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    ).stdout.strip()


def clone_with_remote(tmp_path: Path, name: str, files: dict[str, str] | None = None) -> tuple[Path, Path]:
    """A bare remote with a trunk commit, and a clone of it on trunk."""
    seed, remote, clone = tmp_path / f"{name}-seed", tmp_path / f"{name}.git", tmp_path / name
    subprocess.run(["git", "init", "-q", "-b", "trunk", str(seed)], check=True)
    for rel, text in ({"README.md": f"# {name}\n"} | (files or {})).items():
        (seed / rel).parent.mkdir(parents=True, exist_ok=True)
        (seed / rel).write_text(text)
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "inicio")
    subprocess.run(["git", "clone", "-q", "--bare", str(seed), str(remote)], check=True)
    subprocess.run(["git", "clone", "-q", str(remote), str(clone)], check=True)
    return clone, remote


@pytest.fixture
def git_identity(monkeypatch):
    for k, v in GIT_ENV.items():
        monkeypatch.setenv(k, v)


def commits_on(repo: Path, branch: str, base: str = "trunk") -> list[str]:
    return git(repo, "log", "--format=%s", f"{base}..{branch}").splitlines()


# ------------------------------------------------------------------------------- the run, end to end


@pytest.mark.e2e
def test_a_run_leaves_one_commit_per_step_on_the_runbooks_branches_and_a_second_run_none(tmp_path, git_identity):
    infra, infra_remote = clone_with_remote(tmp_path, "Cloud_nu0044001_productizar")
    coords, coords_remote = clone_with_remote(tmp_path, "NU0044001_ProductizarLaAnalitica")
    env = os.environ | {"PRODUCTIZAR_OUTPUT_ROOT": str(tmp_path / "out")}
    command = [
        str(Path(os.sys.executable).parent / "productizar"), "run", str(DEMO_PATH), "--env", "local",
        "--steps", "infraestructura,coordinadores", "--infra-repo", str(infra), "--coordinators-repo", str(coords),
    ]  # fmt: skip
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    infra_commits, coord_commits = commits_on(infra, BRANCH), commits_on(coords, COORD_BRANCH)
    assert infra_commits == ["Feature HU3575833: Despliegue API Alter Ctra Score Delta"]
    assert coord_commits == ["Feature HU3575833: coordinadores de AlterCtraScoreDelta"]
    files = git(infra, "show", "--name-only", "--format=", BRANCH).splitlines()
    assert sorted(files) == [
        "AlterCtraScoreDelta/azure.yaml",
        "AlterCtraScoreDelta/params/dev.json",
        "AlterCtraScoreDelta/params/prd.json",
        "AlterCtraScoreDelta/params/qa.json",
        "AlterCtraScoreDelta/template.yaml",
    ]
    assert sorted(git(coords, "show", "--name-only", "--format=", COORD_BRANCH).splitlines()) == [
        "AlterCtraScoreDelta/API/cfg/alter_ctra_oferta_producto.json",
        "AlterCtraScoreDelta/API/cfg/alter_ctra_score_delta.json",
        "AlterCtraScoreDelta/API/cfg/alter_ctra_segmento_cliente.json",
        "AlterCtraScoreDelta/TMP_FILES/logs/test.txt",
    ]
    # the committed template is the one the step scanned and deployed
    evidence = tmp_path / "out" / "HU3575833" / "local" / "infraestructura" / "AlterCtraScoreDelta" / "template.yaml"
    assert git(infra, "show", f"{BRANCH}:AlterCtraScoreDelta/template.yaml") + "\n" == evidence.read_text()
    # nothing pushed without --push
    assert BRANCH not in git(infra_remote, "branch", "--list") and COORD_BRANCH not in git(coords_remote, "branch")
    summary = json.loads((tmp_path / "out" / "HU3575833" / "local" / "summary.json").read_text())
    facts = {s["name"]: s["facts"] for s in summary["steps"]}
    assert facts["infraestructura"]["repository"]["branch"] == BRANCH
    assert summary["repositories"]["infra"] == str(infra)

    # a second run adds no commit (the coordinators' step again through the command, with --push this time)
    head = git(coords, "rev-parse", COORD_BRANCH)
    again = [*command[:6], "coordinadores", *command[7:], "--push"]
    second = subprocess.run(again, capture_output=True, text=True, env=env, timeout=900)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert git(coords, "rev-parse", COORD_BRANCH) == head  # no new commit
    assert git(coords_remote, "rev-parse", COORD_BRANCH) == head  # --push sent the branch as it was


def test_a_second_infraestructura_on_the_branch_adds_no_commit_and_push_sends_it(tmp_path, git_identity, monkeypatch):
    infra, remote = clone_with_remote(tmp_path, "cloud")
    monkeypatch.setenv(repository.INFRA_REPO_ENV, str(infra))
    step = Step(spec("infraestructura"), DEMO, DEMO_PATH, "local", get_environment("local"), tmp_path / "out", "")
    first = infraestructura.prepare(step)
    made = repository.commit(first.clone, first.files, "Feature HU3575833: primera")
    again = infraestructura.prepare(step)  # starts from the branch's template, which has everything already
    assert again.source.startswith(f"AlterCtraScoreDelta/template.yaml de la rama {BRANCH}")
    assert not again.patch.changed and again.files == first.files
    second = repository.commit(again.clone, again.files, "Feature HU3575833: segunda", push=True)
    assert second.commit is None and second.head == made.commit and second.pushed
    assert commits_on(infra, BRANCH) == ["Feature HU3575833: primera"]
    assert git(remote, "rev-parse", BRANCH) == made.commit
    assert "Sin cambios en la rama" in second.sentence() and "Enviado al remoto" in second.sentence()


# ------------------------------------------------------------------------------------------ refusals


def test_a_clone_with_uncommitted_changes_is_refused_before_anything_is_written(tmp_path, git_identity):
    clone, _ = clone_with_remote(tmp_path, "cloud")
    (clone / "README.md").write_text("cambio a medias\n")
    with pytest.raises(RepositoryRefused, match=r"cambios sin confirmar \(README.md\)"):
        repository.open_clone(Target(clone, option="--infra-repo"), BRANCH)
    assert git(clone, "rev-parse", "--abbrev-ref", "HEAD") == "trunk"
    with pytest.raises(RepositoryRefused, match="no es un clon de git"):
        repository.open_clone(Target(tmp_path, option="--infra-repo"), BRANCH)


def test_a_branch_that_diverged_from_its_remote_is_refused(tmp_path, git_identity):
    clone, remote = clone_with_remote(tmp_path, "cloud")
    git(clone, "checkout", "-q", "-b", BRANCH)
    git(clone, "commit", "-q", "--allow-empty", "-m", "local")
    git(clone, "push", "-q", "-u", "origin", BRANCH)
    other = tmp_path / "otro"
    subprocess.run(["git", "clone", "-q", "-b", BRANCH, str(remote), str(other)], check=True)
    git(other, "commit", "-q", "--allow-empty", "-m", "de un compañero")
    git(other, "push", "-q")
    git(clone, "commit", "-q", "--allow-empty", "-m", "otro local")
    git(clone, "fetch", "-q")
    git(clone, "checkout", "-q", "trunk")
    with pytest.raises(
        RepositoryRefused, match=r"divergió de origin/feature/HU3575833.*1 commits propios, 1 del remoto"
    ):
        repository.open_clone(Target(clone, option="--infra-repo"), BRANCH)


def test_the_patch_starts_from_the_apis_template_in_the_clone(tmp_path, git_identity, monkeypatch):
    existing = (ROOT / "tests" / "fixtures" / "existing" / "a_sin_dependson.yaml").read_text()
    ours = "# pipeline del equipo: no se toca\ntrigger: none\n"
    clone, _ = clone_with_remote(
        tmp_path, "cloud", {"AlterCtraScoreDelta/template.yaml": existing, "AlterCtraScoreDelta/azure.yaml": ours}
    )
    monkeypatch.setenv(repository.INFRA_REPO_ENV, str(clone))
    step = Step(spec("infraestructura"), DEMO, DEMO_PATH, "local", get_environment("local"), tmp_path / "out", "")
    plan = infraestructura.prepare(step)
    assert plan.source.startswith(f"AlterCtraScoreDelta/template.yaml de la rama {BRANCH}")
    assert plan.patch.already_present == ["DynamoAlterCtraScoreDeltaapi"] and not plan.pipeline.first_deployment
    assert plan.files["AlterCtraScoreDelta/azure.yaml"] == ours  # an existing API's pipeline file stays the team's
    assert git(clone, "rev-parse", "--abbrev-ref", "HEAD") == BRANCH
    delivered = repository.commit(plan.clone, plan.files, "Feature HU3575833: prueba")
    assert (
        delivered.commit
        and delivered.created_branch
        and "# La tabla original (HU 3401100)" in (clone / "AlterCtraScoreDelta" / "template.yaml").read_text()
    )


def test_a_failed_commit_leaves_the_clone_as_it_was(tmp_path, git_identity):
    clone, _ = clone_with_remote(tmp_path, "coords")
    target = repository.open_clone(Target(clone), COORD_BRANCH)
    git(clone, "config", "core.hooksPath", str(tmp_path / "hooks"))
    (tmp_path / "hooks").mkdir()
    hook = tmp_path / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho rechazado por el hook >&2\nexit 1\n")
    hook.chmod(0o755)
    with pytest.raises(ProductizarError, match=r"^git commit .* falló en .*: rechazado por el hook$"):
        repository.commit(target, {"Api/API/cfg/t.json": "{}\n"}, "Feature HU1: x")
    assert git(clone, "status", "--porcelain") == "" and not (clone / "Api").exists()


# ------------------------------------------------------------------------------------- pipeline deploys


@pytest.fixture(params=["444444444444"])
def pipeline_environment(request, tmp_path, monkeypatch):
    """The environments file with local-dev deployed by the pipeline, in an account of the test's own."""
    data = pyyaml.safe_load((ROOT / "parameters" / "environments.yaml").read_text())
    data["local-dev"]["aws"]["account_id"] = request.param
    data["local-dev"]["infrastructure"] |= {"deploy": "pipeline", "pipeline_timeout_s": 60}
    path = tmp_path / "environments.yaml"
    path.write_text(pyyaml.safe_dump(data, allow_unicode=True))
    monkeypatch.setenv("PRODUCTIZAR_ENVIRONMENTS", str(path))
    env = resolve(get_environment("local-dev"))
    return Step(spec("infraestructura"), DEMO, DEMO_PATH, "local-dev", env, tmp_path / "out", "")


def play_pipeline(step: Step, body: str, values: dict[str, str], after_s: float) -> threading.Thread:
    """What the Azure DevOps pipeline does: deploy the branch's template with the params file, later."""

    def deploy() -> None:
        time.sleep(after_s)
        stack.deploy(
            aws.client(step.env, "cloudformation"),
            naming.stack_name(DEMO.api.slug),
            body,
            values,
            progress=lambda _: None,
        )

    thread = threading.Thread(target=deploy, daemon=True)
    thread.start()
    return thread


@pytest.mark.usefixtures("embedded")
def test_a_pipeline_environment_waits_for_the_stack_the_pipeline_deploys_and_verifies_it(pipeline_environment):
    step = pipeline_environment
    plan = infraestructura.prepare(step)
    values = pipeline.resolved_params(plan.files["AlterCtraScoreDelta/params/dev.json"], DEMO)
    assert values["DyAlterCtraScoreDeltaApiWriteCapacityUnits"] == "1,8000" and values["Environment"] == "dev"
    # first the pipeline deploys the trunk's template (without the HU's tables): the step keeps waiting
    cfn = aws.client(step.env, "cloudformation")
    lines: list[str] = []
    from productizar.cloud import template

    old = template.new_api_template(DEMO)
    old_values = {k: v for k, v in values.items() if k in template.declared_parameters(old)}
    play_pipeline(step, old, old_values, 0).join()
    thread = play_pipeline(step, plan.patch.text, values, 3)
    deployment = infraestructura.deploy(step, plan, progress=lines.append)
    thread.join()
    assert deployment is not None and deployment.action == "pipeline" and deployment.status == "UPDATE_COMPLETE"
    assert any("con otra plantilla: esperando el despliegue de la rama" in line for line in lines)
    assert "con la plantilla de la rama y sus parámetros" in lines[-1]
    assert cfn.describe_stacks(StackName=deployment.stack)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    found = infraestructura.verify(step, plan, deployment)
    assert found and {c.status for c in found} <= {"pass", "not_checkable"}, [c for c in found if c.status == "fail"]


@pytest.mark.usefixtures("embedded")
@pytest.mark.parametrize("pipeline_environment", ["555555555555"], indirect=True)
def test_a_pipeline_stack_with_other_parameters_fails_and_one_that_never_comes_times_out(pipeline_environment):
    step = pipeline_environment
    plan = infraestructura.prepare(step)
    cfn = aws.client(step.env, "cloudformation")
    values = pipeline.resolved_params(plan.files["AlterCtraScoreDelta/params/dev.json"], DEMO)
    name = naming.stack_name(DEMO.api.slug)
    with pytest.raises(stack.StackFailed, match=r"en 1 s \(último estado: el stack todavía no existe\)"):
        stack.await_pipeline(cfn, name, plan.patch.text, values, timeout_s=1, poll_s=0.2, progress=lambda _: None)
    stack.deploy(
        cfn, name, plan.patch.text, values | {"DyTablesBillingMode": "PAY_PER_REQUEST"}, progress=lambda _: None
    )
    with pytest.raises(
        stack.StackFailed, match=r"DyTablesBillingMode: desplegado 'PAY_PER_REQUEST', esperado 'PROVISIONED'"
    ):
        stack.await_pipeline(cfn, name, plan.patch.text, values, timeout_s=5, poll_s=0.2, progress=lambda _: None)
    commands = infraestructura.azure_devops(step, plan)
    assert "az pipelines create --name Cloud_nu0044001_productizar_alter_ctra_score_delta" in commands
    assert "--labels DEV --description '#DEV'" in commands and "--work-items 3575833" in commands
    assert (plan.folder.parent / "azure-devops.sh").read_text() == commands
