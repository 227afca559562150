"""Environment settings and the write-safety rule."""

from pathlib import Path

import pytest

from productizar.core.environments import get_environment, load_environments, write_mode
from productizar.core.errors import InputFileError
from productizar.run.endpoints import resolve


def test_repository_environments_load_with_the_runbook_paths():
    envs = load_environments()
    assert set(envs) >= {"local", "dev", "qa", "prd"}
    assert envs["dev"].coordinator_root == "/opt/gitDevops/ProductizarLaAnalitica"
    assert envs["qa"].coordinator_root == "/opt/gitDevops/AW1003001_ProductizarLaAnalitica"
    assert envs["local"].aws.endpoint == "embedded" and envs["local"].results_zone.backend == "duckdb"
    assert {envs[e].safety for e in ("qa", "prd")} == {"confirm"}
    for name in ("dev", "qa", "prd"):
        assert envs[name].aws.profile and envs[name].results_zone.backend == "hive"


def test_confirm_environments_write_only_with_the_hu_id():
    qa, local = get_environment("qa"), get_environment("local")
    assert write_mode(local, 3575833, "").apply
    none = write_mode(qa, 3575833, "")
    assert none.dry_run and "--confirm 3575833" in none.reason
    wrong = write_mode(qa, 3575833, "1234")
    assert wrong.dry_run and "no es el id de la HU" in wrong.reason
    assert write_mode(qa, 3575833, "3575833").apply
    assert write_mode(qa, 3575833, 3575833).apply


def test_bad_environment_file_lists_every_problem(tmp_path: Path):
    path = tmp_path / "environments.yaml"
    path.write_text(
        """\
local:
  safety: maybe
  aws: {region: us-east-1}
  results_zone: {backend: duckdb}
  coordinator_root: /x
dev:
  safety: open
  aws: {region: us-east-1}
  results_zone: {backend: hive, host: h, auth: LDAP}
  coordinator_root: /x
qa:
  safety: confirm
  aws: {region: us-east-1}
  results_zone: {backend: oracle}
  coordinator_root: /x
""",
        encoding="utf-8",
    )
    with pytest.raises(InputFileError) as info:
        load_environments(path)
    text = info.value.render()
    assert f'{path}:2: local.safety: must be open or confirm, got "maybe"' in text
    assert "dev.results_zone.hive: auth LDAP needs username and password_env" in text
    assert "qa.results_zone" in text and "oracle" in text
    assert "prd: required environment is missing" in text


@pytest.mark.usefixtures("embedded")
def test_child_processes_get_placeholder_credentials_only_for_the_embedded_endpoint():
    from productizar.cloud import aws
    from productizar.core.environments import get_environment

    local = aws.process_environment(resolve(get_environment("local")))
    assert (
        local["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:") and local["AWS_ACCESS_KEY_ID"] == "productizar-local"
    )
    dev = aws.process_environment(get_environment("dev"))
    assert dev == {"AWS_DEFAULT_REGION": "us-east-1", "AWS_PROFILE": "productizar-dev"}  # credentials: the chain
