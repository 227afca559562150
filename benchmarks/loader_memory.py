"""Peak memory of a load: flat in table size (10^5 vs 10^6 rows within 1.2x), below 400 MB.

    .venv/bin/python benchmarks/loader_memory.py [--small 100000] [--large 1000000]

Each load runs in its own fresh process, side by side in one run, against the same moto server.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import _common as c

CHILD = r"""
import json, resource, sys
sys.path.insert(0, {bench!r})
import _common as c
from productizar.dynamo.loader import load_table
zone = c.results_zone({rows})
spec = c.SPEC.model_copy(update={{"dynamo_table": c.new_table()}})
r = load_table(zone, c.client(), spec, rate_wcu=None, workers=4, chunk_rows=10_000)
print(json.dumps({{"items": r.items_written, "seconds": r.duration_s,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def measure(rows: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(bench=str(Path(__file__).parent), rows=rows)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=100_000)
    ap.add_argument("--large", type=int, default=1_000_000)
    args = ap.parse_args()
    c.up()  # the children find the running server through the same state dir
    try:
        small, large = measure(args.small), measure(args.large)
        for name, m in (("small", small), ("large", large)):
            print(f"{name:5} {m['items']:>9,} items  peak {m['peak_mb']:6.0f} MB  {m['seconds']:6.1f} s")
        ratio = large["peak_mb"] / small["peak_mb"]
        print(
            f"peak ratio large/small: {ratio:.2f} (target <= 1.2); "
            f"largest peak {large['peak_mb']:.0f} MB (target < 400)"
        )
    finally:
        c.down()


if __name__ == "__main__":
    main()
