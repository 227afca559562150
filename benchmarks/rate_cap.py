"""The loader's rate cap: 500 items/s configured, measured over a one-minute window.

    .venv/bin/python benchmarks/rate_cap.py [--rate 500] [--seconds 60]

Target: the measured rate within ±5 % of the configured one (items of < 1 KB: one write unit each).
"""

import argparse

import _common as c

from productizar.dynamo.loader import load_table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    rows = int(args.rate * args.seconds)
    c.up()
    try:
        zone = c.results_zone(rows)
        spec = c.SPEC.model_copy(update={"dynamo_table": c.new_table()})
        result = load_table(zone, c.client(), spec, rate_wcu=args.rate, workers=4, chunk_rows=2_000)
        measured = result.items_written / result.duration_s
        print(f"configured {args.rate:.0f} items/s, {result.items_written:,} items in {result.duration_s:.1f} s")
        print(f"measured   {measured:.1f} items/s -> ratio {measured / args.rate:.3f} (target 0.95 .. 1.05)")
    finally:
        c.down()


if __name__ == "__main__":
    main()
