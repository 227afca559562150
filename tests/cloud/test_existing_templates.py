"""Hand-written templates, patched as they are: a template that scanned clean scans clean after the patch
with no new warning, keeps its tables, comments, order and unrelated resources, and patches to the same
bytes twice. The fixtures differ in naming, style and resource mix as real APIs' templates do."""

import re
from pathlib import Path

import pytest
import yaml as pyyaml

from productizar.cloud import scans, template
from productizar.core.hu import HU, load_hu
from tests.support.cfn import load

ROOT = Path(__file__).resolve().parents[2]
EXISTING = ROOT / "tests" / "fixtures" / "existing"
DEMO_FILE = ROOT / "parameters" / "hu" / "demo.yaml"


def demo(**infrastructure) -> HU:
    data = pyyaml.safe_load(DEMO_FILE.read_text())
    data["infrastructure"] = infrastructure
    return HU.model_validate(data)


# fixture -> (the HU's infrastructure fields it needs, how its statements write table ARNs)
CASES = {
    "a_sin_dependson.yaml": ({}, "!GetAtt DynamoAlterCtraSegmentoClienteapi.Arn"),
    "b_politicas_administradas.yaml": ({}, ":table/${dynamoAlterCtraSegmentoClienteapi}"),
    "c_politicas_en_linea.yaml": ({}, "Fn::GetAtt: [DynamoAlterCtraSegmentoClienteapi, Arn]"),
    "d_dos_jobs.yaml": ({"glue_job_resource": "JobCargaCompleta"}, "!GetAtt DynamoAlterCtraSegmentoClienteapi.Arn"),
    "../template_two_tables.yaml": ({}, "!GetAtt DynamoAlterCtraSegmentoClienteapi.Arn"),
}


@pytest.fixture(scope="module")
def patched(tmp_path_factory):
    """Every fixture patched with the demo HU, the original and the patched file written side by side."""
    out = tmp_path_factory.mktemp("existing")
    cases = {}
    for name, (infra, _) in CASES.items():
        text = (EXISTING / name).read_text(encoding="utf-8")
        result = template.patch(text, demo(**infra), name=name)
        stem = Path(name).stem
        before, after = out / f"{stem}.antes.yaml", out / f"{stem}.despues.yaml"
        before.write_text(text, encoding="utf-8")
        after.write_text(result.text, encoding="utf-8")
        cases[name] = (text, result, before, after)
    return cases


@pytest.fixture(scope="module")
def scanned(patched):
    """Every original and patched file scanned with the real cfn-lint and checkov, in one batch."""
    found = scans.scan_many([p for _, _, b, a in patched.values() for p in (b, a)])
    return {name: (found[b], found[a]) for name, (_, _, b, a) in patched.items()}


@pytest.mark.scan
@pytest.mark.parametrize("name", list(CASES))
def test_clean_before_means_clean_after_with_no_new_warning(patched, scanned, name):
    (_, result, _, _), (before, after) = patched[name], scanned[name]
    assert result.changed
    assert before.clean, f"the fixture itself must scan clean: {before.findings}"
    assert after.findings == [], [f"{f.tool} {f.rule} {f.resource}: {f.message}" for f in after.findings]
    assert after.clean


@pytest.mark.parametrize("name", list(CASES))
def test_tables_comments_order_and_unrelated_resources_are_untouched(patched, name):
    text, result, _, _ = patched[name]
    old, new = load(text)["Resources"], load(result.text)["Resources"]
    hu = demo(**CASES[name][0])
    owned = {result.glue["resource"]} | {
        rid
        for rid, res in old.items()
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role")
        and "dynamodb:" in str(res.get("Properties"))
    }
    for rid, res in old.items():
        if rid not in owned:
            assert new[rid] == res, f"{rid} changed"
    # the Glue job only gains the figures
    job_old, job_new = old[result.glue["resource"]]["Properties"], new[result.glue["resource"]]["Properties"]
    assert {k: v for k, v in job_new.items() if k not in ("WorkerType", "NumberOfWorkers", "ExecutionProperty")} == {
        k: v for k, v in job_old.items() if k not in ("WorkerType", "NumberOfWorkers", "ExecutionProperty")
    }
    # the diff removes no line but a Glue figure it sets or a single resource it turns into a list
    removed = [line[1:].strip() for line in result.diff.splitlines() if line.startswith("-") and line[:3] != "---"]
    allowed = re.compile(r"^(MaxConcurrentRuns|WorkerType|NumberOfWorkers): |^Fn::GetAtt: \[|^Resource: ")
    assert [r for r in removed if r and not allowed.search(r)] == []
    comments = [line.split("#", 1)[1].strip() for line in text.splitlines() if re.search(r"(^|\s)#\s", line)]
    assert comments and all(c in result.text for c in comments)
    order = [rid for rid in new if rid in old]
    assert order == list(old)
    assert len(new) == len(old) + 5 * (len(hu.tables) - len(result.already_present))


@pytest.mark.parametrize("name", list(CASES))
def test_policies_are_granted_in_the_templates_own_shape_and_style(patched, name):
    text, result, _, _ = patched[name]
    assert CASES[name][1] in result.text
    old, new = load(text)["Resources"], load(result.text)["Resources"]
    for rid, res in old.items():
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role"):
            # DependsOn where the template writes it, never where a reference already orders the resources
            assert ("DependsOn" in new[rid]) == ("DependsOn" in res), rid


@pytest.mark.parametrize("name", list(CASES))
def test_a_second_patch_gives_the_same_bytes(patched, name):
    _, result, _, _ = patched[name]
    again = template.patch(result.text, demo(**CASES[name][0]), name=name)
    assert not again.changed and again.text == result.text and again.diff == ""


def test_the_existing_table_is_found_by_its_table_name_under_another_logical_id(patched):
    _, result, _, _ = patched["b_politicas_administradas.yaml"]
    assert result.already_present == ["TablaScoreDelta"]
    assert "DynamoAlterCtraScoreDeltaapi" not in load(result.text)["Resources"]
    _, literal, _, _ = patched["c_politicas_en_linea.yaml"]  # TableName written out, no parameter
    assert literal.already_present == ["ScoreDeltaTable"]
    assert {"DyTablesBillingMode", "IsDyTablesBillingModeProvisioned"} <= set(literal.added)


def test_several_glue_jobs_need_the_hu_to_name_one():
    text = (EXISTING / "d_dos_jobs.yaml").read_text(encoding="utf-8")
    with pytest.raises(template.TemplateError, match=r"JobCargaCompleta, JobCargaIncremental.*glue_job_resource"):
        template.patch(text, load_hu(DEMO_FILE))
    with pytest.raises(template.TemplateError, match="glue_job_resource: JobInexistente"):
        template.patch(text, demo(glue_job_resource="JobInexistente"))
