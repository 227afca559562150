"""The runbook's naming rules, in one place.

Every name the runbook derives from an HU (CloudFormation IDs and parameters, VSTS variables, branches,
pipelines, coordinator folders, inventory package and process codes) is built here and nowhere else, so a
rule changes once. The examples in the seed (runbook-productizar-api-dynamo.md) are the tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

NameStyle = Literal["camel", "lower"]

VSTS_VARIABLE_GROUP = "productizar-variables-informacion-dy-aws"
CLOUD_REPO = "Cloud_nu0044001_productizar"
COORDINATORS_REPO = "NU0044001_ProductizarLaAnalitica"
TRUNK = "trunk"
AZURE_DEVOPS_ORG = "https://grupobancolombia.visualstudio.com"
AZURE_DEVOPS_PROJECT = "Vicepresidencia Servicios de Tecnología"
COORDINATORS_BRANCH_SUFFIX = "Coordinator_building"
#: the coordinators' inventory and its columns, as the runbook's INSERT lists them
INVENTORY_TABLE = "resultados.inventario_lz"
INVENTORY_COLUMNS = (
    "package",
    "table_name",
    "semilla",
    "proceso",
    "origen_fuente",
    "data_folder",
    "periodicidad",
    "descripcion",
    "solicita_ingestion",
    "dia_ejecucion",
    "hora_ejecucion",
    "prerrequisito",
)

# What CloudFormation accepts for a logical ID or parameter name, and DynamoDB for a table name.
LOGICAL_ID_RE = re.compile(r"^[A-Za-z0-9]{1,255}$")
DYNAMO_TABLE_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
# Hive/Impala identifiers as the results zone spells them: schema.table, letters, digits, underscores.
SOURCE_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")


def _words(identifier: str) -> list[str]:
    """Split a snake_case, kebab-case or CamelCase identifier into lowercase words."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", identifier)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


def table_token(table: str, style: NameStyle) -> str:
    """How a results-zone table name is spelled inside CloudFormation IDs.

    ``camel``: alter_ctra_score_delta -> AlterCtraScoreDelta; ``lower``: -> alterctrascoredelta.
    """
    words = _words(table)
    if style == "camel":
        return "".join(w[:1].upper() + w[1:] for w in words)
    return "".join(words)


def split_source(source: str) -> tuple[str, str]:
    """``resultados_riesgos.alter_ctra_score_delta`` -> (zone, table); ValueError when malformed."""
    m = SOURCE_RE.match(source)
    if not m:
        raise ValueError(f'must be <zona_resultados>.<tabla> (letters, digits, _), got "{source}"')
    return m.group(1), m.group(2)


def default_dynamo_table(table: str) -> str:
    """The DynamoDB table name the runbook uses when the HU does not give one: dynamo-<kebab>-api."""
    return "dynamo-" + "-".join(_words(table)) + "-api"


@dataclass(frozen=True)
class TableNames:
    """Every name derived from one HU table."""

    zone: str
    table: str
    token: str
    dynamo_table: str

    @property
    def table_parameter(self) -> str:
        """CloudFormation parameter holding the DynamoDB table name: ``dynamo<tablename>api``."""
        return f"dynamo{self.token}api"

    @property
    def table_resource(self) -> str:
        """CloudFormation logical ID of the table: ``Dynamo<Tablename>api``."""
        return f"Dynamo{self.token}api"

    @property
    def read_capacity_parameter(self) -> str:
        return f"Dy{self.token}ApiReadCapacityUnits"

    @property
    def write_capacity_parameter(self) -> str:
        return f"Dy{self.token}ApiWriteCapacityUnits"

    @property
    def read_scalable_target(self) -> str:
        return f"{self.table_resource}ReadScalableTarget"

    @property
    def read_scaling_policy(self) -> str:
        return f"{self.table_resource}ReadScalingPolicy"

    @property
    def write_scalable_target(self) -> str:
        return f"{self.table_resource}WriteScalableTarget"

    @property
    def write_scaling_policy(self) -> str:
        return f"{self.table_resource}WriteScalingPolicy"

    @property
    def logical_ids(self) -> tuple[str, ...]:
        """All CloudFormation IDs (parameters and resources) this table adds to a template."""
        return (
            self.table_parameter,
            self.read_capacity_parameter,
            self.write_capacity_parameter,
            self.table_resource,
            self.read_scalable_target,
            self.read_scaling_policy,
            self.write_scalable_target,
            self.write_scaling_policy,
        )

    def coordinator_config(self, api_name: str) -> str:
        """Path of the coordinator config in the coordinators repo: ``<ApiName>/API/cfg/<table>.json``."""
        return f"{api_name}/API/cfg/{self.table}.json"


def table_names(source: str, style: NameStyle, dynamo_table: str | None = None) -> TableNames:
    zone, table = split_source(source)
    return TableNames(
        zone=zone,
        table=table,
        token=table_token(table, style),
        dynamo_table=dynamo_table or default_dynamo_table(table),
    )


def glue_job_parameter(api_name: str) -> str:
    """CloudFormation parameter holding the Glue job's name: ``glueJob<ApiName>``."""
    return f"glueJob{api_name}"


def glue_job_resource(api_name: str) -> str:
    """CloudFormation resource of the Glue job: ``glueJob<Apiname>`` (the seed's spelling; a resource and
    a parameter may not share a logical ID, so only the first letter of the API name stays capital)."""
    return f"glueJob{api_name[:1].upper()}{api_name[1:].lower()}"


def glue_job_name(api_slug: str) -> str:
    """The Glue job's name in AWS (the value of ``glueJob<ApiName>``)."""
    return f"productizar-{api_slug}-carga-dynamo"


def stack_name(api_slug: str) -> str:
    """The CloudFormation stack of an API."""
    return f"productizar-{api_slug}"


def vsts_capacity_variables(api_slug: str) -> tuple[str, str]:
    """VSTS library variables (read, write) in group ``productizar-variables-informacion-dy-aws``."""
    return f"dy-{api_slug}-api-tables-read-cu", f"dy-{api_slug}-api-tables-write-cu"


def capacity_value(min_max: tuple[int, int] | list[int]) -> str:
    """The value VSTS holds for a capacity range: ``1,50``."""
    lo, hi = min_max
    return f"{lo},{hi}"


def feature_branch(hu_id: int, hu_slug: str) -> str:
    """Infrastructure branch: ``feature/HU<id>_<slug>``."""
    return f"feature/HU{hu_id}_{hu_slug}"


def coordinators_branch(hu_id: int) -> str:
    """Coordinators repository branch, as in the seed: ``feature/HU3575833_Coordinator_building``."""
    return f"feature/HU{hu_id}_{COORDINATORS_BRANCH_SUFFIX}"


def api_snake(api_name: str) -> str:
    """``AlterCtraScoreDelta`` -> ``alter_ctra_score_delta`` (the ``<api_name>`` of pipeline names)."""
    return "_".join(_words(api_name))


def api_kebab(api_name: str) -> str:
    """``AlterCtraScoreDelta`` -> ``alter-ctra-score-delta`` (the API's slug, as the demo HU writes it)."""
    return "-".join(_words(api_name))


def pipeline_name(api_name: str) -> str:
    """Infrastructure pipeline: ``Cloud_nu0044001_productizar_<api_name>``."""
    return f"{CLOUD_REPO}_{api_snake(api_name)}"


def pipeline_folder(api_name: str) -> str:
    r"""Pipeline folder in VSTS: ``\Cloud_nu0044001_productizar\<ApiName>``."""
    return f"\\{CLOUD_REPO}\\{api_name}"


def pr_title(hu_id: int, title: str) -> str:
    return f"Feature HU{hu_id}: {title}"


def endpoint_path(api_slug: str, table: str, partition_key: str, sort_key: str | None = None) -> str:
    """Read-only path the API serves for one table: ``/<api-slug>/<table>/{<pk>}[/{<sk>}]``."""
    return f"/{api_slug}/{table}/{{{partition_key}}}" + (f"/{{{sort_key}}}" if sort_key else "")


def api_table_variable(table: str) -> str:
    """Environment variable that gives the API one table's DynamoDB name: ``DYNAMO_TABLE_<TABLE>``."""
    return "DYNAMO_TABLE_" + re.sub(r"[^A-Za-z0-9]", "_", table).upper()


def coordinator_logs_folder(api_name: str) -> str:
    return f"{api_name}/TMP_FILES/logs"


def package_code(periodicity: str, consecutive: int) -> str:
    """Inventory package: ``SQOOP<periodicity><n>`` (seed: SQOOPDI1937)."""
    return f"SQOOP{periodicity}{consecutive}"


def process_code(periodicity: str, consecutive: int, aplicativo: str) -> str:
    """Inventory process: ``SQP<periodicity><n>CRD<aplicativo>`` (seed: SQPDI1937CRDCSD)."""
    return f"SQP{periodicity}{consecutive}CRD{aplicativo}"
