"""A load that rides target tracking from the autoscaling minimum, against the sizing step's prediction.

    .venv/bin/python benchmarks/capacity_autoscaling.py [--min 20] [--max 800] [--rows 60000] [--time-scale 10]

The runbook's table goes from 1 to 8,000 WCU; here the range is scaled down (20..800) and AWS's clock is
compressed ``--time-scale`` times (a two-minute scale-up delay takes 12 s), so the whole ramp fits in a few
minutes. The loader's share is 0.9: only a share above the policy's 60 % target makes target tracking raise
the table (at the HU's 0.5 the table would stay at its minimum, which is why the runbook warms it). Printed
side by side: predicted and measured time, items lost, and the same load on a table warmed to the maximum.
Target: measured time within ±15 % of the prediction, 0 items lost.
"""

import argparse
import os
import time

ap = argparse.ArgumentParser()
ap.add_argument("--min", type=int, default=20)
ap.add_argument("--max", type=int, default=800)
ap.add_argument("--rows", type=int, default=60_000)
ap.add_argument("--share", type=float, default=0.9)
ap.add_argument("--time-scale", type=float, default=10)
args = ap.parse_args()
os.environ["PRODUCTIZAR_TIME_SCALE"] = str(args.time_scale)  # before the private endpoint starts

import _common as c  # noqa: E402

from productizar.cloud import aws  # noqa: E402
from productizar.dynamo import warming  # noqa: E402
from productizar.dynamo.loader import load_table  # noqa: E402
from productizar.dynamo.sizing import load_seconds  # noqa: E402

TARGET = 0.6  # the template's write policy (TargetValue 60)


def autoscaled_table(autoscaling) -> str:
    name = c.new_table(wcu=args.min, rcu=10_000)  # reads are metered too: the count must not wait on them
    resource, dim = f"table/{name}", warming.DIMENSION[warming.WRITE]
    autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=resource,
        ScalableDimension=dim,
        MinCapacity=args.min,
        MaxCapacity=args.max,
    )
    autoscaling.put_scaling_policy(
        PolicyName="escritura",
        ServiceNamespace="dynamodb",
        ResourceId=resource,
        ScalableDimension=dim,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": TARGET * 100,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBWriteCapacityUtilization"},
        },
    )
    return name


def count(name: str) -> int:
    pages = aws.client(c.local(), "dynamodb").get_paginator("scan").paginate(TableName=name, Select="COUNT")
    return sum(p["Count"] for p in pages)


def main() -> None:
    c.up()
    try:
        zone = c.results_zone(args.rows)
        ddb, aas = aws.client(c.local(), "dynamodb"), aws.client(c.local(), "application-autoscaling")
        delay = 120 / args.time_scale
        figures = {}
        for warmed in (False, True):
            name = autoscaled_table(aas)
            spec = c.SPEC.model_copy(update={"dynamo_table": name})
            journal = warming.Journal(c._TMP / "warming")
            started = time.monotonic()
            with warming.warmed(ddb, aas, name, warming.WRITE, args.max, journal, dry_run=not warmed):
                r = load_table(zone, c.client(), spec, share=args.share, workers=4, chunk_rows=2_000, refresh_s=0.5)
            predicted = load_seconds(args.rows, args.min, args.max, args.share, TARGET, delay, warmed)
            lost = args.rows - count(name)
            figures[warmed] = (predicted, r.duration_s, lost, r.peak_capacity_wcu, time.monotonic() - started)
        print(
            f"table {args.min}..{args.max} WCU, target {TARGET:.0%}, share {args.share}, {args.rows:,} items, "
            f"time x{args.time_scale:g} (scale-up delay {delay:g} s)"
        )
        print(f"{'':22}{'predicted':>12}{'measured':>12}{'ratio':>8}{'lost':>6}{'peak WCU':>10}")
        for warmed, label in ((False, "from the minimum"), (True, "warmed to the maximum")):
            p, m, lost, peak, _ = figures[warmed]
            print(f"{label:22}{p:11.1f}s{m:11.1f}s{m / p:8.2f}{lost:6d}{peak:10.0f}")
        p, m, lost, _, _ = figures[False]
        print(f"items lost = {lost + figures[True][2]} (target = 0)")
        print(f"autoscaling time / predicted = {m / p:.3f} (target within 1 ± 0.15)")
    finally:
        c.down()


if __name__ == "__main__":
    main()
