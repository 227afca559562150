"""Deploy an API's stack: create or update it and follow its events until it settles; a stack that fails or
rolls back fails the step with the resource and the reason (its checks are ``cloud.checks``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from productizar.cloud import aws
from productizar.core import naming
from productizar.core.environments import Environment, counterpart
from productizar.core.errors import ProductizarError
from productizar.core.hu import HU

SETTLED_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
SETTLED_BAD = {
    "CREATE_FAILED",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
    "DELETE_COMPLETE",
    "DELETE_FAILED",
    "IMPORT_ROLLBACK_COMPLETE",
}


class StackFailed(ProductizarError):
    pass


def parameters(hu: HU, env_name: str, env: Environment) -> dict[str, str]:
    """The stack's parameter values for an environment (capacities as VSTS holds them: ``1,50``)."""
    values = {
        "Environment": counterpart(env_name),  # a rehearsal deploys as the environment it stands for
        "DyTablesBillingMode": hu.capacity.billing_mode,
        naming.glue_job_parameter(hu.api.name): naming.glue_job_name(hu.api.slug),
        "EksOidcProviderArn": env.infrastructure.eks_oidc_provider_arn,
    }
    for t in hu.tables:
        n = t.names
        values[n.table_parameter] = n.dynamo_table
        values[n.read_capacity_parameter] = naming.capacity_value(hu.capacity.read)
        values[n.write_capacity_parameter] = naming.capacity_value(hu.capacity.write)
    return values


def first_failure(events: list[dict[str, Any]]) -> tuple[str, str]:
    """The resource that failed first and why, from stack events (newest first, as AWS lists them)."""
    for e in reversed(events):
        if e.get("ResourceStatus", "").endswith("_FAILED") and e.get("LogicalResourceId") != e.get("StackName"):
            return e["LogicalResourceId"], e.get("ResourceStatusReason") or "sin motivo"
    for e in reversed(events):
        if e.get("ResourceStatus", "").endswith("_FAILED"):
            return e["LogicalResourceId"], e.get("ResourceStatusReason") or "sin motivo"
    return "(stack)", "terminó en un estado de reversión sin un recurso fallido en los eventos"


@dataclass
class Deployment:
    stack: str
    action: str  # created | updated | unchanged
    status: str
    events: pd.DataFrame
    resources: pd.DataFrame


def _events(cfn: Any, stack: str) -> list[dict[str, Any]]:
    return cfn.describe_stack_events(StackName=stack)["StackEvents"]


def deploy(
    cfn: Any,
    stack: str,
    template_body: str,
    values: dict[str, str],
    timeout_s: int = 1800,
    poll_s: float = 2.0,
    progress: Callable[[str], None] = print,
) -> Deployment:
    """Create or update ``stack`` and wait until it settles, reporting each new event."""
    params = [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]
    current = None
    try:
        current = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    except ClientError:
        pass
    if current and current not in SETTLED_OK | {"UPDATE_ROLLBACK_COMPLETE"}:
        raise StackFailed(
            f"El stack {stack} está en estado {current}: no se puede actualizar. "
            "Si es ROLLBACK_COMPLETE, bórrelo con el pipeline de borrado y despliegue de nuevo."
        )
    seen = {e["EventId"] for e in _events(cfn, stack)} if current else set()
    kwargs = dict(StackName=stack, TemplateBody=template_body, Parameters=params, Capabilities=["CAPABILITY_IAM"])
    try:
        if current:
            cfn.update_stack(**kwargs)
            action = "updated"
        else:
            cfn.create_stack(**kwargs)
            action = "created"
    except ClientError as exc:
        if "No updates are to be performed" in aws.error_text(exc):
            action = "unchanged"
        else:
            raise StackFailed(f"CloudFormation rechazó el stack {stack}: {aws.error_text(exc)}") from None
    except (BotoCoreError, ResponseParserError) as exc:  # moto answers some failures with a body botocore cannot parse
        raise StackFailed(f"CloudFormation no pudo crear el stack {stack}: {aws.error_text(exc)}") from None

    deadline = time.monotonic() + timeout_s
    status = current or ""
    while action != "unchanged":
        for e in reversed(_events(cfn, stack)):
            if e["EventId"] not in seen:
                seen.add(e["EventId"])
                reason = f" — {e['ResourceStatusReason']}" if e.get("ResourceStatusReason") else ""
                progress(f"{e['LogicalResourceId']}: {e['ResourceStatus']}{reason}")
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        if status in SETTLED_OK:
            break
        if status in SETTLED_BAD:
            resource, reason = first_failure(_events(cfn, stack))
            raise StackFailed(f"El stack {stack} terminó en {status}: falló {resource}: {reason}")
        if time.monotonic() > deadline:
            raise StackFailed(
                f"El stack {stack} sigue en {status} después de {timeout_s} s; revise la consola de CloudFormation."
            )
        time.sleep(poll_s)

    events = pd.DataFrame(
        [
            {
                "Recurso": e["LogicalResourceId"],
                "Tipo": e.get("ResourceType", ""),
                "Estado": e["ResourceStatus"],
                "Motivo": e.get("ResourceStatusReason") or "",
            }
            for e in _events(cfn, stack)
        ]
    )
    resources = pd.DataFrame(
        [
            {"Recurso": r["LogicalResourceId"], "Tipo": r["ResourceType"], "Estado": r["ResourceStatus"]}
            for r in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
        ]
    )
    return Deployment(stack, action, status or "UNCHANGED", events, resources)
