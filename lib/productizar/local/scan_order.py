"""The embedded endpoint's Scan: a table's key order kept between pages instead of sorted for each one.

moto answers every Scan page by sorting the whole table, then walking it from the first item, comparing each
with the page's ``ExclusiveStartKey`` and hashing each one's partition key for its segment. Counting 10⁵ items
page by page was therefore quadratic: about a minute for the demo's three tables. Here each table's items
are sorted once (by moto's own ``all_items``) and split by segment once (by moto's own
``is_within_segment``), and a page starts at its key by bisection. Nothing a Scan returns changes: the same
items in the same order, the same pages, ``LastEvaluatedKey``, ``ScannedCount`` and capacity, since moto's
own scan still builds the page from the items that follow the start key.

What is kept is forgotten as soon as a request could have changed a table (``forget``): the server serves
one request at a time (``motoserver.Serialized``), and only the reads listed in ``READS`` leave tables as
they were. Scans of an index take moto's own path.
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from productizar.local.capacity_endpoint import TARGET_PREFIX

# the DynamoDB calls that change no item: what is kept survives them, and only them
READS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "DescribeTable",
        "ListTables",
        "ListTagsOfResource",
        "DescribeTimeToLive",
        "DescribeContinuousBackups",
        "DescribeLimits",
        "DescribeEndpoints",
    }
)

Key = tuple[Any, ...]


@dataclass
class _Ordered:
    """One table's items in moto's key order, each segmentation's share of them, and their keys."""

    table: Any
    items: list[Any]
    segments: dict[tuple[int, int], tuple[list[Any], list[Key]]] = field(default_factory=dict)

    def share(self, segments: tuple[int | None, int | None]) -> tuple[list[Any], list[Key]]:
        """The items of segment ``segments[0]`` of ``segments[1]`` (all of them for ``(None, None)``)."""
        segment, total = segments
        if segment is None or total is None:
            segment, total = 0, 1
        found = self.segments.get((segment, total))
        if found is None:
            mine = self.items if total == 1 else [i for i in self.items if i.is_within_segment((segment, total))]
            found = (mine, [_key_of_item(self.table, i) for i in mine])
            self.segments[(segment, total)] = found
        return found


class ScanOrder:
    """Each table's sorted items, kept while no request could have changed any table."""

    def __init__(self) -> None:
        self._kept: dict[int, _Ordered] = {}

    def forget(self) -> None:
        self._kept.clear()

    def after(self, table: Any, segments: tuple[int | None, int | None], start: dict[str, Any] | None) -> Iterator[Any]:
        """The items of ``table`` in ``segments`` that come after the key ``start`` (from the first, without)."""
        ordered = self._kept.get(id(table))
        if ordered is None or ordered.table is not table:
            ordered = _Ordered(table, table.all_items())
            self._kept[id(table)] = ordered
        items, keys = ordered.share(segments)
        first = 0 if not start else bisect.bisect_right(keys, _key_of_start(table, start))
        return itertools.islice(items, first, None)


def _key_of_item(table: Any, item: Any) -> Key:
    """An item's place in moto's order: its partition key's value, then its sort key's."""
    if table.range_key_attr is None:
        return (item.hash_key.cast_value,)
    return (item.hash_key.cast_value, item.range_key.cast_value)


def _key_of_start(table: Any, start: dict[str, Any]) -> Key:
    from moto.dynamodb.models.dynamo_type import DynamoType

    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return tuple(DynamoType(start[name]).cast_value for name in names if name in start)


ORDER = ScanOrder()


def install(order: ScanOrder = ORDER) -> None:
    """Serve moto's table Scans from ``order`` in this process (the embedded server's, before it serves)."""
    from moto.dynamodb.models.table import Table

    moto_scan = Table.scan
    signature = inspect.signature(moto_scan)

    def scan(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = signature.bind(self, *args, **kwargs)
        call.apply_defaults()
        asked = call.arguments
        if asked["index_name"]:
            return moto_scan(*call.args, **call.kwargs)
        following = order.after(self, asked["segments"], asked["exclusive_start_key"])
        asked["exclusive_start_key"], asked["segments"] = None, (None, None)
        self.all_items = lambda: following  # moto's scan walks all_items(): here, what follows the start key
        try:
            return moto_scan(*call.args, **call.kwargs)
        finally:
            del self.all_items

    Table.scan = scan  # type: ignore[method-assign]


class KeptScanOrder:
    """WSGI middleware: what ``order`` keeps is forgotten before any request that is not a DynamoDB read."""

    def __init__(self, app: Callable[..., Iterable[bytes]], order: ScanOrder = ORDER):
        self.app, self.order = app, order

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not (target.startswith(TARGET_PREFIX) and target[len(TARGET_PREFIX) :] in READS):
            self.order.forget()
        return self.app(environ, start_response)
