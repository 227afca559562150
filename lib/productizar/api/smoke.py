"""The smoke-test client: does an API answer with what its DynamoDB tables hold?

Real keys are sampled from each table; every endpoint is called for each (by partition key, and by
partition and sort key where there is one) and the JSON compared, attribute by attribute, with the item
as the API must render it (integers as numbers, decimals as exact strings). An unknown key must give 404.
Per table and endpoint: calls, passes, mismatches, status codes and p50/p95/p99 latency.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import urllib3
from boto3.dynamodb.types import TypeDeserializer

from productizar.core import naming
from productizar.core.hu import HU, TableSpec

_DESERIALIZE = TypeDeserializer()
MISSING_KEY = {"S": "__no_existe__productizar__", "N": "-987654321"}


def api_json(value: Any) -> Any:
    """A DynamoDB value as the API's JSON carries it (the rule of reference_api/consultas/views.py)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {k: api_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [api_json(v) for v in value]
    if isinstance(value, set):
        return sorted(api_json(v) for v in value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return value


def deserialize(value: dict[str, Any]) -> Any:
    """One DynamoDB attribute value (``{"N": "5"}``) as a Python value."""
    return _DESERIALIZE.deserialize(value)


def sample_items(client: Any, table: str, n: int) -> list[dict[str, Any]]:
    """Up to ``n`` items of the table (the first pages of a Scan), as plain Python values."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "Limit": max(n, 1)}
    while len(items) < n:
        page = client.scan(**kwargs)
        items += [{k: _DESERIALIZE.deserialize(v) for k, v in it.items()} for it in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items[:n]


def differences(expected: dict[str, Any], got: Any) -> list[str]:
    """Attribute-level differences between the expected item and the API's JSON (empty: equal)."""
    if not isinstance(got, dict):
        return [f"la respuesta no es un objeto JSON: {str(got)[:80]}"]
    out = []
    for k in sorted(set(expected) | set(got)):
        if k not in got:
            out.append(f"falta {k}")
        elif k not in expected:
            out.append(f"sobra {k}={got[k]!r}")
        elif expected[k] != got[k]:
            out.append(f"{k}: esperado {expected[k]!r}, llegó {got[k]!r}")
    return out


@dataclass
class Tally:
    table: str
    endpoint: str
    calls: int = 0
    passed: int = 0
    mismatches: int = 0
    statuses: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    def record(self, status: int, ms: float, problems: list[str], key: str) -> None:
        self.calls += 1
        self.statuses[status] += 1
        self.latencies_ms.append(ms)
        if problems:
            self.mismatches += 1
            if len(self.examples) < 5:
                self.examples.append(f"{key}: " + "; ".join(problems[:3]))
        else:
            self.passed += 1

    def percentile(self, q: float) -> float | None:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else None

    def as_fact(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "endpoint": self.endpoint,
            "calls": self.calls,
            "passed": self.passed,
            "mismatches": self.mismatches,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "p50_ms": self.percentile(50),
            "p95_ms": self.percentile(95),
            "p99_ms": self.percentile(99),
            "examples": self.examples,
        }


class Client:
    """GET against the API's base URL with one connection pool; status, JSON (or None) and milliseconds."""

    def __init__(self, base_url: str, timeout_s: float):
        self.base_url = base_url.rstrip("/")
        self.http = urllib3.PoolManager(timeout=urllib3.Timeout(total=timeout_s), retries=False)

    def get(self, path: str) -> tuple[int, Any, float]:
        t0 = time.perf_counter()
        try:
            resp = self.http.request("GET", self.base_url + path)
        except urllib3.exceptions.HTTPError as exc:
            return 0, f"sin respuesta: {type(exc).__name__}", (time.perf_counter() - t0) * 1000
        ms = (time.perf_counter() - t0) * 1000
        try:
            body = json.loads(resp.data.decode("utf-8"))
        except ValueError:
            body = resp.data[:200].decode("utf-8", errors="replace")
        return resp.status, body, ms


def _segment(value: Any) -> str:
    return urllib.parse.quote(str(api_json(value)), safe="")


def item_path(hu: HU, spec: TableSpec, pk: Any, sk: Any = None) -> str:
    """The API path that answers one item (by partition key, and sort key when it has one)."""
    base = f"/{hu.api.slug}/{spec.names.table}/{_segment(pk)}"
    return base + (f"/{_segment(sk)}" if sk is not None else "")


def smoke_table(hu: HU, spec: TableSpec, api: Client, items: list[dict[str, Any]]) -> list[Tally]:
    """Call every endpoint of one table for each sampled item, plus one unknown key."""
    pk, sk = spec.partition_key.name, spec.sort_key.name if spec.sort_key else None
    by_pk = Tally(spec.source, naming.endpoint_path(hu.api.slug, spec.names.table, pk))
    tallies = [by_pk]
    by_both = Tally(spec.source, naming.endpoint_path(hu.api.slug, spec.names.table, pk, sk)) if sk else None
    if by_both:
        tallies.append(by_both)
    for item in items:
        expected = api_json(item)
        key = f"{pk}={expected.get(pk)}" + (f", {sk}={expected.get(sk)}" if sk else "")
        status, body, ms = api.get(item_path(hu, spec, item.get(pk)))
        if by_both is not None and sk:  # the partition's items: ours must be among them, as it is
            listed = body.get("items") if status == 200 and isinstance(body, dict) else None
            problems = (
                []
                if isinstance(listed, list) and expected in listed
                else [f"HTTP {status}" if status != 200 else "el ítem no está (o difiere) en la lista de la partición"]
            )
            by_pk.record(status, ms, problems, key)
            status, body, ms = api.get(item_path(hu, spec, item.get(pk), item.get(sk)))
            by_both.record(
                status, ms, [f"HTTP {status}: {body}"[:160]] if status != 200 else differences(expected, body), key
            )
        else:
            by_pk.record(
                status, ms, [f"HTTP {status}: {body}"[:160]] if status != 200 else differences(expected, body), key
            )
    unknown = Tally(spec.source, "clave inexistente → 404")
    missing_pk = MISSING_KEY[spec.partition_key.type]
    path = f"/{hu.api.slug}/{spec.names.table}/{missing_pk}" + (
        f"/{MISSING_KEY[spec.sort_key.type]}" if spec.sort_key else ""
    )
    status, body, ms = api.get(path)
    unknown.record(status, ms, [] if status == 404 else [f"se esperaba 404, llegó HTTP {status}"], path)
    return tallies + [unknown]


@dataclass
class SmokeResult:
    base_url: str
    tallies: list[Tally]
    empty_tables: list[str]

    @property
    def ok(self) -> bool:
        return not self.empty_tables and all(t.calls and t.passed == t.calls for t in self.tallies)


def run(hu: HU, dynamo: Any, api: Client, per_table: int = 10) -> SmokeResult:
    tallies, empty = [], []
    for spec in hu.tables:
        items = sample_items(dynamo, spec.names.dynamo_table, per_table)
        if not items:
            empty.append(spec.source)
        tallies += smoke_table(hu, spec, api, items)
    return SmokeResult(api.base_url, tallies, empty)


def table(result: SmokeResult) -> pd.DataFrame:
    """Correctness per table and endpoint (latency is in ``latency_lines``: it changes run to run)."""
    rows = [
        {
            "Tabla": t.table,
            "Endpoint": t.endpoint,
            "Llamadas": t.calls,
            "Correctas": t.passed,
            "Diferencias": t.mismatches,
            "Códigos HTTP": ", ".join(f"{k}×{v}" for k, v in sorted(t.statuses.items())),
        }
        for t in result.tallies
    ]
    return pd.DataFrame(rows)


def latency_lines(result: SmokeResult) -> list[str]:
    def ms(x: float | None) -> str:
        return "—" if x is None else f"{x:.1f} ms"

    return [
        f"{t.table} {t.endpoint}: p50 {ms(t.percentile(50))} · p95 {ms(t.percentile(95))} · p99 {ms(t.percentile(99))}"
        for t in result.tallies
    ]


def verdict(result: SmokeResult) -> str:
    calls = sum(t.calls for t in result.tallies)
    if result.ok:
        return f"El API responde en este entorno y lee sus tablas: {calls} llamadas, todas correctas."
    lines = [
        f"El smoke test falló ({sum(t.calls - t.passed for t in result.tallies)} de {calls} llamadas con problemas)."
    ]
    lines += [f"{s}: la tabla DynamoDB no tiene ítems; cargue antes de probar." for s in result.empty_tables]
    for t in result.tallies:
        lines += [f"{t.table} {t.endpoint}: {e}" for e in t.examples]
    return "\n".join(lines)


def facts(result: SmokeResult) -> dict[str, Any]:
    return {
        "base_url": result.base_url,
        "verdict": "pass" if result.ok else "fail",
        "empty_tables": result.empty_tables,
        "endpoints": [t.as_fact() for t in result.tallies],
    }
