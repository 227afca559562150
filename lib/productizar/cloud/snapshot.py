"""What one environment has deployed for an HU, read live: the stack, each table, the Glue job and the API's
answers, as one flat record (``field -> value``) so that environments compare field by field.

Values that only name the account (ARNs, principals) have the account replaced by ``<cuenta>``: every
environment lives in its own account, and that is not a difference. Nothing here writes.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from productizar.api import smoke
from productizar.cloud import stack
from productizar.core import naming
from productizar.core.environments import Environment
from productizar.core.hu import HU, TableSpec
from productizar.dynamo import verify

ACCOUNT = "<cuenta>"
API_SAMPLE = 5


@dataclass
class Snapshot:
    """One environment's live state: ``values`` by field (``stack.status``, ``tablas.<t>.billing_mode``...);
    ``deployed`` False (with ``reason``) when the environment has no stack for the HU."""

    environment: str
    deployed: bool
    reason: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    cfn_drift: str = ""  # CloudFormation's own drift detection, where the endpoint offers it


def _error(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code', '')}: {err.get('Message', '')}".strip(": ")
    return str(exc) or type(exc).__name__


def normalize(value: Any, account: str | None) -> Any:
    """The value with the environment's account number replaced (``arn:aws:iam::<cuenta>:role/x``)."""
    if account and isinstance(value, str):
        return value.replace(account, ACCOUNT)
    return value


def stack_values(cfn: Any, name: str, account: str | None) -> dict[str, Any] | None:
    """Status, parameters, outputs and resources (their types) of the HU's stack; None when it does not exist."""
    try:
        found = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError:
        return None
    values: dict[str, Any] = {"stack.status": found["StackStatus"]}
    for p in found.get("Parameters", []):
        value = p.get("ResolvedValue") or p.get("ParameterValue")
        values[f"stack.parameters.{p['ParameterKey']}"] = normalize(stack.list_value(value), account)
    for o in found.get("Outputs", []):
        values[f"stack.outputs.{o['OutputKey']}"] = normalize(o.get("OutputValue"), account)
    for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]:
        values[f"stack.resources.{r['LogicalResourceId']}"] = r["ResourceType"]
    return values


def cfn_drift(cfn: Any, name: str, wait_s: float = 120.0) -> str:
    """CloudFormation's drift detection for the stack (``IN_SYNC``, ``DRIFTED: recurso...``), or why there is
    none (an endpoint without it)."""
    try:
        detection = cfn.detect_stack_drift(StackName=name)["StackDriftDetectionId"]
        deadline = time.monotonic() + wait_s
        while True:
            status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
            if status["DetectionStatus"] != "DETECTION_IN_PROGRESS" or time.monotonic() > deadline:
                break
            time.sleep(2)
        result = status.get("StackDriftStatus", status["DetectionStatus"])
        if result == "DRIFTED":
            drifted = cfn.describe_stack_resource_drifts(
                StackName=name, StackResourceDriftStatusFilters=["MODIFIED", "DELETED"]
            )["StackResourceDrifts"]
            result += ": " + ", ".join(f"{d['LogicalResourceId']} ({d['StackResourceDriftStatus']})" for d in drifted)
        return str(result)
    except (ClientError, BotoCoreError, ResponseParserError, NotImplementedError) as exc:
        if isinstance(exc, ClientError):
            detail = exc.response.get("Error", {}).get("Code") or "error"
        else:  # an emulator without it answers with a page botocore cannot parse
            detail = "respuesta no reconocida" if isinstance(exc, ResponseParserError) else type(exc).__name__
        return f"no disponible en este endpoint ({detail})"


def table_values(
    clients: Callable[[str], Any], spec: TableSpec, env: Environment, count: bool = True
) -> dict[str, Any]:
    """Key schema, billing mode, capacities and autoscaling, SSE, PITR, tags and item count of one table."""
    name = spec.names.dynamo_table
    prefix = f"tablas.{spec.names.table}"
    ddb = clients("dynamodb")
    try:
        desc = ddb.describe_table(TableName=name)["Table"]
    except ClientError as exc:
        return {f"{prefix}.existe": f"no ({_error(exc)[:80]})"}
    types = {a["AttributeName"]: a["AttributeType"] for a in desc.get("AttributeDefinitions", [])}
    keys = ", ".join(
        f"{k['AttributeName']}:{types.get(k['AttributeName'], '?')}:{k['KeyType']}" for k in desc["KeySchema"]
    )
    throughput = desc.get("ProvisionedThroughput", {})
    values: dict[str, Any] = {
        f"{prefix}.existe": "sí",
        f"{prefix}.claves": keys,
        f"{prefix}.billing_mode": desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
        f"{prefix}.read_capacity": throughput.get("ReadCapacityUnits"),
        f"{prefix}.write_capacity": throughput.get("WriteCapacityUnits"),
    }
    gaps = set(env.known_gaps)
    described = desc.get("SSEDescription", {})
    sse = f"{described.get('Status', 'DISABLED')} {described.get('SSEType', '')}".strip()
    values[f"{prefix}.sse"] = "no verificable aquí" if "sse" in gaps else sse
    if "pitr" in gaps:
        values[f"{prefix}.pitr"] = "no verificable aquí"
    else:
        backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        values[f"{prefix}.pitr"] = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
    for tag in ddb.list_tags_of_resource(ResourceArn=desc["TableArn"]).get("Tags", []):
        values[f"{prefix}.tags.{tag['Key']}"] = tag["Value"]
    scaling = clients("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="dynamodb", ResourceIds=[f"table/{name}"]
    )["ScalableTargets"]
    for target in scaling:
        kind = "lectura" if "Read" in target["ScalableDimension"] else "escritura"
        values[f"{prefix}.autoescalado.{kind}"] = f"{target['MinCapacity']}-{target['MaxCapacity']}"
    if count:
        size = desc.get("TableSizeBytes", 0)
        # eventually consistent: half the read units of verificacion's count, taken from the table's own
        # capacity (drift reads only, it never raises capacity)
        values[f"{prefix}.items"] = verify.count_items(ddb, name, verify.segments_for(size), consistent=False)
    return values


def glue_values(glue: Any, hu: HU, env: Environment) -> dict[str, Any]:
    job = naming.glue_job_name(hu.api.slug)
    if "glue_job" in env.known_gaps:
        return {"glue.job": "no verificable aquí"}
    try:
        found = glue.get_job(JobName=job)["Job"]
    except ClientError as exc:
        return {"glue.job": f"no existe ({_error(exc)[:80]})"}
    return {
        "glue.job": job,
        "glue.worker_type": found.get("WorkerType"),
        "glue.workers": found.get("NumberOfWorkers"),
        "glue.max_concurrent_runs": found.get("ExecutionProperty", {}).get("MaxConcurrentRuns"),
    }


def common_keys(hu: HU, ddbs: list[Any], n: int = API_SAMPLE) -> dict[str, list[dict[str, Any]]]:
    """Per table, up to ``n`` keys present in every environment (sampled from the first one's table), so the
    APIs are asked the same thing."""
    out: dict[str, list[dict[str, Any]]] = {}
    for spec in hu.tables:
        key_names = [spec.partition_key.name] + ([spec.sort_key.name] if spec.sort_key else [])
        try:
            sample = smoke.sample_items(ddbs[0], spec.names.dynamo_table, n * 10)
        except ClientError:
            out[spec.names.table] = []
            continue
        keys = []
        for item in sample:
            key = {k: item[k] for k in key_names}
            serial = _serialized(key)
            present = True
            for other in ddbs[1:]:
                try:
                    present = "Item" in other.get_item(TableName=spec.names.dynamo_table, Key=serial)
                except ClientError:
                    present = False
                if not present:
                    break
            if present:
                keys.append(key)
            if len(keys) >= n:
                break
        out[spec.names.table] = keys
    return out


def _serialized(key: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {k: ({"S": v} if isinstance(v, str) else {"N": str(v)}) for k, v in key.items()}


def api_values(
    hu: HU, base_url: str, timeout_s: float, keys: dict[str, list[dict[str, Any]]], ddb: Any
) -> dict[str, Any]:
    """The API's answer to each sampled key: its status, whether it is the item its own environment's table
    holds (what the API does, apart from the data), and a digest of its values (the data)."""
    client = smoke.Client(base_url, timeout_s)
    values: dict[str, Any] = {}
    for spec in hu.tables:
        for key in keys.get(spec.names.table, []):
            pk = key[spec.partition_key.name]
            sk = key.get(spec.sort_key.name) if spec.sort_key else None
            path = smoke.item_path(hu, spec, pk, sk)
            status, body, _ = client.get(path)
            prefix = f"api.{path}"
            values[f"{prefix}.estado"] = status
            found = ddb.get_item(TableName=spec.names.dynamo_table, Key=_serialized(key)).get("Item")
            if status != 200 or found is None:
                values[f"{prefix}.fiel"] = "sin respuesta que comparar" if status != 200 else "el ítem no está"
            else:
                item = smoke.api_json({k: smoke.deserialize(v) for k, v in found.items()})
                problems = smoke.differences(item, body)
                values[f"{prefix}.fiel"] = "igual al ítem de su tabla" if not problems else "; ".join(problems)[:300]
            digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:12]
            values[f"{prefix}.valores"] = digest
    return values
