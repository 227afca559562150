"""What the patcher must touch, found in hand-written templates by what their resources are: the Glue job by
its type, its policy through its role, the API's through the role the EKS cluster assumes, the only KMS key,
an HU table by its written-out name; where the template alone does not say, the error names the HU field."""

import pytest
import yaml as pyyaml
from ruamel.yaml import YAML

from productizar.cloud import discovery
from productizar.core.hu import HU, load_hu
from tests.support.hu import DEMO

EXISTING = DEMO.parents[2] / "tests" / "fixtures" / "existing"


def resources(name: str):
    return YAML().load((EXISTING / name).read_text(encoding="utf-8"))["Resources"]


def demo(**infrastructure) -> HU:
    data = pyyaml.safe_load(DEMO.read_text(encoding="utf-8"))
    data["infrastructure"] = infrastructure
    return HU.model_validate(data)


def test_a_template_with_none_of_the_runbooks_names_is_read_by_what_its_resources_are():
    res, hu = resources("c_politicas_en_linea.yaml"), load_hu(DEMO)
    job = discovery.glue_job(res, hu)
    assert job == "Loader"  # the only AWS::Glue::Job
    glue = discovery.glue_policy(res, hu, job)
    assert glue.owner == "LoaderRole" and discovery.tables_statement(glue, ["ScoreDeltaTable"]) is not None
    api = discovery.api_policy(res, hu)
    assert api.owner == "ApiPodsRole"  # the role trusting sts:AssumeRoleWithWebIdentity, its policy inline
    assert discovery.kms_key(res, hu) == "KeyApi"  # no alias: the only key
    first, second, _ = hu.tables
    assert discovery.existing_table(res, first) == "ScoreDeltaTable"  # TableName written out
    assert discovery.existing_table(res, second) is None


def test_the_runbooks_names_come_first():
    res, hu = resources("a_sin_dependson.yaml"), load_hu(DEMO)
    assert discovery.glue_policy(res, hu, discovery.glue_job(res, hu)).owner == discovery.GLUE_POLICY
    assert discovery.api_policy(res, hu).owner == discovery.EKS_POLICY
    assert discovery.kms_key(res, hu) == discovery.KMS_ALIAS
    assert discovery.existing_table(res, hu.tables[0]) == "DynamoAlterCtraScoreDeltaapi"


def test_where_the_template_does_not_say_the_error_names_the_hu_field_and_the_hu_choice_is_checked():
    res = resources("d_dos_jobs.yaml")
    with pytest.raises(discovery.TemplateError, match=r"2 jobs de Glue \(JobCargaCompleta, JobCargaIncremental\)"):
        discovery.glue_job(res, load_hu(DEMO))
    assert discovery.glue_job(res, demo(glue_job_resource="JobCargaIncremental")) == "JobCargaIncremental"
    with pytest.raises(discovery.TemplateError, match="infrastructure.glue_job_resource: JobInexistente"):
        discovery.glue_job(res, demo(glue_job_resource="JobInexistente"))
    with pytest.raises(discovery.TemplateError, match="infrastructure.kms_key_resource: GlueRole"):
        discovery.kms_key(res, demo(kms_key_resource="GlueRole"))  # a role is not a key


@pytest.mark.parametrize("how", ["getatt", "sub-arn", "sub-name", "long"])
def test_a_tables_arns_are_written_in_the_shape_they_are_read_back_in(how):
    spec = load_hu(DEMO).tables[0]
    prefix = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}" if how == "sub-name" else ""
    arns = discovery.table_arns(spec, "TablaX", how, prefix, stream=True)
    assert len(arns) == 3  # the table, its indexes, its streams
    assert discovery.shape(arns) == (how, prefix)
    assert discovery.mentions(arns, None if how == "sub-name" else "TablaX", spec.names.table_parameter)
