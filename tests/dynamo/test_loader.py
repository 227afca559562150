"""The loader against the moto server: exact values, 25-item batches, retries, rate cap, resume."""

import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from productizar.core.hu import TableSpec, load_hu
from productizar.dynamo.loader import (
    BATCH,
    BatchWriter,
    Checkpoint,
    Controller,
    LoadError,
    LoadResult,
    Saved,
    load_table,
)
from productizar.results_zone.base import ResultsZone
from productizar.results_zone.duckdb import DuckDBResultsZone
from tests.support.clock import FakeClock
from tests.support.crash import Crash, CrashAfter
from tests.support.dynamo import client, create_table, spec_for

ROOT = Path(__file__).resolve().parents[2]
DEMO = load_hu(ROOT / "parameters" / "hu" / "demo.yaml")


def scan_all(table: str) -> list[dict]:
    items, start = [], None
    while True:
        page = client().scan(TableName=table, **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return sorted(items, key=lambda i: sorted((k, str(v)) for k, v in i.items()))


@pytest.mark.usefixtures("embedded")
def test_values_arrive_exactly():
    spec = TableSpec(source="r.t", partition_key={"name": "id", "type": "S"}, sort_key={"name": "n", "type": "N"})
    table = create_table(spec)
    item = {
        "id": {"S": "clave-ñandú"},
        "n": {"N": "12345678901234567890.123456789"},
        "texto": {"S": "Días de mora – año"},
        "vacio": {"S": ""},
        "activo": {"BOOL": False},
    }
    BatchWriter(client(), table, Controller(None)).write([item])
    back = client().get_item(TableName=table, Key={"id": item["id"], "n": item["n"]})["Item"]
    assert back == item


@pytest.mark.usefixtures("embedded")
def test_at_most_25_items_a_call():
    with pytest.raises(ValueError, match="25"):
        BatchWriter(client(), "x", Controller(None)).write([{"k": {"S": str(i)}} for i in range(BATCH + 1)])


class Flaky:
    """Wraps a real client: throttles the first calls, then leaves half of a batch unprocessed once."""

    def __init__(self, inner, throttle_first: int = 3):
        self.inner, self.left, self.calls, self.unprocessed_once = inner, throttle_first, 0, True

    def __getattr__(self, name):  # DescribeTable and the rest: the real client
        return getattr(self.inner, name)

    def batch_write_item(self, RequestItems, **kwargs):
        self.calls += 1
        if self.left:
            self.left -= 1
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "lento"}}, "BatchWriteItem"
            )
        ((table, requests),) = RequestItems.items()
        if self.unprocessed_once and len(requests) > 1:
            self.unprocessed_once = False
            half = len(requests) // 2
            self.inner.batch_write_item(RequestItems={table: requests[:half]})
            return {"UnprocessedItems": {table: requests[half:]}}
        return self.inner.batch_write_item(RequestItems=RequestItems)


@pytest.mark.usefixtures("embedded")
def test_throttling_and_unprocessed_items_are_retried_and_counted():
    spec = TableSpec(source="r.t", partition_key={"name": "id", "type": "S"})
    table = create_table(spec)
    flaky = Flaky(client())
    writer = BatchWriter(flaky, table, Controller(None), sleep=lambda s: None)
    writer.write([{"id": {"S": str(i)}} for i in range(20)])
    assert writer.counters.throttles == 4 and writer.counters.retries == 4  # 3 refused calls, 1 partial
    assert writer.counters.items_written == 20 and len(scan_all(table)) == 20


@pytest.mark.usefixtures("embedded")
def test_a_table_that_never_accepts_fails_clearly_after_the_stall_time_not_a_count_of_attempts():
    writer = BatchWriter(Flaky(client(), throttle_first=10**6), "x", Controller(None), stall_s=0.5)
    t0 = time.monotonic()
    with pytest.raises(LoadError, match="ninguna escritura de este lote en 0 s") as err:
        writer.write([{"id": {"S": "1"}}])
    assert time.monotonic() - t0 >= 0.5
    assert writer.counters.throttles > 3  # many more than a fixed number of attempts
    assert "Suba su capacidad de escritura" in str(err.value)


def test_a_fixed_ceiling_holds_the_rate():
    clock = FakeClock()
    limiter = Controller(400, clock=clock, sleep=clock.sleep)
    for _ in range(80):
        limiter.acquire(10)
    assert clock.now == pytest.approx(800 / 400, abs=1e-6)  # nothing saved up at the start, nothing lost
    # shared by four writers on the real clock: never faster than the ceiling (a loaded machine is only slower)
    limiter = Controller(400)
    t0 = time.monotonic()
    threads = [threading.Thread(target=lambda: [limiter.acquire(10) for _ in range(20)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 800 / 400 - 0.01 <= time.monotonic() - t0 < 30


@pytest.mark.usefixtures("embedded")
def test_load_refuses_bad_keys_keeps_the_last_repeated_row_and_resumes(small_zone, tmp_path):
    first = create_table(DEMO.tables[0])
    spec = spec_for("resultados_riesgos.alter_ctra_score_delta", first)

    checkpoint = Checkpoint(tmp_path / "cp.json", {"table": first})
    with pytest.raises(Crash):
        load_table(
            small_zone, CrashAfter(client(), 30), spec, rate_wcu=None, workers=2, chunk_rows=300, checkpoint=checkpoint
        )
    done = checkpoint.rows_done()
    assert 0 < done < 2001  # some chunks written, the rest not
    resumed = load_table(small_zone, client(), spec, rate_wcu=None, workers=2, chunk_rows=300, checkpoint=checkpoint)
    assert resumed.resumed_from_row == done and resumed.rows_read == 2001

    clean_table = create_table(DEMO.tables[0])
    clean = load_table(
        small_zone,
        client(),
        spec_for("resultados_riesgos.alter_ctra_score_delta", clean_table),
        rate_wcu=None,
        workers=4,
        chunk_rows=300,
    )
    assert clean.refused == 5 and len(clean.refused_examples) == 5  # 3 null and 2 empty partition keys
    assert clean.duplicates == 1 and clean.items_written == 2001 - 5 - 1
    with_resume, without = scan_all(first), scan_all(clean_table)
    assert len(with_resume) == len(without) == 1995 and with_resume == without  # same items, no duplicates
    repeated = [i for i in without if i["score"]["N"] == "99.0001"]
    assert len(repeated) == 1  # the last row of the repeated key is the one kept
    assert all("observacion" not in i or i["observacion"]["S"] for i in without)  # nulls are not written
    assert all(Decimal(i["score"]["N"]).as_tuple().exponent >= -4 for i in without)


def test_checkpoint_of_another_table_is_ignored(tmp_path):
    cp = Checkpoint(tmp_path / "cp.json", {"table": "a"})
    cp.save(Saved(LoadResult("r.t", "t", rows_read=600)))
    assert cp.rows_done() == 600
    other = Checkpoint(tmp_path / "cp.json", {"table": "b"})
    assert other.rows_done() == 0 and "cambió: table" in other.note
    cp.save(Saved(LoadResult("r.t", "t", rows_read=900)), complete=True)
    assert cp.rows_done() == 0  # a finished load starts again from the beginning


@pytest.mark.usefixtures("embedded")
def test_a_key_repeated_across_chunks_keeps_the_later_row(tmp_path):
    import duckdb

    path = tmp_path / "z.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA r")
    # 10 rows; keys k0..k8, and k4 twice: rows 5 and 6 in key order, with chunk_rows=5 they straddle a chunk
    con.execute(
        "CREATE TABLE r.t AS SELECT 'k' || CAST(i AS VARCHAR) AS id, CAST(i AS VARCHAR) AS v FROM range(9) t(i)"
    )
    con.execute("UPDATE r.t SET v = 'primera' WHERE id = 'k4'")
    con.execute("INSERT INTO r.t VALUES ('k4', 'zzz-ultima')")
    con.close()
    spec = TableSpec(source="r.t", partition_key={"name": "id", "type": "S"})
    table = create_table(spec)
    seen: list[str] = []

    class Recording(DuckDBResultsZone):
        """Streams as Hive does (one sorted query, chunks cut anywhere), so the repeated key straddles two."""

        def stream_ordered(self, source, keys, chunk_rows):
            for chunk in ResultsZone.stream_ordered(self, source, keys, chunk_rows):
                seen.extend(chunk[chunk["id"] == "k4"]["v"])
                yield chunk

    result = load_table(
        Recording(path), client(), spec.model_copy(update={"dynamo_table": table}), rate_wcu=None, chunk_rows=5
    )
    assert result.duplicates == 1 and result.items_written == 10  # two puts for k4, one after the other
    assert len(seen) == 2 and len(scan_all(table)) == 9
    kept = client().get_item(TableName=table, Key={"id": {"S": "k4"}})["Item"]["v"]["S"]
    assert kept == seen[-1]  # the row streamed last wins, even across the chunk boundary


def test_duckdb_pages_keep_key_order_and_never_split_a_key(tmp_path):
    import duckdb

    path = tmp_path / "p.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA r")
    con.execute("CREATE TABLE r.t AS SELECT CAST(i % 7 AS VARCHAR) AS a, i // 7 AS b, i AS v FROM range(100) t(i)")
    con.execute(
        "INSERT INTO r.t VALUES (NULL, 1, -1), ('3', 2, -2), ('3', 2, -3), ('3', 2, -4)"
    )  # a null key, a key x4
    con.close()
    chunks = list(DuckDBResultsZone(path).stream_ordered("r.t", ["a", "b"], 5))
    rows = [r for c in chunks for r in c.to_dict("records")]
    assert len(rows) == 104 and rows[0]["v"] == -1  # the null key first
    keys = [(r["a"], r["b"]) for r in rows[1:]]
    assert keys == sorted(keys)
    chunk_keys = [{(r["a"], r["b"]) for r in c.to_dict("records")} for c in chunks]
    assert all(not (x & y) for i, x in enumerate(chunk_keys) for y in chunk_keys[i + 1 :])  # no key in two chunks
    assert sum(1 for k in keys if k == ("3", 2)) == 4


def test_progress_lines_say_rows_rate_and_time_left_once_each():
    from productizar.dynamo.loader import LoadResult, ProgressPrinter

    lines: list[str] = []
    show = ProgressPrinter(every_s=0, out=lines.append)
    r = LoadResult("r.t", "t", rows_read=40_000, items_written=39_000, duration_s=10.0)
    show(r, 100_000)
    show(r, 100_000, True)  # the same point again: not repeated
    assert lines == ["⏳ r.t: 40.000/100.000 filas (40 %) · 3.900 ítems/s · faltan ~15 s"]
