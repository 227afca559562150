"""Verification's item count: parallel Scan (Select=COUNT) against a single segment, same table, same run.

.venv/bin/python benchmarks/verify_scan.py [--rows 100000] [--segments 4]
"""

import argparse
import time

import _common as c

from productizar.dynamo.loader import load_table
from productizar.dynamo.verify import count_items


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--segments", type=int, default=4)
    args = ap.parse_args()
    c.up()
    try:
        zone = c.results_zone(args.rows)
        table = c.new_table()
        load_table(zone, c.client(), c.SPEC.model_copy(update={"dynamo_table": table}), rate_wcu=None)
        timings = {}
        for segments in (1, args.segments, 1, args.segments):  # alternate, keep the best of two
            t0 = time.perf_counter()
            assert count_items(c.client(), table, segments) == args.rows
            timings[segments] = min(timings.get(segments, 1e9), time.perf_counter() - t0)
        print(
            f"{args.rows:,} items: 1 segment {timings[1]:.2f} s, "
            f"{args.segments} segments {timings[args.segments]:.2f} s"
        )
        print(
            f"speed-up parallel / single: {timings[1] / timings[args.segments]:.2f}x "
            "(moto is one CPU-bound process on a 2-core machine; real DynamoDB serves segments in parallel)"
        )
    finally:
        c.down()


if __name__ == "__main__":
    main()
