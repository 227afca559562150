"""Verification's item count on the embedded endpoint: moto's Scan (the whole table sorted for every page)
against the key order kept between pages (``productizar.local.scan_order``), two servers side by side in one
run, the same 10⁵ items in each, counted as ``verificacion`` counts them (parallel Scan, Select=COUNT).

.venv/bin/python benchmarks/count_scan.py [--rows 100000] [--rounds 2]
"""

import argparse
import sys
import time

import _common as c
import boto3

from productizar.dynamo.loader import load_table
from productizar.dynamo.verify import count_items, segments_for
from productizar.local import loopback, motoserver

ITEM_BYTES = 300  # the benchmark table's items, about (``_common.results_zone``)


def start(*extra: str) -> tuple[int, str]:
    """A private embedded server (no capacity model: nothing throttles the count); its pid and URL."""
    started = loopback.spawn(
        lambda port: [sys.executable, "-m", motoserver.MARKER, "-H", loopback.HOST, "-p", str(port), *extra],
        lambda port: f"http://{loopback.HOST}:{port}/moto-api/",
        c._TMP / "count_scan.log",
        60.0,
    )
    assert started, "the server did not start"
    return started[0], f"http://{loopback.HOST}:{started[1]}"


def client(url: str):
    return boto3.client(
        "dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def loaded(url: str, zone) -> str:
    """A table keyed as the benchmark's, holding the zone's rows loaded by the loader."""
    table = c.new_table(ddb=client(url))
    load_table(zone, client(url), c.SPEC.model_copy(update={"dynamo_table": table}))
    return table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    segments = segments_for(args.rows * ITEM_BYTES)
    servers = {"moto's Scan": start("--scan-as-moto"), "key order kept": start()}
    try:
        zone = c.results_zone(args.rows)
        tables = {name: loaded(url, zone) for name, (_, url) in servers.items()}
        best: dict[str, float] = {}
        for _ in range(args.rounds):  # alternate the two, keep each one's best
            for name, (_, url) in servers.items():
                t0 = time.perf_counter()
                counted = count_items(client(url), tables[name], segments)
                assert counted == args.rows, f"{name}: {counted} items counted, {args.rows} loaded"
                best[name] = min(best.get(name, 1e9), time.perf_counter() - t0)
        for name, seconds in best.items():
            print(
                f"{name}: {args.rows:,} items counted in {seconds:.2f} s ({segments} segments, best of {args.rounds})"
            )
        speed_up = best["moto's Scan"] / best["key order kept"]
        print(f"count speed-up = {speed_up:.1f} (target >= 5)")
    finally:
        for pid, _ in servers.values():
            loopback.stop(pid, motoserver.MARKER)


if __name__ == "__main__":
    main()
