"""Deploy an API's stack and prove that what was asked for exists.

Deploy creates or updates the stack and follows its events until it settles; a stack that fails or rolls
back fails the step with the resource and the reason. The checks compare each HU table with what
DynamoDB, Application Auto Scaling and Glue report: ``pass``, ``fail``, or ``not_checkable`` only for what
the environment declares it cannot represent (``known_gaps``, e.g. moto's CloudFormation).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from . import naming
from .environments import Environment
from .errors import ProductizarError
from .hu import HU
from .template import READ_TARGET, TAGS, WRITE_TARGET

SETTLED_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
SETTLED_BAD = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE",
               "UPDATE_ROLLBACK_FAILED", "DELETE_COMPLETE", "DELETE_FAILED", "IMPORT_ROLLBACK_COMPLETE"}


class StackFailed(ProductizarError):
    pass


def parameters(hu: HU, env_name: str, env: Environment) -> dict[str, str]:
    """The stack's parameter values for an environment (capacities as VSTS holds them: ``1,50``)."""
    values = {
        "Environment": env_name,
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


def _error_text(exc: Exception) -> str:
    """The service's own message; moto sometimes answers a JSON error body that botocore cannot parse."""
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Message") or str(exc)
    text = str(exc)
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            return json.loads(text[start:end + 1]).get("message") or text.splitlines()[0]
        except ValueError:
            pass
    return text.splitlines()[0]


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


def deploy(cfn: Any, stack: str, template_body: str, values: dict[str, str], timeout_s: int = 1800,
           poll_s: float = 2.0, progress: Callable[[str], None] = print) -> Deployment:
    """Create or update ``stack`` and wait until it settles, reporting each new event."""
    params = [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]
    current = None
    try:
        current = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    except ClientError:
        pass
    if current and current not in SETTLED_OK | {"UPDATE_ROLLBACK_COMPLETE"}:
        raise StackFailed(f"El stack {stack} está en estado {current}: no se puede actualizar. "
                          "Si es ROLLBACK_COMPLETE, bórrelo con el pipeline de borrado y despliegue de nuevo.")
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
        if "No updates are to be performed" in _error_text(exc):
            action = "unchanged"
        else:
            raise StackFailed(f"CloudFormation rechazó el stack {stack}: {_error_text(exc)}") from None
    except (BotoCoreError, ResponseParserError) as exc:  # moto answers some failures with a body botocore cannot parse
        raise StackFailed(f"CloudFormation no pudo crear el stack {stack}: {_error_text(exc)}") from None

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
            raise StackFailed(f"El stack {stack} sigue en {status} después de {timeout_s} s; revise la consola de CloudFormation.")
        time.sleep(poll_s)

    events = pd.DataFrame(
        [{"Recurso": e["LogicalResourceId"], "Tipo": e.get("ResourceType", ""), "Estado": e["ResourceStatus"],
          "Motivo": e.get("ResourceStatusReason") or ""} for e in _events(cfn, stack)]
    )
    resources = pd.DataFrame(
        [{"Recurso": r["LogicalResourceId"], "Tipo": r["ResourceType"], "Estado": r["ResourceStatus"]}
         for r in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]]
    )
    return Deployment(stack, action, status or "UNCHANGED", events, resources)


# ---------------------------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Check:
    table: str
    check: str
    status: str  # pass | fail | not_checkable
    expected: str
    found: str

    def as_fact(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Checker:
    """Compare the HU with what the environment's AWS reports, one check at a time."""

    env: Environment
    clients: Callable[[str], Any]
    results: list[Check] = field(default_factory=list)

    made: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, service: str) -> Any:
        """One client per service for all the checks: creating a boto3 client is not cheap."""
        if service not in self.made:
            self.made[service] = self.clients(service)
        return self.made[service]

    def add(self, table: str, check: str, ok: bool, expected: Any, found: Any, gap: str | None = None) -> None:
        if gap and gap in self.env.known_gaps:
            status, found = "not_checkable", f"el emulador de este entorno no representa «{gap}»"
        else:
            status = "pass" if ok else "fail"
        self.results.append(Check(table, check, status, str(expected), str(found)))

    def table(self, hu: HU, spec: Any) -> None:
        name = spec.names.dynamo_table
        ddb = self.client("dynamodb")
        try:
            desc = ddb.describe_table(TableName=name)["Table"]
        except ClientError as exc:
            self.add(name, "existe y está ACTIVE", False, "ACTIVE", _error_text(exc))
            return
        self.add(name, "existe y está ACTIVE", desc["TableStatus"] == "ACTIVE", "ACTIVE", desc["TableStatus"])
        keys = [(spec.partition_key.name, "HASH", spec.partition_key.type)] + (
            [(spec.sort_key.name, "RANGE", spec.sort_key.type)] if spec.sort_key else [])
        types = {a["AttributeName"]: a["AttributeType"] for a in desc["AttributeDefinitions"]}
        found = [(k["AttributeName"], k["KeyType"], types.get(k["AttributeName"])) for k in desc["KeySchema"]]
        self.add(name, "claves y tipos", found == keys, keys, found)
        mode = (desc.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
        self.add(name, "modo de facturación", mode == hu.capacity.billing_mode, hu.capacity.billing_mode, mode)
        sse = desc.get("SSEDescription") or {}
        self.add(name, "cifrado SSE con KMS", sse.get("Status") == "ENABLED" and sse.get("SSEType") == "KMS",
                 "ENABLED / KMS", f"{sse.get('Status', 'sin SSE')} / {sse.get('SSEType', '-')}", gap="sse")
        pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        pitr_status = pitr.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus", "DISABLED")
        self.add(name, "recuperación a un punto en el tiempo (PITR)", pitr_status == "ENABLED", "ENABLED", pitr_status, gap="pitr")
        tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=desc["TableArn"]).get("Tags", [])}
        missing = {k: v for k, v in TAGS.items() if tags.get(k) != v}
        self.add(name, "etiquetas bancolombia:*", not missing, f"{len(TAGS)} etiquetas del runbook",
                 "todas" if not missing else f"faltan o difieren: {', '.join(missing)}")
        if hu.capacity.billing_mode == "PROVISIONED":
            throughput = desc.get("ProvisionedThroughput", {})
            found_units = (throughput.get("ReadCapacityUnits"), throughput.get("WriteCapacityUnits"))
            wanted_units = (hu.capacity.read[0], hu.capacity.write[0])
            self.add(name, "capacidad inicial (lectura, escritura)", found_units == wanted_units, wanted_units, found_units)
            self._autoscaling(name, "Read", hu.capacity.read, READ_TARGET)
            self._autoscaling(name, "Write", hu.capacity.write, WRITE_TARGET)

    def _autoscaling(self, name: str, kind: str, rng: tuple[int, int], target: int) -> None:
        aas = self.client("application-autoscaling")
        dimension = f"dynamodb:table:{kind}CapacityUnits"
        label = "lectura" if kind == "Read" else "escritura"
        targets = aas.describe_scalable_targets(ServiceNamespace="dynamodb", ResourceIds=[f"table/{name}"],
                                                ScalableDimension=dimension)["ScalableTargets"]
        found = (targets[0]["MinCapacity"], targets[0]["MaxCapacity"]) if targets else "sin objetivo registrado"
        self.add(name, f"autoescalado de {label} (mín, máx)", found == tuple(rng), tuple(rng), found, gap="autoscaling")
        policies = aas.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=f"table/{name}",
                                                 ScalableDimension=dimension)["ScalingPolicies"]
        values = [p.get("TargetTrackingScalingPolicyConfiguration", {}).get("TargetValue") for p in policies]
        self.add(name, f"política de {label} (objetivo %)", float(target) in values, target, values or "sin política",
                 gap="autoscaling")

    def glue_job(self, hu: HU, glue: dict[str, Any]) -> None:
        job_name = naming.glue_job_name(hu.api.slug)
        try:
            job = self.client("glue").get_job(JobName=job_name)["Job"]
            found = (job.get("NumberOfWorkers"), job.get("ExecutionProperty", {}).get("MaxConcurrentRuns"))
        except ClientError as exc:
            found = _error_text(exc)
        expected = (glue["NumberOfWorkers"], glue["MaxConcurrentRuns"])
        self.add(job_name, "job de Glue (workers, ejecuciones concurrentes)", found == expected, expected, found,
                 gap="glue_job")


def verify(hu: HU, env: Environment, clients: Callable[[str], Any], glue: dict[str, Any]) -> list[Check]:
    """Every check for the HU's tables and the Glue job (``glue``: the figures the template was given)."""
    checker = Checker(env, clients)
    for spec in hu.tables:
        checker.table(hu, spec)
    checker.glue_job(hu, glue)
    return checker.results


def checks_table(checks: list[Check]) -> pd.DataFrame:
    labels = {"pass": "✔ pasa", "fail": "✘ falla", "not_checkable": "— no verificable aquí"}
    return pd.DataFrame(
        [{"Tabla o recurso": c.table, "Verificación": c.check, "Resultado": labels[c.status],
          "Esperado": c.expected, "Encontrado": c.found} for c in checks]
    )
