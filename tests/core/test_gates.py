"""The promotion chain and the manual gates as the repository's files declare them, and the files that break
them refused with their field."""

from pathlib import Path

import pytest

from productizar.core.environments import load_environments
from productizar.core.errors import InputFileError, UsageError
from productizar.core.gates import gates_of, load_gates

ROOT = Path(__file__).resolve().parents[2]


def test_the_repository_names_the_promotion_chain_and_the_prd_gates():
    envs = load_environments()
    assert envs["qa"].promotes_from == "dev" and envs["prd"].promotes_from == "qa"
    assert envs["local-qa"].promotes_from == "local-dev" and envs["local-prd"].promotes_from == "local-qa"
    assert envs["local"].promotes_from is None and envs["local-dev"].promotes_from is None
    rehearsals = (envs["local-dev"], envs["local-qa"], envs["local-prd"])
    assert [e.safety for e in rehearsals] == ["open", "confirm", "confirm"]
    # the gates of compuertas_manuales.csv, from configuration, required in PRD and its rehearsal only
    ids = [g.id for g in load_gates()]
    assert len(ids) == 8 and ids[0] == "aprobacion_e2e" and "create_oc" in ids
    assert [g.id for g in gates_of("prd", envs["prd"])] == ids
    assert [g.id for g in gates_of("local-prd", envs["local-prd"])] == ids
    assert envs["qa"].gates == [] and envs["local-qa"].gates == []
    # each rehearsal its own account and its own copy of the demo data
    accounts = {envs[e].aws.account_id for e in ("local-dev", "local-qa", "local-prd")}
    assert len(accounts) == 3 and None not in accounts


def test_an_environment_file_with_a_broken_chain_or_an_unknown_gate_is_refused(tmp_path):
    text = (ROOT / "parameters" / "environments.yaml").read_text()
    broken = tmp_path / "environments.yaml"
    broken.write_text(text.replace("promotes_from: local-dev", "promotes_from: local-uat"))
    with pytest.raises(InputFileError, match=r"local-qa.promotes_from: names 'local-uat'"):
        load_environments(broken)
    loop = tmp_path / "loop.yaml"
    head = "local-dev:\n  description:"
    loop.write_text(text.replace(head, "local-dev:\n  promotes_from: local-prd\n  description:", 1))
    with pytest.raises(InputFileError, match="comes back to"):
        load_environments(loop)
    odd = tmp_path / "gates.yaml"
    odd.write_text(text.replace("gates: [aprobacion_e2e,", "gates: [aprobacion_e2e, visto_bueno,", 1))
    with pytest.raises(UsageError, match="prd.gates names visto_bueno, which is not a gate"):
        gates_of("prd", load_environments(odd)["prd"])
