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

from productizar.cloud import aws, template
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


def _settled(cfn: Any, stack: str, action: str, status: str) -> Deployment:
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
    return Deployment(stack, action, status, events, resources)


def same_template(deployed: Any, expected: str) -> bool:
    """Whether a stack's template is the expected one: the same text, or the same document (AWS may hand
    back JSON templates parsed, and re-serialize whitespace)."""
    from ruamel.yaml import YAML

    if isinstance(deployed, str) and deployed.strip() == expected.strip():
        return True
    y = YAML(typ="rt")
    try:
        ours = template.plain(y.load(expected))
        theirs = template.plain(y.load(deployed) if isinstance(deployed, str) else deployed)
    except Exception:  # noqa: BLE001 - a body that does not parse is simply not ours
        return False
    return bool(ours == theirs)


def parameter_differences(deployed: list[dict[str, Any]], expected: dict[str, str]) -> list[str]:
    """Each parameter whose deployed value is not the params file's (after the pipeline's token replace)."""
    got = {p["ParameterKey"]: p.get("ResolvedValue") or p.get("ParameterValue") for p in deployed}
    return [
        f"{k}: desplegado {got.get(k, '(no está)')!r}, esperado {v!r}"
        for k, v in expected.items()
        if list_value(got.get(k)) != list_value(v)
    ]


def list_value(value: str | None) -> str | None:
    """A List<Number> parameter as ``1,50`` however the endpoint writes it (``[1, 50]``, ``1, 50``)."""
    if value is None:
        return None
    return ",".join(part.strip() for part in value.strip().strip("[]").split(","))


def await_pipeline(
    cfn: Any,
    stack: str,
    template_body: str,
    values: dict[str, str],
    timeout_s: int,
    poll_s: float = 5.0,
    progress: Callable[[str], None] = print,
) -> Deployment:
    """Wait for the stack the pipeline deploys from the branch: settled, with the branch's template and the
    params file's values. Never creates or updates it. Fails on a stack that rolls back, on parameters that
    are not the params file's, and at the time limit with what is still missing."""
    started = time.monotonic()
    last = ""
    while True:
        elapsed = int(time.monotonic() - started)
        try:
            found = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        except ClientError:
            found = None
        if found is None:
            state = "el stack todavía no existe"
        else:
            status = found["StackStatus"]
            if status in SETTLED_BAD:
                resource, reason = first_failure(_events(cfn, stack))
                raise StackFailed(
                    f"El stack {stack} que desplegó el pipeline terminó en {status}: falló {resource}: {reason}"
                )
            if status in SETTLED_OK:
                body = cfn.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
                if same_template(body, template_body):
                    wrong = parameter_differences(found.get("Parameters", []), values)
                    if wrong:
                        raise StackFailed(
                            f"El stack {stack} tiene la plantilla de la rama pero no los parámetros del archivo "
                            "params: " + "; ".join(wrong)
                        )
                    progress(f"{stack}: {status} con la plantilla de la rama y sus parámetros ({elapsed} s).")
                    return _settled(cfn, stack, "pipeline", status)
                state = f"{status}, con otra plantilla: esperando el despliegue de la rama"
            else:
                state = status
        if state != last:
            progress(f"{stack}: {state} ({elapsed} s de {timeout_s} s).")
            last = state
        if time.monotonic() - started >= timeout_s:
            raise StackFailed(
                f"El pipeline no desplegó el stack {stack} con la plantilla de la rama en {timeout_s} s "
                f"(último estado: {state}). Revise la ejecución del pipeline en Azure DevOps."
            )
        time.sleep(poll_s)


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

    return _settled(cfn, stack, action, status or "UNCHANGED")
