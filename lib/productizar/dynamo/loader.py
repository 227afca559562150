"""The single-machine loader (``carga``): results-zone rows into a DynamoDB table, what a coordinator does.

Rows are streamed in key order and in chunks (never the whole table in memory), converted by ``items``,
written with BatchWriteItem at most 25 items a call by several writers. The rate follows what the table
accepts (``Controller``: additive increase, multiplicative decrease on throttling), never above a share of
the table's *current* write capacity (as Glue's ``dynamodb.throughput.write.percent``); throttled,
unprocessed and dropped calls are retried until no write has been accepted for a configured time.
A checkpoint after each chunk lets an interrupted load resume; puts are idempotent by key, so re-writing a
chunk changes nothing. Loads too big for one machine run as the Glue job instead.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ChecksumError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError

from productizar.core.capacity import write_units
from productizar.core.errors import ProductizarError
from productizar.core.files import write_text
from productizar.core.hu import TableSpec
from productizar.dynamo.items import RefusedRow, item_size, sized_item

if TYPE_CHECKING:  # the Glue job imports this module without the results-zone drivers
    from productizar.results_zone.base import ResultsZone

BATCH = 25  # BatchWriteItem's limit (moto accepts more; AWS does not)
THROTTLING = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}


class LoadError(ProductizarError):
    pass


@dataclass(frozen=True)
class Capacity:
    """A table's write capacity now, as DescribeTable tells it."""

    units: float  # provisioned WCU; on-demand: the quota the load may count on (as Glue's connector does)
    on_demand: bool
    start_units: float  # where an adaptive load starts: the provisioned WCU, or an on-demand warm throughput

    def text(self) -> str:
        if self.on_demand:
            text = f"bajo demanda (hasta {self.units:,.0f} WCU/s, {self.start_units:,.0f} al instante)"
            return text.replace(",", ".")
        return f"{self.units:,.0f} WCU aprovisionadas".replace(",", ".")


def table_capacity(client: Any, table: str, on_demand_quota: float = 40_000.0) -> Capacity:
    """The table's write capacity from DescribeTable (autoscaling changes show there)."""
    t = client.describe_table(TableName=table)["Table"]
    if (t.get("BillingModeSummary") or {}).get("BillingMode") == "PAY_PER_REQUEST":
        warm = float((t.get("WarmThroughput") or {}).get("WriteUnitsPerSecond") or 4000)
        return Capacity(on_demand_quota, True, min(warm, on_demand_quota))
    units = float((t.get("ProvisionedThroughput") or {}).get("WriteCapacityUnits") or 1)
    return Capacity(units, False, units)


class Controller:
    """The rate a load asks of its table, shared by its writers: additive increase while writes are accepted,
    multiplicative decrease on throttling, never above ``share`` of the table's current capacity (read again
    every ``refresh_s``). It also integrates the capacity held over time (what a provisioned load costs) and
    knows when a write was last accepted.

    ``capacity`` None: a fixed ceiling of ``share`` units a second (or no pacing when ``share`` is None)."""

    def __init__(
        self,
        share: float | None,
        capacity: Callable[[], Capacity] | None = None,
        *,
        refresh_s: float = 1.0,
        increase: float = 0.05,
        decrease: float = 0.7,
        round_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.share, self.capacity_of = share, capacity
        self.refresh_s, self.increase, self.decrease, self.round_s = refresh_s, increase, decrease, round_s
        self.clock, self.sleep = clock, sleep
        self.lock = threading.Lock()
        now = clock()
        self.last_progress = self.last_change = self.stamp = self.refreshed = now
        self.capacity: Capacity | None = capacity() if capacity else None
        self.unit_seconds = 0.0  # capacity held x time, while the load runs
        self.peak_capacity = self.capacity.units if self.capacity else 0.0
        self.ceiling = self._ceiling()
        start = self.capacity.start_units * (share or 1.0) if self.capacity else self.ceiling
        self.rate = min(self.ceiling, start) if self.ceiling else 0.0
        self.tokens = 0.0  # nothing saved up: the first second is paced too

    def _ceiling(self) -> float:
        if self.share is None:
            return 0.0  # no pacing
        return self.share * self.capacity.units if self.capacity else self.share

    def _refresh(self, now: float) -> None:
        if not self.capacity_of or now - self.refreshed < self.refresh_s:
            return
        held = self.capacity.units if self.capacity and not self.capacity.on_demand else 0.0
        self.unit_seconds += held * (now - self.refreshed)
        self.refreshed = now
        self.capacity = self.capacity_of()
        self.peak_capacity = max(self.peak_capacity, self.capacity.units)
        self.ceiling = self._ceiling()
        self.rate = min(self.rate, self.ceiling)
        if not self.capacity.on_demand:  # a provisioned table serves its capacity: go there at once
            self.rate = max(self.rate, min(self.ceiling, self.capacity.start_units * (self.share or 1.0)))

    def acquire(self, units: float) -> None:
        """Wait until ``units`` may be sent at the current rate."""
        while True:
            with self.lock:
                now = self.clock()
                self._refresh(now)
                if not self.ceiling:
                    return
                cap = max(units, self.rate * 0.5)
                self.tokens = min(cap, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= units - 1e-9:  # a wait computed to the token leaves a rounding error short
                    self.tokens = max(0.0, self.tokens - units)
                    return
                wait = (units - self.tokens) / self.rate if self.rate else self.refresh_s
            self.sleep(min(wait, self.refresh_s))

    def accepted(self) -> None:
        with self.lock:
            now = self.clock()
            self.last_progress = now
            if self.ceiling and self.rate < self.ceiling and now - self.last_change >= self.round_s:
                self.rate = min(self.ceiling, self.rate + self.increase * self.ceiling)
                self.last_change = now

    def throttled(self) -> None:
        with self.lock:
            now = self.clock()
            if self.ceiling and now - self.last_change >= self.round_s:
                self.rate = max(min(self.ceiling, 1.0), self.rate * self.decrease)
                self.last_change = now

    def finish(self) -> None:
        """Close the capacity integral at the end of the load."""
        with self.lock:
            now = self.clock()
            if self.capacity and not self.capacity.on_demand:
                self.unit_seconds += self.capacity.units * (now - self.refreshed)
            self.refreshed = now


# transport failures: the request may or may not have been applied; puts by key make a retry harmless
TRANSPORT = (HTTPClientError, BotoConnectionError, ResponseParserError, ChecksumError)


@dataclass
class Counters:
    items_written: int = 0
    retries: int = 0
    throttles: int = 0
    connection_errors: int = 0
    calls: int = 0
    consumed_wcu: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **deltas: float) -> None:
        with self.lock:
            for k, v in deltas.items():
                setattr(self, k, getattr(self, k) + v)


@dataclass
class BatchWriter:
    """Writes batches of items to one table: the piece both the single-machine loader and the Spark tasks
    use (each task with its own controller and share).

    A batch is retried until every item is accepted, paced by the controller; it gives up only when it has
    made no progress for ``stall_s`` (time, not attempts: target tracking takes minutes to add capacity)."""

    client: Any
    table: str
    controller: Controller
    counters: Counters = field(default_factory=Counters)
    stall_s: float = 600.0
    base_delay_s: float = 0.05
    max_delay_s: float = 1.0
    sleep: Callable[[float], None] = time.sleep

    def _backoff(self, attempt: int) -> None:
        self.sleep(random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt)))  # full jitter

    def write(self, items: list[dict[str, Any]], units: int | None = None) -> None:
        """Write up to 25 items (already distinct by key), retrying until every one is accepted. ``units``:
        their write units when the caller measured them already (the pacing needs them)."""
        if len(items) > BATCH:
            raise ValueError(f"BatchWriteItem admite {BATCH} ítems por llamada, no {len(items)}")
        pending = [{"PutRequest": {"Item": i}} for i in items]
        since = self.controller.clock()  # the last progress of this batch
        attempt = 0
        while True:
            if self.controller.ceiling:
                if units is None or len(pending) < len(items):  # a retry: what is left, measured now
                    units = sum(write_units(item_size(p["PutRequest"]["Item"])) for p in pending)
                self.controller.acquire(units)
            try:
                self.counters.add(calls=1)
                response = self.client.batch_write_item(
                    RequestItems={self.table: pending}, ReturnConsumedCapacity="TOTAL"
                )
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code not in THROTTLING:
                    raise LoadError(
                        f"DynamoDB rechazó la escritura en {self.table}: {code}: "
                        f"{exc.response.get('Error', {}).get('Message', '')}"
                    ) from None
                self.counters.add(throttles=1, retries=1)
                self.controller.throttled()
            except TRANSPORT:
                self.counters.add(connection_errors=1, retries=1)
            else:
                left = response.get("UnprocessedItems", {}).get(self.table, [])
                consumed = sum(
                    float(c.get("CapacityUnits") or 0)
                    for c in response.get("ConsumedCapacity") or []
                    if c.get("TableName") == self.table
                )
                self.counters.add(items_written=len(pending) - len(left), consumed_wcu=consumed)
                if len(left) < len(pending):
                    self.controller.accepted()
                    since, attempt = self.controller.clock(), 0
                if not left:
                    return
                self.counters.add(retries=1, throttles=1)
                self.controller.throttled()
                pending = left
            if self.controller.clock() - since > self.stall_s:
                raise LoadError(self._stalled(len(pending)))
            self._backoff(attempt)
            attempt += 1

    def _stalled(self, pending: int) -> str:
        c = self.controller.capacity
        has = f" La tabla tiene {c.text()}." if c else ""
        return (
            f"{self.table}: {pending} ítems sin escribir: DynamoDB no aceptó ninguna escritura de este lote en "
            f"{self.stall_s:.0f} s.{has} Suba su capacidad de escritura (o el mínimo del autoescalado, o caliente la "
            "tabla con load.warm) y vuelva a ejecutar carga: se reanuda desde su punto de control."
        )


# ------------------------------------------------------------------------------------------- the load


@dataclass
class LoadResult:
    source: str
    table: str
    rows_read: int = 0
    items_written: int = 0
    refused: int = 0
    refused_examples: list[str] = field(default_factory=list)
    duplicates: int = 0
    retries: int = 0
    throttles: int = 0
    duration_s: float = 0.0
    resumed_from_row: int = 0
    rate_limit_wcu: float | None = None  # the ceiling at the start (share x capacity), or a fixed one
    connection_errors: int = 0
    consumed_wcu: float = 0.0  # DynamoDB's own ConsumedCapacity, summed
    provisioned_wcu_seconds: float = 0.0  # capacity held x time while loading (what a provisioned load costs)
    peak_capacity_wcu: float = 0.0
    capacity_start: str = ""
    capacity_end: str = ""

    @property
    def rate(self) -> float:
        return self.items_written / self.duration_s if self.duration_s else 0.0

    def as_fact(self) -> dict[str, Any]:
        return asdict(self) | {"items_per_s": round(self.rate, 1)}


@dataclass
class Saved:
    """What a checkpoint keeps of a load: its result up to the last chunk written whole (``rows_read`` is
    where it resumes) and that chunk's last key (a repeated key across the boundary is still counted)."""

    result: LoadResult
    last_key: list[Any] | None = None

    @property
    def rows_done(self) -> int:
        return self.result.rows_read


class Checkpoint:
    """Rows fully written so far, and the load's counts up to there, in a small JSON file.

    It belongs to one ``identity``: the target table's *instance* (its id and creation time: a table
    deleted and created again, or a new embedded server, starts from the first row) and the source data as
    counted. Any other identity, or a finished load, starts from the beginning.
    """

    def __init__(self, path: Path, identity: dict[str, Any]):
        self.path, self.identity = path, identity
        self.note = ""  # why an existing checkpoint was not used, for the evidence

    def load(self) -> Saved | None:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return None
        if data.get("complete"):
            return None
        if data.get("identity") != self.identity:
            theirs = data.get("identity") or {}
            changed = sorted(k for k in set(theirs) | set(self.identity) if theirs.get(k) != self.identity.get(k))
            self.note = (
                f"el punto de control de {self.path.name} era de otra carga (cambió: {', '.join(changed)}); "
                "se carga desde la primera fila"
            )
            return None
        try:
            return Saved(LoadResult(**data["result"]), data.get("last_key"))
        except (KeyError, TypeError):
            return None

    def rows_done(self) -> int:
        saved = self.load()
        return saved.rows_done if saved else 0

    def save(self, saved: Saved, complete: bool = False) -> None:
        write_text(
            self.path,
            json.dumps(
                {
                    "identity": self.identity,
                    "result": asdict(saved.result),
                    "last_key": saved.last_key,
                    "complete": complete,
                }
            ),
        )


def table_instance(client: Any, table: str) -> dict[str, Any]:
    """The table's instance as DynamoDB tells it: its id and creation time (a new table, new values)."""
    t = client.describe_table(TableName=table)["Table"]
    created = t.get("CreationDateTime")
    return {
        "table_id": t.get("TableId", ""),
        "created": created.isoformat() if hasattr(created, "isoformat") else str(created),
    }


def _key_text(item: dict[str, Any], keys: tuple[str, ...]) -> str:
    return " / ".join(str(next(iter(item[k].values()))) for k in keys)


def distinct_items(
    rows: Iterator[dict[str, Any]],
    spec: TableSpec,
    result: LoadResult,
    last_key: list[Any],
    units: list[int] | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Items of a chunk with one item per key (the last row wins, as DynamoDB would keep it), and whether
    the chunk's first key repeats the previous chunk's last one (then that chunk must land first).
    ``units``, when given, receives each item's write units, in the same order."""
    out: list[dict[str, Any]] = []
    sizes: list[int] = units if units is not None else []
    crossing = False
    for row in rows:
        result.rows_read += 1
        try:
            item, size = sized_item(row, spec)
        except RefusedRow as exc:
            result.refused += 1
            if len(result.refused_examples) < 20:
                result.refused_examples.append(f"fila {result.rows_read}: {exc}")
            continue
        key = tuple(next(iter(item[k].values())) for k in spec.key_names)
        if key == last_key[0]:
            result.duplicates += 1
            if out:
                out[-1] = item
                sizes[-1] = write_units(size)
                continue
            crossing = True
        last_key[0] = key
        out.append(item)
        sizes.append(write_units(size))
    return out, crossing


def load_table(
    zone: ResultsZone,
    client: Any,
    spec: TableSpec,
    *,
    rate_wcu: float | None = None,
    share: float | None = None,
    stall_s: float = 600.0,
    refresh_s: float = 1.0,
    on_demand_quota: float = 40_000.0,
    workers: int = 4,
    chunk_rows: int = 10_000,
    checkpoint: Checkpoint | None = None,
    progress: Callable[[LoadResult, int | None, bool], None] | None = None,
    expected_rows: int | None = None,
) -> LoadResult:
    """Load one table; resumes after the last completed chunk when a checkpoint of the same table instance
    and data says so, and then counts the whole load (what was written before the interruption too)."""
    saved = checkpoint.load() if checkpoint else None
    before = saved.result if saved else LoadResult(spec.source, spec.names.dynamo_table)  # the earlier part
    table = spec.names.dynamo_table
    if share is not None:  # adaptive: a share of what the table has now, read again as it changes
        controller = Controller(share, lambda: table_capacity(client, table, on_demand_quota), refresh_s=refresh_s)
    else:  # a fixed ceiling, or none
        controller = Controller(rate_wcu)
    result = replace(before, refused_examples=list(before.refused_examples), rate_limit_wcu=controller.ceiling or None)
    result.capacity_start = controller.capacity.text() if controller.capacity else ""
    start_row = result.resumed_from_row = result.rows_read
    writer = BatchWriter(client, table, controller, stall_s=stall_s)
    last_key: list[Any] = [tuple(saved.last_key) if saved and saved.last_key is not None else None]
    t0 = time.monotonic()
    offset = 0  # rows of the stream seen so far, written now or before an interruption
    written = before.items_written  # items of the chunks whose every batch was accepted

    def snapshot() -> Saved:
        """The load as it will stand once the chunk just converted is written (its refusals and repeats are
        counted already; items, retries and time are filled in when it settles)."""
        return Saved(
            replace(result, refused_examples=list(result.refused_examples)),
            list(last_key[0]) if last_key[0] is not None else None,
        )

    def refresh() -> None:
        result.duration_s = before.duration_s + time.monotonic() - t0
        result.items_written = written
        result.retries = before.retries + writer.counters.retries
        result.throttles = before.throttles + writer.counters.throttles
        result.connection_errors = before.connection_errors + writer.counters.connection_errors
        result.consumed_wcu = before.consumed_wcu + writer.counters.consumed_wcu
        result.provisioned_wcu_seconds = before.provisioned_wcu_seconds + controller.unit_seconds
        result.peak_capacity_wcu = max(before.peak_capacity_wcu, controller.peak_capacity)
        result.capacity_end = controller.capacity.text() if controller.capacity else ""

    def settled(state: Saved) -> Saved:
        return Saved(
            replace(
                state.result,
                items_written=written,
                retries=result.retries,
                throttles=result.throttles,
                connection_errors=result.connection_errors,
                consumed_wcu=result.consumed_wcu,
                provisioned_wcu_seconds=result.provisioned_wcu_seconds,
                peak_capacity_wcu=result.peak_capacity_wcu,
                duration_s=result.duration_s,
            ),
            state.last_key,
        )

    def settle(futures: list[Any], n_items: int, state: Saved) -> None:
        nonlocal written
        for future in futures:
            future.result()  # every batch of the chunk is written before its checkpoint
        written += n_items
        refresh()
        if checkpoint:
            checkpoint.save(settled(state))
        if progress:
            progress(result, expected_rows, False)

    in_flight: tuple[list[Any], int, Saved] | None = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="carga") as pool:
        for chunk in zone.stream_ordered(spec.source, list(spec.key_names), chunk_rows):
            begin, offset = offset, offset + len(chunk)
            if offset <= start_row:  # written before the interruption
                continue
            rows = chunk.iloc[max(0, start_row - begin) :].to_dict("records")
            # converting this chunk overlaps with the writing of the previous one
            units: list[int] = []
            items, crossing = distinct_items(iter(rows), spec, result, last_key, units)
            if crossing and in_flight:  # the repeated key's earlier row must be written before the later one
                settle(*in_flight)
                in_flight = None
            futures = [
                pool.submit(writer.write, items[i : i + BATCH], sum(units[i : i + BATCH]))
                for i in range(0, len(items), BATCH)
            ]
            if in_flight:
                settle(*in_flight)
            in_flight = (futures, len(items), snapshot())
        if in_flight:
            settle(*in_flight)
    controller.finish()
    refresh()
    if checkpoint:
        checkpoint.save(settled(snapshot()), complete=True)
    if progress:
        progress(result, expected_rows, True)
    return result


class ProgressPrinter:
    """One Spanish line every ``every_s`` seconds, and one when a table is done: rows, share, items/s, time left."""

    def __init__(self, every_s: float = 10.0, out: Callable[[str], None] = print):
        self.every_s, self.out, self.last = every_s, out, time.monotonic()
        self.shown: tuple[str, int] | None = None

    def __call__(self, r: LoadResult, expected_rows: int | None, done: bool = False) -> None:
        now = time.monotonic()
        if (now - self.last < self.every_s and not done) or self.shown == (r.source, r.rows_read):
            return
        self.last, self.shown = now, (r.source, r.rows_read)
        share = f" ({100 * r.rows_read / expected_rows:.0f} %)" if expected_rows else ""
        eta = ""
        if expected_rows and r.rows_read and r.duration_s:
            left = (expected_rows - r.rows_read) * r.duration_s / r.rows_read
            eta = f" · faltan ~{left:.0f} s"
        self.out(
            f"⏳ {r.source}: {r.rows_read:,}/{expected_rows or 0:,} filas{share} · {r.rate:,.0f} ítems/s{eta}".replace(
                ",", "."
            )
        )
