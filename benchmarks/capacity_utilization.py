"""How much of the capacity it may use the loader really uses, on a table that meters as DynamoDB does.

    .venv/bin/python benchmarks/capacity_utilization.py [--wcu 500] [--share 0.5] [--seconds 60]

A provisioned table of ``--wcu`` write units behind the embedded endpoint's capacity model; the loader may use
``--share`` of it. Printed side by side: the allowed rate, the measured one, the throttled share of the calls
and the units DynamoDB reported consumed. Target: measured / allowed >= 0.95.
"""

import argparse

import _common as c

from productizar.dynamo.loader import load_table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wcu", type=int, default=500)
    ap.add_argument("--share", type=float, default=0.5)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    allowed = args.wcu * args.share
    rows = int(allowed * args.seconds)
    c.up()
    try:
        zone = c.results_zone(rows)
        spec = c.SPEC.model_copy(update={"dynamo_table": c.new_table(wcu=args.wcu)})
        r = load_table(zone, c.client(), spec, share=args.share, workers=4, chunk_rows=2_000)
        measured = r.items_written / r.duration_s
        calls = r.items_written / 25 + r.retries
        print(f"table       {args.wcu} WCU provisioned, write_share {args.share}: allowed {allowed:.0f} items/s")
        print(f"load        {r.items_written:,} items in {r.duration_s:.1f} s; consumed {r.consumed_wcu:,.0f} WCU")
        print(f"throttled   {r.throttles} of ~{calls:.0f} calls ({r.throttles / calls:.1%})")
        print(f"measured    {measured:.1f} items/s")
        print(f"utilization = {measured / allowed:.3f} (target >= 0.95)")
    finally:
        c.down()


if __name__ == "__main__":
    main()
