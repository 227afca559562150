"""Loader throughput against the raw ceiling, on the same moto server in the same run.

    .venv/bin/python benchmarks/loader_throughput.py [--rows 50000] [--workers 4]

The ceiling: the same items, already converted, written by bare parallel batch_write_item calls (no
conversion, no rate limiter, no bookkeeping). Target: loader / ceiling >= 0.9.
"""

import argparse

import _common as c

from productizar.dynamo.loader import load_table


def raw_ceiling(items: list[dict], workers: int) -> float:
    _, wall = c.bare_write(items, c.new_table(), workers)
    return len(items) / wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    c.up()
    try:
        zone = c.results_zone(args.rows)
        items = c.converted_items(zone)
        ceiling = raw_ceiling(items, args.workers)
        spec = c.SPEC.model_copy(update={"dynamo_table": c.new_table()})
        result = load_table(zone, c.client(), spec, rate_wcu=None, workers=args.workers, chunk_rows=10_000)
        assert result.items_written == args.rows
        print(f"rows {args.rows:,}, {args.workers} writers, moto server on loopback")
        print(f"raw batch_write_item ceiling : {ceiling:8,.0f} items/s")
        print(f"productizar loader           : {result.rate:8,.0f} items/s (read, convert, batch, limit, count)")
        print(f"ratio loader / ceiling       : {result.rate / ceiling:8.2f}   (target >= 0.90)")
    finally:
        c.down()


if __name__ == "__main__":
    main()
