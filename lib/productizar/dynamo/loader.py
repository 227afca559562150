"""The single-machine loader (``carga``): results-zone rows into a DynamoDB table, what a coordinator does.

Rows are streamed in key order and in chunks (never the whole table in memory), converted by ``items``,
written with BatchWriteItem at most 25 items a call by several writers, throttled and unprocessed items
retried with exponential backoff and full jitter, and the rate held at a share of the table's write
capacity (as Glue's ``dynamodb.throughput.write.percent``). A checkpoint after each chunk lets an
interrupted load resume; puts are idempotent by key, so re-writing a chunk changes nothing.
Loads too big for one machine run as the Glue job instead.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from productizar.core.errors import ProductizarError
from productizar.core.files import write_text
from productizar.core.hu import TableSpec
from productizar.dynamo.items import RefusedRow, item_size, loadable_item

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


class RateLimiter:
    """Token bucket: at most ``rate`` units a second on average, bursts up to one second's worth."""

    def __init__(self, rate: float | None):
        self.rate = rate
        self.tokens = rate or 0.0
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def acquire(self, units: float) -> None:
        if not self.rate:
            return
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= units or self.tokens >= self.rate:
                    self.tokens -= units
                    return
                wait = (units - self.tokens) / self.rate
            time.sleep(wait)


@dataclass
class Counters:
    items_written: int = 0
    write_units: int = 0
    retries: int = 0
    throttles: int = 0
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **deltas: int) -> None:
        with self.lock:
            for k, v in deltas.items():
                setattr(self, k, getattr(self, k) + v)


@dataclass
class BatchWriter:
    """Writes batches of items to one table: the piece both the single-machine loader and the Spark
    tasks use (each task with its own share of the rate)."""

    client: Any
    table: str
    limiter: RateLimiter
    counters: Counters = field(default_factory=Counters)
    max_attempts: int = 12
    base_delay_s: float = 0.05
    max_delay_s: float = 5.0
    sleep: Callable[[float], None] = time.sleep

    def _backoff(self, attempt: int) -> None:
        self.sleep(random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt)))  # full jitter

    def write(self, items: list[dict[str, Any]]) -> None:
        """Write up to 25 items (already distinct by key), retrying until every one is accepted."""
        if len(items) > BATCH:
            raise ValueError(f"BatchWriteItem admite {BATCH} ítems por llamada, no {len(items)}")
        units = sum(math.ceil(item_size(i) / 1024) for i in items) if self.limiter.rate else 0
        self.limiter.acquire(units)
        pending = [{"PutRequest": {"Item": i}} for i in items]
        for attempt in range(self.max_attempts):
            try:
                self.counters.add(calls=1)
                response = self.client.batch_write_item(RequestItems={self.table: pending})
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code not in THROTTLING:
                    raise LoadError(
                        f"DynamoDB rechazó la escritura en {self.table}: {code}: "
                        f"{exc.response.get('Error', {}).get('Message', '')}"
                    ) from None
                self.counters.add(throttles=1, retries=1)
                self._backoff(attempt)
                continue
            left = response.get("UnprocessedItems", {}).get(self.table, [])
            self.counters.add(items_written=len(pending) - len(left))
            if not left:
                self.counters.add(write_units=units)
                return
            self.counters.add(retries=1)
            pending = left
            self._backoff(attempt)
        raise LoadError(
            f"{self.table}: {len(pending)} ítems sin escribir después de {self.max_attempts} intentos "
            "(la tabla no da abasto: revise su capacidad de escritura)."
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
    rate_limit_wcu: float | None = None

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
    rows: Iterator[dict[str, Any]], spec: TableSpec, result: LoadResult, last_key: list[Any]
) -> tuple[list[dict[str, Any]], bool]:
    """Items of a chunk with one item per key (the last row wins, as DynamoDB would keep it), and whether
    the chunk's first key repeats the previous chunk's last one (then that chunk must land first)."""
    out: list[dict[str, Any]] = []
    crossing = False
    for row in rows:
        result.rows_read += 1
        try:
            item = loadable_item(row, spec)
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
                continue
            crossing = True
        last_key[0] = key
        out.append(item)
    return out, crossing


def load_table(
    zone: ResultsZone,
    client: Any,
    spec: TableSpec,
    *,
    rate_wcu: float | None,
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
    result = replace(before, refused_examples=list(before.refused_examples), rate_limit_wcu=rate_wcu)
    start_row = result.resumed_from_row = result.rows_read
    writer = BatchWriter(client, spec.names.dynamo_table, RateLimiter(rate_wcu))
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

    def settled(state: Saved) -> Saved:
        return Saved(
            replace(
                state.result,
                items_written=written,
                retries=result.retries,
                throttles=result.throttles,
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
            items, crossing = distinct_items(iter(rows), spec, result, last_key)
            if crossing and in_flight:  # the repeated key's earlier row must be written before the later one
                settle(*in_flight)
                in_flight = None
            futures = [pool.submit(writer.write, items[i : i + BATCH]) for i in range(0, len(items), BATCH)]
            if in_flight:
                settle(*in_flight)
            in_flight = (futures, len(items), snapshot())
        if in_flight:
            settle(*in_flight)
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
