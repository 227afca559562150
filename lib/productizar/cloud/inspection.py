"""Inspect what was deployed, to prove that what the HU asks for exists: each table and the Glue job,
against what DynamoDB, Application Auto Scaling and Glue report.

Each check is ``pass``, ``fail``, or ``not_checkable`` only for what the environment declares it cannot
represent (``known_gaps``, e.g. moto's CloudFormation), never ``pass`` for what was not seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from productizar.cloud.aws import error_text
from productizar.cloud.template import READ_TARGET, TAGS, WRITE_TARGET
from productizar.core import naming
from productizar.core.checks import Check, CheckStatus
from productizar.core.environments import Environment
from productizar.core.hu import HU, TableSpec


@dataclass
class Checker:
    """Compare the HU with what the environment's AWS reports, one check at a time.

    ``clients(service)`` gives one client per service (``aws.clients``): made once for all the checks.
    """

    env: Environment
    clients: Callable[[str], Any]
    results: list[Check] = field(default_factory=list)

    def add(
        self, table: str, key: str, label: str, ok: bool, expected: Any, found: Any, gap: str | None = None
    ) -> Check:
        if gap and gap in self.env.known_gaps:
            status, found = CheckStatus.NOT_CHECKABLE, f"el emulador de este entorno no representa «{gap}»"
        else:
            status = CheckStatus.PASS if ok else CheckStatus.FAIL
        check = Check(table, label, status, str(expected), str(found), key)
        self.results.append(check)
        return check

    def table(self, hu: HU, spec: TableSpec) -> bool:
        """Every configuration check of one table; whether the table exists and is ACTIVE."""
        name = spec.names.dynamo_table
        ddb = self.clients("dynamodb")
        label = "existe y está ACTIVE"
        try:
            desc = ddb.describe_table(TableName=name)["Table"]
        except ClientError as exc:
            self.add(name, "exists", label, False, "ACTIVE", error_text(exc))
            return False
        exists = self.add(name, "exists", label, desc["TableStatus"] == "ACTIVE", "ACTIVE", desc["TableStatus"])
        keys = [(spec.partition_key.name, "HASH", spec.partition_key.type)] + (
            [(spec.sort_key.name, "RANGE", spec.sort_key.type)] if spec.sort_key else []
        )
        types = {a["AttributeName"]: a["AttributeType"] for a in desc["AttributeDefinitions"]}
        found = [(k["AttributeName"], k["KeyType"], types.get(k["AttributeName"])) for k in desc["KeySchema"]]
        self.add(name, "keys", "claves y tipos", found == keys, keys, found)
        mode = (desc.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
        self.add(
            name,
            "billing_mode",
            "modo de facturación",
            mode == hu.capacity.billing_mode,
            hu.capacity.billing_mode,
            mode,
        )
        sse = desc.get("SSEDescription") or {}
        self.add(
            name,
            "sse",
            "cifrado SSE con KMS",
            sse.get("Status") == "ENABLED" and sse.get("SSEType") == "KMS",
            "ENABLED / KMS",
            f"{sse.get('Status', 'sin SSE')} / {sse.get('SSEType', '-')}",
            gap="sse",
        )
        pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        pitr_status = pitr.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus", "DISABLED")
        self.add(
            name,
            "pitr",
            "recuperación a un punto en el tiempo (PITR)",
            pitr_status == "ENABLED",
            "ENABLED",
            pitr_status,
            gap="pitr",
        )
        tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=desc["TableArn"]).get("Tags", [])}
        missing = {k: v for k, v in TAGS.items() if tags.get(k) != v}
        self.add(
            name,
            "tags",
            "etiquetas bancolombia:*",
            not missing,
            f"{len(TAGS)} etiquetas del runbook",
            "todas" if not missing else f"faltan o difieren: {', '.join(missing)}",
        )
        if hu.capacity.billing_mode == "PROVISIONED":
            throughput = desc.get("ProvisionedThroughput", {})
            found_units = (throughput.get("ReadCapacityUnits"), throughput.get("WriteCapacityUnits"))
            wanted_units = (hu.capacity.read[0], hu.capacity.write[0])
            self.add(
                name,
                "initial_capacity",
                "capacidad inicial (lectura, escritura)",
                found_units == wanted_units,
                wanted_units,
                found_units,
            )
            self._autoscaling(name, "Read", hu.capacity.read, READ_TARGET)
            self._autoscaling(name, "Write", hu.capacity.write, WRITE_TARGET)
        return exists.status is CheckStatus.PASS

    def _autoscaling(self, name: str, kind: str, rng: tuple[int, int], target: int) -> None:
        aas = self.clients("application-autoscaling")
        dimension = f"dynamodb:table:{kind}CapacityUnits"
        label, key = ("lectura", "read") if kind == "Read" else ("escritura", "write")
        targets = aas.describe_scalable_targets(
            ServiceNamespace="dynamodb", ResourceIds=[f"table/{name}"], ScalableDimension=dimension
        )["ScalableTargets"]
        found = (targets[0]["MinCapacity"], targets[0]["MaxCapacity"]) if targets else "sin objetivo registrado"
        self.add(
            name,
            f"{key}_autoscaling",
            f"autoescalado de {label} (mín, máx)",
            found == tuple(rng),
            tuple(rng),
            found,
            gap="autoscaling",
        )
        policies = aas.describe_scaling_policies(
            ServiceNamespace="dynamodb", ResourceId=f"table/{name}", ScalableDimension=dimension
        )["ScalingPolicies"]
        values = [p.get("TargetTrackingScalingPolicyConfiguration", {}).get("TargetValue") for p in policies]
        self.add(
            name,
            f"{key}_policy",
            f"política de {label} (objetivo %)",
            float(target) in values,
            target,
            values or "sin política",
            gap="autoscaling",
        )

    def glue_job(self, hu: HU, glue: dict[str, Any]) -> None:
        job_name = naming.glue_job_name(hu.api.slug)
        try:
            job = self.clients("glue").get_job(JobName=job_name)["Job"]
            found: Any = (job.get("NumberOfWorkers"), job.get("ExecutionProperty", {}).get("MaxConcurrentRuns"))
        except ClientError as exc:
            found = error_text(exc)
        expected = (glue["NumberOfWorkers"], glue["MaxConcurrentRuns"])
        self.add(
            job_name,
            "glue_job",
            "job de Glue (workers, ejecuciones concurrentes)",
            found == expected,
            expected,
            found,
            gap="glue_job",
        )


def inspect(hu: HU, env: Environment, clients: Callable[[str], Any], glue: dict[str, Any]) -> list[Check]:
    """Every check for the HU's tables and the Glue job (``glue``: the figures the template was given)."""
    checker = Checker(env, clients)
    for spec in hu.tables:
        checker.table(hu, spec)
    checker.glue_job(hu, glue)
    return checker.results
