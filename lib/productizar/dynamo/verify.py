"""Prove that a DynamoDB table holds exactly its results-zone rows: the item count by parallel ``Scan`` with
``Select=COUNT`` (never ``DescribeTable.ItemCount``, which AWS refreshes about every six hours), and a random
sample of source rows fetched by key and compared attribute by attribute."""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from productizar.core.errors import ProductizarError
from productizar.core.hu import TableSpec
from productizar.dynamo.items import BadKey, to_item
from productizar.dynamo.loader import THROTTLING
from productizar.results_zone.base import ResultsZone, quote, table_ref

BYTES_PER_SEGMENT = 4 * 1024 * 1024  # one Scan segment per ~4 MiB (a Scan page is 1 MB)
MAX_SEGMENTS = 16


def segments_for(size_bytes: float) -> int:
    """Scan segments for a table of ``size_bytes`` (more segments only pay on bigger tables)."""
    return max(1, min(MAX_SEGMENTS, math.ceil(size_bytes / BYTES_PER_SEGMENT)))


def _waiting_out_throttling(call: Callable[..., dict[str, Any]], kwargs: dict[str, Any], stall_s: float) -> Any:
    """``call(**kwargs)``, retried with backoff while DynamoDB throttles it (a count or a sample reads a lot), until it
    has been refused for ``stall_s``; any other error at once."""
    since, attempt = time.monotonic(), 0
    while True:
        try:
            return call(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in THROTTLING or time.monotonic() - since > stall_s:
                raise
        time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))
        attempt += 1


def count_items(client: Any, table: str, segments: int, stall_s: float = 600.0, consistent: bool = True) -> int:
    """Items in ``table`` by parallel Scan with Select=COUNT, every page of every segment (``consistent``:
    strongly consistent reads, at twice the read units of eventually consistent ones)."""

    def one(segment: int) -> int:
        total, start = 0, None
        while True:
            kwargs = {
                "TableName": table,
                "Select": "COUNT",
                "Segment": segment,
                "TotalSegments": segments,
                "ConsistentRead": consistent,
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = _waiting_out_throttling(client.scan, kwargs, stall_s)
            total += page["Count"]
            start = page.get("LastEvaluatedKey")
            if not start:
                return total

    with ThreadPoolExecutor(max_workers=segments) as pool:
        return sum(pool.map(one, range(segments)))


def _same(expected: dict[str, Any], found: dict[str, Any]) -> bool:
    ((kind_e, value_e),) = expected.items()
    if kind_e not in found:
        return False
    value_f = found[kind_e]
    if kind_e == "N":
        return Decimal(value_e) == Decimal(value_f)
    return value_e == value_f


def batch_get(client: Any, table: str, keys: list[dict[str, Any]], stall_s: float = 600.0) -> list[dict[str, Any]]:
    """BatchGetItem, 100 keys a call, unprocessed keys and throttling retried until every key is answered: a
    key given up on would read as a missing item. Fails only when nothing is served for ``stall_s``."""
    items: list[dict[str, Any]] = []
    for i in range(0, len(keys), 100):
        pending: dict[str, Any] = {table: {"Keys": keys[i : i + 100], "ConsistentRead": True}}
        since, attempt = time.monotonic(), 0
        while pending:
            response = _waiting_out_throttling(client.batch_get_item, {"RequestItems": pending}, stall_s)
            got = response.get("Responses", {}).get(table, [])
            items += got
            pending = response.get("UnprocessedKeys") or {}
            if got:
                since, attempt = time.monotonic(), 0
            elif pending and time.monotonic() - since > stall_s:
                left = len(pending[table]["Keys"])
                raise ProductizarError(f"{table}: DynamoDB no respondió {left} claves de la muestra en {stall_s:.0f} s")
            if pending:
                time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))
                attempt += 1
    return items


_SAFE_LITERAL = re.compile(r"^[A-Za-z0-9_.:\- ]*$")


def source_copies(zone: ResultsZone, spec: TableSpec, key: dict[str, Any]) -> int | None:
    """Rows in the source with this key (None when the key's text is not safe to put in a literal)."""
    conds = []
    for name in spec.key_names:
        ((kind, value),) = key[name].items()
        if not _SAFE_LITERAL.match(value):
            return None
        conds.append(f"{quote(name)} = {value}" if kind == "N" else f"{quote(name)} = '{value}'")
    sql = f"SELECT count(*) AS copies FROM {table_ref(spec.source)} WHERE {' AND '.join(conds)}"
    return int(zone.query(sql).iloc[0]["copies"])


def compare_sample(zone: ResultsZone, client: Any, spec: TableSpec, rows: int, seed: int = 11) -> dict[str, Any]:
    """Fetch a random sample of source rows by key and compare every attribute."""
    sample = zone.sample(spec.source, rows, seed=seed)
    expected: dict[tuple, dict[str, Any]] = {}
    refused = 0
    for row in sample.to_dict("records"):
        try:
            item = to_item(row, spec)
        except BadKey:
            refused += 1
            continue
        expected[tuple(str(item[k]) for k in spec.key_names)] = item
    keys = [{k: item[k] for k in spec.key_names} for item in expected.values()]
    found = {tuple(str(i[k]) for k in spec.key_names): i for i in batch_get(client, spec.names.dynamo_table, keys)}
    mismatches, repeated = [], 0
    for key, item in expected.items():
        got = found.get(key)
        diffs = []
        if got is None:
            diffs.append(("(ítem)", "existe", "no está en DynamoDB"))
        else:
            for name in sorted(set(item) | set(got)):
                if name not in got:
                    diffs.append((name, str(item[name]), "falta"))
                elif name not in item:
                    diffs.append((name, "no existe en el origen", str(got[name])))
                elif not _same(item[name], got[name]):
                    diffs.append((name, str(item[name]), str(got[name])))
        if diffs and got is not None and (source_copies(zone, spec, item) or 0) > 1:
            repeated += 1  # the source has several rows for this key: DynamoDB kept another one of them
            continue
        key_text = " / ".join(str(next(iter(item[k].values()))) for k in spec.key_names)
        mismatches += [
            {"Tabla": spec.names.dynamo_table, "Clave": key_text, "Atributo": a, "Origen": e, "DynamoDB": f}
            for a, e, f in diffs
        ]
    return {"compared": len(expected), "refused": refused, "repeated_keys": repeated, "mismatches": mismatches}
