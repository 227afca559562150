"""The files and names around the template that the runbook edits by hand in the cloud repository.

Per environment a params file whose capacities reference the VSTS library variables (created by the
analyst in group ``productizar-variables-informacion-dy-aws``), the pipeline definition ``azure.yaml``
with QA and PRD switched off on a first deployment, and the branch, pipeline and PR names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
from jinja2 import Environment as Jinja
from jinja2 import StrictUndefined

from productizar.core import naming
from productizar.core.hu import HU

ENVIRONMENTS = ("dev", "qa", "prd")


def token(variable: str) -> str:
    """How a params file refers to a VSTS library variable (Replace Tokens task)."""
    return f"#{{{variable}}}#"


def vsts_variables(hu: HU) -> pd.DataFrame:
    read, write = naming.vsts_capacity_variables(hu.api.slug)
    return pd.DataFrame(
        [
            {"Nombre": read, "Valor": naming.capacity_value(hu.capacity.read), "Grupo": naming.VSTS_VARIABLE_GROUP},
            {"Nombre": write, "Valor": naming.capacity_value(hu.capacity.write), "Grupo": naming.VSTS_VARIABLE_GROUP},
        ]
    )


def params_file(hu: HU, env_name: str, eks_oidc_provider_arn: str, declared: set[str] | None = None) -> str:
    """``params/<env>.json`` for the CloudFormation deploy task; capacities come from VSTS. ``declared``:
    the template's parameters (a stack refuses a value for one it does not declare)."""
    read, write = naming.vsts_capacity_variables(hu.api.slug)
    values = {
        "Environment": env_name,
        "DyTablesBillingMode": hu.capacity.billing_mode,
        naming.glue_job_parameter(hu.api.name): naming.glue_job_name(hu.api.slug),
        "EksOidcProviderArn": eks_oidc_provider_arn,
    }
    for t in hu.tables:
        n = t.names
        values |= {
            n.table_parameter: n.dynamo_table,
            n.read_capacity_parameter: token(read),
            n.write_capacity_parameter: token(write),
        }
    body = [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items() if declared is None or k in declared]
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def resolved_params(params_text: str, hu: HU) -> dict[str, str]:
    """A params file's values as the pipeline deploys them: each VSTS token replaced by the variable's
    value (the HU's capacities), as its Replace Tokens task does."""
    read, write = naming.vsts_capacity_variables(hu.api.slug)
    tokens = {
        token(read): naming.capacity_value(hu.capacity.read),
        token(write): naming.capacity_value(hu.capacity.write),
    }
    return {p["ParameterKey"]: tokens.get(p["ParameterValue"], p["ParameterValue"]) for p in json.loads(params_text)}


def merge_params(existing: str | None, ours: str) -> str:
    """An existing params file keeps its entries and values; the HU's missing keys are appended. The same
    text when nothing is missing."""
    if existing is None:
        return ours
    current = json.loads(existing)
    known = {p["ParameterKey"] for p in current}
    missing = [p for p in json.loads(ours) if p["ParameterKey"] not in known]
    if not missing:
        return existing
    return json.dumps(current + missing, indent=2, ensure_ascii=False) + "\n"


_AZURE = Jinja(undefined=StrictUndefined, keep_trailing_newline=True).from_string(
    """\
# Pipeline de infraestructura del API {{ api }}
#   nombre en VSTS: {{ pipeline }}
#   carpeta:        {{ folder }}
# Generado por productizar (HU {{ hu_id }}). {{ note }}
trigger:
  branches:
    include:
      - trunk
  paths:
    include:
      - {{ api }}/*

variables:
  - group: {{ group }}
  - name: apiName
    value: {{ api }}
  - name: stackName
    value: {{ stack }}
  - name: templateFile
    value: {{ api }}/template.yaml

stages:
  - stage: CodeScanIaC
    displayName: Code Scan IaC
    jobs:
      - job: scan
        steps:
          - script: cfn-lint $(templateFile) && checkov -f $(templateFile) --framework cloudformation
{% for env in envs %}
  - stage: {{ env.stage }}
    displayName: Despliegue {{ env.stage }}
    dependsOn: {{ env.depends }}
    condition: {{ env.condition }}
    jobs:
      - deployment: infraestructura_{{ env.name }}
        environment: productizar-{{ env.name }}
        strategy:
          runOnce:
            deploy:
              steps:
                - task: replacetokens@5
                  inputs:
                    targetFiles: {{ api }}/params/{{ env.name }}.json
                - task: CloudFormationCreateOrUpdateStack@1
                  inputs:
                    stackName: $(stackName)
                    templateFile: $(templateFile)
                    templateParametersFile: {{ api }}/params/{{ env.name }}.json
                    capabilityIAM: true
{% endfor %}"""
)


@dataclass(frozen=True)
class PipelinePlan:
    first_deployment: bool

    def stages(self) -> dict[str, bool]:
        """Stage conditions: on a first deployment only DEV runs until the infrastructure is proven."""
        return {"DEV": True, "QA": not self.first_deployment, "PRD": not self.first_deployment}

    def tags(self) -> str:
        return " ".join(f"#{s}" for s, on in self.stages().items() if on)


def azure_pipeline(hu: HU, plan: PipelinePlan) -> str:
    stages = plan.stages()
    previous = {"DEV": "CodeScanIaC", "QA": "DEV", "PRD": "QA"}
    envs = [
        {"stage": stage, "name": name, "depends": previous[stage], "condition": "succeeded()" if on else "false"}
        for (stage, on), name in zip(stages.items(), ENVIRONMENTS)
    ]
    note = (
        "Primer despliegue: QA y PRD quedan con condition false hasta probar la infraestructura en DEV."
        if plan.first_deployment
        else "QA y PRD habilitados."
    )
    return _AZURE.render(
        api=hu.api.name,
        pipeline=naming.pipeline_name(hu.api.name),
        folder=naming.pipeline_folder(hu.api.name),
        hu_id=hu.id,
        note=note,
        group=naming.VSTS_VARIABLE_GROUP,
        stack=naming.stack_name(hu.api.slug),
        envs=envs,
    )


def names_table(hu: HU, plan: PipelinePlan) -> pd.DataFrame:
    """What the analyst types in VSTS and git, in one place."""
    rows = {
        "Rama de infraestructura": naming.feature_branch(hu.id, hu.hu.slug),
        "Pipeline (nombre)": naming.pipeline_name(hu.api.name),
        "Pipeline (carpeta)": naming.pipeline_folder(hu.api.name),
        "Stack de CloudFormation": naming.stack_name(hu.api.slug),
        "Título del PR": naming.pr_title(hu.id, hu.hu.title),
        "Etiquetas del PR": plan.tags(),
    }
    return pd.DataFrame({"Valor": rows}).rename_axis("Concepto")


def _q(value: str) -> str:
    """A shell word in single quotes."""
    return "'" + value.replace("'", "'\\''") + "'"


def az_commands(hu: HU, plan: PipelinePlan) -> str:
    """The runbook's Azure DevOps work as ``az`` commands (azure-devops extension), in its order: the VSTS
    capacity variables, the pipeline on the branch (a new API only; saved, not run), its run on the branch
    (DEV), and the PRs of both repositories with the HU linked and the environments' tags."""
    branch = naming.feature_branch(hu.id, hu.hu.slug)
    coordinators = naming.coordinators_branch(hu.id)
    title = naming.pr_title(hu.id, hu.hu.title)
    read, write = naming.vsts_capacity_variables(hu.api.slug)
    tags = [s for s, on in plan.stages().items() if on]
    lines = [
        "#!/usr/bin/env bash",
        f"# Azure DevOps de la HU {hu.id} ({hu.api.name}), generado por productizar. Revíselo antes de ejecutarlo:",
        "# crea recursos compartidos (variables, pipeline, PR). Requiere: az extension add --name azure-devops",
        "set -euo pipefail",
        f"az devops configure --defaults organization={naming.AZURE_DEVOPS_ORG} "
        f"project={_q(naming.AZURE_DEVOPS_PROJECT)}",
        "",
        f"# 1. Variables de capacidad en el grupo {naming.VSTS_VARIABLE_GROUP} (si ya existen: variable update)",
        f"GROUP_ID=$(az pipelines variable-group list --group-name {naming.VSTS_VARIABLE_GROUP} "
        "--query '[0].id' -o tsv)",
        f'az pipelines variable-group variable create --group-id "$GROUP_ID" --name {read} '
        f"--value {naming.capacity_value(hu.capacity.read)}",
        f'az pipelines variable-group variable create --group-id "$GROUP_ID" --name {write} '
        f"--value {naming.capacity_value(hu.capacity.write)}",
        "",
    ]
    if plan.first_deployment:
        lines += [
            "# 2. Pipeline del API nuevo sobre la rama (no sobre trunk), guardado sin ejecutar, con nombre y carpeta",
            f"az pipelines create --name {naming.pipeline_name(hu.api.name)} "
            f"--folder-path {_q(naming.pipeline_folder(hu.api.name))} --repository {naming.CLOUD_REPO} "
            f"--repository-type tfsgit --branch {branch} --yml-path {hu.api.name}/azure.yaml --skip-first-run true",
            "",
        ]
    else:
        lines += ["# 2. El API ya tiene su pipeline: no se crea otro", ""]
    lines += [
        "# 3. Despliegue en DEV desde la rama (productizar espera el stack y lo verifica)",
        f"az pipelines run --name {naming.pipeline_name(hu.api.name)} --branch {branch}",
        "",
        "# 4. PR de infraestructura a trunk, con la HU enlazada y las etiquetas de los ambientes habilitados",
        f"az repos pr create --repository {naming.CLOUD_REPO} --source-branch {branch} --target-branch {naming.TRUNK} "
        f"--title {_q(title)} --work-items {hu.id} --labels {' '.join(tags)} "
        f"--description {_q(' '.join('#' + t for t in tags))}",
        "",
        "# 5. PR de los coordinadores",
        f"az repos pr create --repository {naming.COORDINATORS_REPO} --source-branch {coordinators} "
        f"--target-branch {naming.TRUNK} --title {_q(f'Feature HU{hu.id}: coordinadores de {hu.api.name}')} "
        f"--work-items {hu.id}",
        "",
    ]
    return "\n".join(lines)
