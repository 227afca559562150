"""The naming rules against the seed's own examples (runbook-productizar-api-dynamo.md)."""

import pytest

from productizar.core import naming


def test_camel_table_names_follow_the_seed_templates():
    n = naming.table_names("resultados_riesgos.alter_ctra_score_delta", "camel")
    assert n.zone == "resultados_riesgos" and n.table == "alter_ctra_score_delta"
    assert n.table_parameter == "dynamoAlterCtraScoreDeltaapi"  # dynamo<tablename>api
    assert n.table_resource == "DynamoAlterCtraScoreDeltaapi"  # Dynamo<Tablename>api
    assert n.read_capacity_parameter == "DyAlterCtraScoreDeltaApiReadCapacityUnits"
    assert n.write_capacity_parameter == "DyAlterCtraScoreDeltaApiWriteCapacityUnits"
    assert n.read_scalable_target == "DynamoAlterCtraScoreDeltaapiReadScalableTarget"
    assert n.read_scaling_policy == "DynamoAlterCtraScoreDeltaapiReadScalingPolicy"
    assert n.write_scalable_target == "DynamoAlterCtraScoreDeltaapiWriteScalableTarget"
    assert n.write_scaling_policy == "DynamoAlterCtraScoreDeltaapiWriteScalingPolicy"


def test_lower_style_spells_the_table_in_lower_case_everywhere():
    n = naming.table_names("resultados_comercial.alter_ctra_oferta_producto", "lower")
    assert n.table_parameter == "dynamoalterctraofertaproductoapi"
    assert n.table_resource == "Dynamoalterctraofertaproductoapi"
    assert n.read_capacity_parameter == "DyalterctraofertaproductoApiReadCapacityUnits"
    assert n.write_scaling_policy == "DynamoalterctraofertaproductoapiWriteScalingPolicy"
    assert all(naming.LOGICAL_ID_RE.match(i) for i in n.logical_ids)
    assert len(set(n.logical_ids)) == 8


def test_dynamo_table_name_defaults_to_the_contract_example_and_can_be_given():
    assert naming.table_names("r.alter_ctra_score_delta", "camel").dynamo_table == "dynamo-alter-ctra-score-delta-api"
    assert naming.table_names("r.x_y", "camel", "dynamo-otra-api").dynamo_table == "dynamo-otra-api"


def test_vsts_variables_and_values_from_the_seed_table():
    read, write = naming.vsts_capacity_variables("alter-ctra-score-delta")
    assert read == "dy-alter-ctra-score-delta-api-tables-read-cu"
    assert write == "dy-alter-ctra-score-delta-api-tables-write-cu"
    assert naming.VSTS_VARIABLE_GROUP == "productizar-variables-informacion-dy-aws"
    assert naming.capacity_value((1, 50)) == "1,50" and naming.capacity_value([1, 8000]) == "1,8000"


def test_branches_pipeline_and_pr():
    assert naming.feature_branch(3575833, "alter_ctra_score_delta") == "feature/HU3575833_alter_ctra_score_delta"
    assert naming.coordinators_branch(3575833) == "feature/HU3575833_Coordinator_building"
    assert naming.pipeline_name("AlterCtraScoreDelta") == "Cloud_nu0044001_productizar_alter_ctra_score_delta"
    assert naming.pipeline_folder("AlterCtraScoreDelta") == "\\Cloud_nu0044001_productizar\\AlterCtraScoreDelta"
    assert naming.pr_title(3575833, "Despliegue API") == "Feature HU3575833: Despliegue API"
    assert naming.glue_job_parameter("AlterCtraScoreDelta") == "glueJobAlterCtraScoreDelta"  # glueJob<ApiName>
    assert naming.glue_job_resource("AlterCtraScoreDelta") == "glueJobAlterctrascoredelta"  # glueJob<Apiname>
    assert naming.stack_name("alter-ctra-score-delta") == "productizar-alter-ctra-score-delta"


def test_coordinator_folders():
    n = naming.table_names("resultados_riesgos.alter_ctra_score_delta", "camel")
    assert n.coordinator_config("AlterCtraScoreDelta") == "AlterCtraScoreDelta/API/cfg/alter_ctra_score_delta.json"
    assert naming.coordinator_logs_folder("AlterCtraScoreDelta") == "AlterCtraScoreDelta/TMP_FILES/logs"


def test_package_and_process_codes_from_the_seed_example():
    # seed: last consecutive 1936 -> SQOOPDI1937, SQPDI1937CRDCSD
    assert naming.package_code("DI", 1936 + 1) == "SQOOPDI1937"
    assert naming.process_code("DI", 1936 + 1, "CSD") == "SQPDI1937CRDCSD"


@pytest.mark.parametrize("bad", ["sin_punto", "a.b.c", "zona.tabla-con-guion", "1zona.tabla", ".tabla"])
def test_malformed_sources_are_refused(bad):
    with pytest.raises(ValueError, match="<zona_resultados>.<tabla>"):
        naming.split_source(bad)


def test_camel_tokens_of_mixed_spellings():
    assert naming.table_token("ScoreDelta_v2", "camel") == "ScoreDeltaV2"
    assert naming.table_token("ScoreDelta_v2", "lower") == "scoredeltav2"
    assert naming.api_snake("BamRiesgosA18") == "bam_riesgos_a18"
