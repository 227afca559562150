"""The embedded endpoint's capacity: DynamoDB's metering in front of moto, which never throttles.

WSGI middleware inside the moto server process (``motoserver`` serializes requests before they get here).
Every DynamoDB data call is metered by ``capacity.TableMeter`` with the table's settings as moto holds them:
a write beyond the table's capacity, its burst or a partition key's ceiling is refused
(``ProvisionedThroughputExceededException``, or ``UnprocessedItems`` for the part of a batch that does not fit),
reads are charged by size, ``ConsumedCapacity`` is answered with the units consumed, and target tracking
changes the table's provisioned capacity. moto's CloudFormation skips the template's scalable targets and
scaling policies; after a stack is created or updated they are registered from the stack's own template
(resolved with moto's own resolver and the stack's parameters), so autoscaling is the template's.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
import urllib.parse
import uuid
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from productizar.core.capacity import (
    CAPACITY_UNITS,
    READ,
    SCALABLE_DIMENSION,
    WARM_UNITS,
    WRITE,
    CapacityRules,
    item_size,
    read_units,
    write_units,
)
from productizar.local.capacity import Scaling, Settings, TableMeter

TARGET_PREFIX = "DynamoDB_20120810."
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
STACK_ACTIONS = {"CreateStack", "UpdateStack", "ExecuteChangeSet"}
_REGION = re.compile(r"Credential=[^/]+/\d+/([^/]+)/")
DEFAULT_ACCOUNT = "123456789012"


@dataclass
class Response:
    status: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Request:
    op: str
    account: str
    region: str
    payload: dict[str, Any]
    body: bytes  # as it came: forwarded untouched when nothing of it is refused


def _account(environ: dict[str, Any]) -> str:
    return os.environ.get("MOTO_ACCOUNT_ID") or environ.get("HTTP_X_MOTO_ACCOUNT_ID") or DEFAULT_ACCOUNT


def _region(environ: dict[str, Any]) -> str:
    found = _REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
    return found.group(1) if found else os.environ.get("AWS_DEFAULT_REGION", "us-east-1")


def _error(code: str, message: str) -> Response:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
    return Response("400 Bad Request", _json_headers(body), body)


def _json_headers(body: bytes) -> list[tuple[str, str]]:
    return [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", uuid.uuid4().hex),
        ("x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF)),
    ]


def _with_body(response: Response, payload: dict[str, Any]) -> Response:
    body = json.dumps(payload).encode()
    headers = [(k, v) for k, v in response.headers if k.lower() not in ("content-length", "x-amz-crc32")]
    headers += [("Content-Length", str(len(body))), ("x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF))]
    return Response(response.status, headers, body)


def _throttled(table: str, on_demand: bool) -> Response:
    if on_demand:
        return _error(
            "ProvisionedThroughputExceededException",
            f"Throughput exceeds the current throughput limit for your account or table {table} (on-demand).",
        )
    return _error(
        "ProvisionedThroughputExceededException",
        f"The level of configured provisioned throughput for the table {table} was exceeded. Consider increasing "
        "your provisioning level with the UpdateTable API.",
    )


# ------------------------------------------------------------------------------------ moto's state


class MotoState:
    """The tables, scalable targets, policies and stacks as moto's backends hold them (in this process)."""

    def table(self, account: str, region: str, name: str) -> Any | None:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[account][region].tables.get(name)

    def settings(self, account: str, region: str, table: Any) -> Settings:
        from moto.applicationautoscaling.models import applicationautoscaling_backends

        backend = applicationautoscaling_backends[account][region]
        resource = f"table/{table.name}"
        scaling: dict[str, Scaling] = {}
        for dim, dimension in SCALABLE_DIMENSION.items():
            target = backend.targets.get(dimension, {}).get(resource)
            if target is None or target.min_capacity is None or target.max_capacity is None:
                continue
            value = None
            for policy in backend.policies.values():
                config = policy.target_tracking_scaling_policy_configuration or {}
                if (
                    policy.resource_id == resource
                    and policy.scalable_dimension == dimension
                    and policy.policy_type == "TargetTrackingScaling"
                    and config.get("TargetValue")
                ):
                    value = float(config["TargetValue"]) / 100
            scaling[dim] = Scaling(float(target.min_capacity), float(target.max_capacity), value)
        warm = table.warm_throughput or {}
        return Settings(
            on_demand=table.billing_mode == "PAY_PER_REQUEST",
            provisioned={d: float(table.throughput.get(u) or 0) for d, u in CAPACITY_UNITS.items()},
            warm={d: float(warm.get(u) or 0) for d, u in WARM_UNITS.items()},
            scaling=scaling,
        )

    def set_capacity(self, table: Any, changes: dict[str, float]) -> None:
        for dim, units in changes.items():
            table.throughput[CAPACITY_UNITS[dim]] = int(units)

    def register_stack_scaling(self, account: str, region: str, stack_name: str) -> int:
        """Register the scalable targets and scaling policies of a stack's template (moto skipped them);
        the number of resources registered."""
        from moto.applicationautoscaling.models import applicationautoscaling_backends
        from moto.cloudformation.models import cloudformation_backends
        from moto.cloudformation.parsing import clean_json

        cfn = cloudformation_backends[account][region]
        stack = next(
            (s for s in cfn.stacks.values() if stack_name in (s.name, s.stack_id) and "DELETE" not in s.status), None
        )
        if stack is None:
            return 0
        resources = (stack.template_dict or {}).get("Resources") or {}
        rmap = stack.resource_map
        backend = applicationautoscaling_backends[account][region]

        def wanted(res: dict[str, Any]) -> bool:
            cond = res.get("Condition")
            return not cond or bool(rmap.lazy_condition_map[cond])

        targets: dict[str, tuple[str, str, str]] = {}
        done = 0
        for logical, res in resources.items():
            if res.get("Type") == "AWS::ApplicationAutoScaling::ScalableTarget" and wanted(res):
                p = clean_json(res.get("Properties") or {}, rmap)
                backend.register_scalable_target(
                    p["ServiceNamespace"],
                    p["ResourceId"],
                    p["ScalableDimension"],
                    int(p["MinCapacity"]),
                    int(p["MaxCapacity"]),
                    p.get("RoleARN", ""),
                    None,  # type: ignore[arg-type]  # no suspended state, as CloudFormation registers it
                )
                targets[logical] = (p["ServiceNamespace"], p["ResourceId"], p["ScalableDimension"])
                done += 1
        for _logical, res in resources.items():
            if res.get("Type") == "AWS::ApplicationAutoScaling::ScalingPolicy" and wanted(res):
                raw = res.get("Properties") or {}
                ref = raw.get("ScalingTargetId")
                target = targets.get(ref.get("Ref", "")) if isinstance(ref, dict) else None
                if target is None:
                    continue
                p = clean_json({k: v for k, v in raw.items() if k != "ScalingTargetId"}, rmap)
                backend.put_scaling_policy(
                    p["PolicyName"],
                    target[0],
                    target[1],
                    target[2],
                    p.get("TargetTrackingScalingPolicyConfiguration") or p.get("StepScalingPolicyConfiguration") or {},
                    p.get("PolicyType"),
                )
                done += 1
        return done

    def average_item_size(self, table: Any) -> float:
        """Mean item size of a table from its first items (a Select=COUNT page returns no items to size)."""
        sizes: list[int] = []
        for entry in table.items.values():  # hash key -> item, or -> {range key -> item}
            for item in entry.values() if isinstance(entry, dict) else [entry]:
                sizes.append(item_size(item.to_json()["Attributes"]))
            if len(sizes) >= 50:
                break
        return sum(sizes) / len(sizes) if sizes else 0.0


# ----------------------------------------------------------------------------------------- metering


def _key(item: dict[str, Any], hash_key: str) -> object:
    value = item.get(hash_key) or {}
    return json.dumps(value, sort_keys=True)


@dataclass
class Metered:
    """The WSGI middleware: meters DynamoDB, registers stacks' autoscaling, passes everything else."""

    app: Callable[..., Iterable[bytes]]
    rules: CapacityRules
    clock: Callable[[], float] = time.monotonic
    moto: MotoState = field(default_factory=MotoState)
    meters: dict[tuple[str, str, str], tuple[int, TableMeter]] = field(default_factory=dict)
    sizes: dict[int, tuple[float, float]] = field(default_factory=dict)  # table id -> (stamp, mean size)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        response: Response | None = None
        if target.startswith(TARGET_PREFIX):
            body = self._read(environ)
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                payload = None
            if isinstance(payload, dict):
                req = Request(target[len(TARGET_PREFIX) :], _account(environ), _region(environ), payload, body)
                response = self._dynamodb(req, environ)
        elif environ.get("REQUEST_METHOD") == "POST" and "form-urlencoded" in environ.get("CONTENT_TYPE", ""):
            body = self._read(environ)
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            response = self._forward(environ, body)
            action = (form.get("Action") or [""])[0]
            if action in STACK_ACTIONS and response.status.startswith("200"):
                name = (form.get("StackName") or [""])[0]
                self.moto.register_stack_scaling(_account(environ), _region(environ), name)
        if response is None:
            return self._pass(environ, start_response)
        start_response(response.status, response.headers)
        return [response.body]

    # ------------------------------------------------------------------------------ plumbing

    @staticmethod
    def _read(environ: dict[str, Any]) -> bytes:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return body

    def _pass(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = self.app(environ, start_response)
        try:
            return list(body)
        finally:
            close = getattr(body, "close", None)
            if close:
                close()

    def _forward(self, environ: dict[str, Any], body: bytes) -> Response:
        env = dict(environ, CONTENT_LENGTH=str(len(body)))
        env["wsgi.input"] = io.BytesIO(body)
        captured: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, list(headers)
            return lambda _data: None

        chunks = self._pass(env, start)
        return Response(captured["status"], captured["headers"], b"".join(chunks))

    def meter(self, req: Request, name: str) -> tuple[Any, TableMeter] | None:
        """The table's meter brought to now, with any autoscaling change applied to the table."""
        table = self.moto.table(req.account, req.region, name)
        if table is None:
            return None
        key = (req.account, req.region, name)
        known = self.meters.get(key)
        now = self.clock()
        if known is None or known[0] != id(table):  # a new (or recreated) table starts a new meter
            known = (id(table), TableMeter(self.rules, now))
            self.meters[key] = known
        meter = known[1]
        changes = meter.settle(self.moto.settings(req.account, req.region, table), now)
        if changes:
            self.moto.set_capacity(table, changes)
        return table, meter

    # ------------------------------------------------------------------------------ DynamoDB

    def _dynamodb(self, req: Request, environ: dict[str, Any]) -> Response | None:
        if req.op == "DescribeTable":
            self.meter(req, req.payload.get("TableName", ""))  # autoscaling shows in what it answers
            return None
        if req.op == "BatchWriteItem":
            return self._batch_write(req, environ)
        if req.op in WRITES:
            return self._single_write(req, environ)
        if req.op == "BatchGetItem":
            return self._batch_get(req, environ)
        if req.op in READS:
            return self._read_call(req, environ)
        return None

    def _consumed(self, req: Request, units: dict[str, float]) -> Any:
        parts = [{"TableName": t, "CapacityUnits": u} for t, u in units.items()]
        return parts if req.op.startswith(("Batch", "Transact")) else (parts[0] if parts else None)

    def _answer(self, req: Request, response: Response, units: dict[str, float], extra: dict[str, Any]) -> Response:
        if not response.status.startswith("200"):
            return response
        wants = req.payload.get("ReturnConsumedCapacity", "NONE") in ("TOTAL", "INDEXES")
        if not wants and not extra:
            return response
        payload = json.loads(response.body or b"{}")
        payload.pop("ConsumedCapacity", None)
        if wants:
            payload["ConsumedCapacity"] = self._consumed(req, units)
        for k, v in extra.items():
            merged = payload.get(k) or {}
            for table, entries in v.items():
                if isinstance(entries, list):
                    merged[table] = (merged.get(table) or []) + entries
                else:
                    merged[table] = entries
            payload[k] = merged
        return _with_body(response, payload)

    def _batch_write(self, req: Request, environ: dict[str, Any]) -> Response:
        accepted: dict[str, list[Any]] = {}
        left: dict[str, list[Any]] = {}
        units: dict[str, float] = {}
        on_demand = False
        for name, requests in (req.payload.get("RequestItems") or {}).items():
            found = self.meter(req, name)
            if found is None:  # moto answers the missing table
                accepted[name] = requests
                continue
            table, meter = found
            on_demand = on_demand or bool(meter.settings and meter.settings.on_demand)
            now = self.clock()
            for r in requests:
                item = (r.get("PutRequest") or {}).get("Item") or (r.get("DeleteRequest") or {}).get("Key") or {}
                u = write_units(item_size(item)) if "PutRequest" in r else 1
                if meter.admit_write(u, _key(item, table.hash_key_attr), now):
                    accepted.setdefault(name, []).append(r)
                    units[name] = units.get(name, 0.0) + u
                else:
                    left.setdefault(name, []).append(r)
            if name in left:
                meter.throttled(WRITE)
        if not accepted:
            return _throttled(", ".join(left), on_demand)
        body = json.dumps(dict(req.payload, RequestItems=accepted)).encode() if left else req.body
        response = self._forward(environ, body)
        return self._answer(req, response, units, {"UnprocessedItems": left} if left else {})

    def _single_write(self, req: Request, environ: dict[str, Any]) -> Response:
        if req.op == "TransactWriteItems":
            parts = []
            for t in req.payload.get("TransactItems") or []:
                ((kind, spec),) = t.items()
                item = spec.get("Item") or spec.get("Key") or {}
                parts.append((spec.get("TableName", ""), item, 2 * write_units(item_size(item))))
        else:
            item = req.payload.get("Item") or req.payload.get("Key") or {}
            size = item_size(item) if req.op == "PutItem" else 1  # updates and deletes: at least one unit
            parts = [(req.payload.get("TableName", ""), item, write_units(size))]
        units: dict[str, float] = {}
        for name, item, u in parts:
            found = self.meter(req, name)
            if found is None:
                continue
            table, meter = found
            if not meter.admit_write(u, _key(item, table.hash_key_attr), self.clock()):
                meter.throttled(WRITE)
                return _throttled(name, bool(meter.settings and meter.settings.on_demand))
            units[name] = units.get(name, 0.0) + u
        return self._answer(req, self._forward(environ, req.body), units, {})

    def _read_call(self, req: Request, environ: dict[str, Any]) -> Response:
        names = (
            [t.get("Get", {}).get("TableName", "") for t in req.payload.get("TransactItems") or []]
            if req.op == "TransactGetItems"
            else [req.payload.get("TableName", "")]
        )
        metered = []
        for name in names:
            found = self.meter(req, name)
            if found is None:
                continue
            table, meter = found
            key = _key(req.payload["Key"], table.hash_key_attr) if req.op == "GetItem" else None
            if not meter.admit_read(key, self.clock()):
                meter.throttled(READ)
                return _throttled(name, bool(meter.settings and meter.settings.on_demand))
            metered.append((name, table, meter, key))
        response = self._forward(environ, req.body)
        if not response.status.startswith("200"):
            return response
        payload = json.loads(response.body or b"{}")
        consistent = bool(req.payload.get("ConsistentRead")) or req.op == "TransactGetItems"
        units: dict[str, float] = {}
        for name, table, meter, key in metered:
            if req.op == "GetItem":
                u = read_units(item_size(payload.get("Item") or {}), consistent)
            elif req.op == "TransactGetItems":
                u = 2 * read_units(1, True)
            else:  # a Query or Scan page: the items it read, summed, then rounded once
                items = payload.get("Items")
                scanned = int(payload.get("ScannedCount", 0))
                if items is not None and len(items) == scanned:
                    size = sum(item_size(i) for i in items)
                else:
                    size = int(scanned * self._mean_size(table))
                u = read_units(size, consistent)
            meter.charge_read(u, key, self.clock())
            units[name] = units.get(name, 0.0) + u
        return self._answer(req, response, units, {})

    def _batch_get(self, req: Request, environ: dict[str, Any]) -> Response:
        served: dict[str, Any] = {}
        left: dict[str, Any] = {}
        metered: dict[str, tuple[Any, TableMeter, bool]] = {}
        on_demand = False
        for name, spec in (req.payload.get("RequestItems") or {}).items():
            found = self.meter(req, name)
            if found is None:
                served[name] = spec
                continue
            table, meter = found
            on_demand = on_demand or bool(meter.settings and meter.settings.on_demand)
            if meter.admit_read(None, self.clock()):
                served[name] = spec
                metered[name] = (table, meter, bool(spec.get("ConsistentRead")))
            else:
                meter.throttled(READ)
                left[name] = spec
        if not served:
            return _throttled(", ".join(left), on_demand)
        body = json.dumps(dict(req.payload, RequestItems=served)).encode() if left else req.body
        response = self._forward(environ, body)
        if not response.status.startswith("200"):
            return response
        got = json.loads(response.body or b"{}").get("Responses") or {}
        units: dict[str, float] = {}
        for name, (_table, meter, consistent) in metered.items():
            u = sum(read_units(item_size(i), consistent) for i in got.get(name) or [])
            meter.charge_read(u, None, self.clock())
            units[name] = u
        return self._answer(req, response, units, {"UnprocessedKeys": left} if left else {})

    def _mean_size(self, table: Any) -> float:
        now = self.clock()
        cached = self.sizes.get(id(table))
        if cached is None or now - cached[0] > 5.0:
            cached = (now, self.moto.average_item_size(table))
            self.sizes[id(table)] = cached
        return cached[1]
