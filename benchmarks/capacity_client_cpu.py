"""Client CPU per item: the adaptive loader against bare batch_write_item, on the same metered endpoint.

    .venv/bin/python benchmarks/capacity_client_cpu.py [--rows 50000] [--workers 4]

Both write the same rows to a provisioned table big enough never to throttle (so the figures are the
client's work, not waiting): bare parallel ``batch_write_item`` of items converted beforehand, and
``load_table`` with its controller (reading the results zone, converting, sizing each batch, pacing at the
share of the capacity it reads back, counting ConsumedCapacity). CPU seconds of this process
(``time.process_time``) per item. Target: loader / bare <= 1.3 (the loader's own overhead above boto3
stays small; one client core must drive the runbook's 8,000 WCU).
"""

import argparse
import time

import _common as c

from productizar.dynamo.loader import load_table

WCU = 40_000  # the table quota: never the limit here


def bare(items: list[dict], workers: int) -> tuple[float, float]:
    return c.bare_write(items, c.new_table(wcu=WCU), workers)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    c.up()
    try:
        zone = c.results_zone(args.rows)
        items = c.converted_items(zone)
        bare_cpu, bare_wall = bare(items, args.workers)
        spec = c.SPEC.model_copy(update={"dynamo_table": c.new_table(wcu=WCU)})
        cpu, wall = time.process_time(), time.perf_counter()
        r = load_table(zone, c.client(), spec, share=0.5, workers=args.workers, chunk_rows=10_000)
        loader_cpu, loader_wall = time.process_time() - cpu, time.perf_counter() - wall
        assert r.items_written == args.rows and r.throttles == 0
        n = args.rows
        print(f"rows {n:,}, {args.workers} writers, metered endpoint on loopback, table {WCU:,} WCU")
        print(f"{'':34}{'CPU µs/item':>12}{'wall items/s':>14}")
        print(f"{'bare batch_write_item':34}{bare_cpu / n * 1e6:12.1f}{n / bare_wall:14,.0f}")
        print(f"{'loader (read, convert, pace, count)':34}{loader_cpu / n * 1e6:12.1f}{n / loader_wall:14,.0f}")
        print(f"loader overhead above boto3: {(loader_cpu - bare_cpu) / n * 1e6:.1f} µs/item")
        print(f"client CPU loader / bare = {loader_cpu / bare_cpu:.2f} (target <= 1.3)")
    finally:
        c.down()


if __name__ == "__main__":
    main()
