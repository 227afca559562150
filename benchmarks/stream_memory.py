"""Peak memory of reading a 10^6-row results-zone table through the interface: streamed vs loaded whole.

    .venv/bin/python benchmarks/stream_memory.py [--rows 1000000] [--no-hive]

Each measurement runs in its own fresh process (peak RSS is per process), side by side in one run, on
DuckDB and on the Hive test server (Spark Thrift server). The target: streaming stays below 300 MB
whatever the table's size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LIMIT_MB = 300
COLUMNS = (
    "id AS id_cliente, concat('10', lpad(CAST(id AS STRING), 8, '0')) AS num_documento, "
    "CAST(id % 100000 AS DECIMAL(18,2)) / 7 AS saldo, date_add('2020-01-01', CAST(id % 2000 AS INT)) AS fecha, "
    "concat('Segmento ', CAST(id % 5 AS STRING)) AS segmento"
)

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from productizar.results_zone.duckdb import DuckDBResultsZone
from productizar.results_zone.hive import HiveResultsZone
from productizar.core.environments import HiveZone
spec = json.loads(sys.argv[1])
zone = (DuckDBResultsZone(spec["path"]) if spec["backend"] == "duckdb"
        else HiveResultsZone(HiveZone(backend="hive", host="127.0.0.1", port=spec["port"], auth="NONE",
                                      username="bench")))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
if spec["mode"] == "stream":
    rows = sum(len(c) for c in zone.stream_table(spec["table"], chunk_rows=50_000))
else:
    rows = len(zone.query("SELECT * FROM " + spec["table"]))
print(json.dumps({{"rows": rows, "seconds": time.perf_counter() - t0, "base_mb": base,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def measure(spec: dict) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT / "lib")), json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def duckdb_table(tmp: Path, rows: int) -> dict:
    import duckdb
    import sqlglot

    path = tmp / "zone.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA bench")
    con.execute(f"CREATE TABLE bench.ids AS SELECT range AS id FROM range({rows})")
    hive = f"CREATE TABLE bench.clientes AS SELECT {COLUMNS} FROM bench.ids"
    con.execute(sqlglot.transpile(hive, read="hive", write="duckdb")[0])
    con.close()
    return {"backend": "duckdb", "path": str(path), "table": "bench.clientes"}


def hive_table(tmp: Path, rows: int):
    from productizar.core.environments import HiveZone
    from productizar.results_zone.hive import HiveResultsZone
    from tests.support import hive_server

    server = hive_server.start(tmp / "hive")
    zone = HiveResultsZone(HiveZone(backend="hive", host="127.0.0.1", port=server.port, auth="NONE", username="bench"))
    zone.execute("CREATE DATABASE bench")
    zone.execute(f"CREATE TABLE bench.ids STORED AS PARQUET AS SELECT id FROM range({rows})")
    zone.execute(f"CREATE TABLE bench.clientes STORED AS PARQUET AS SELECT {COLUMNS} FROM bench.ids")
    return server, {"backend": "hive", "port": server.port, "table": "bench.clientes"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--no-hive", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="productizar-bench-"))
    tables = [duckdb_table(tmp, args.rows)]
    server = None
    if not args.no_hive:
        server, spec = hive_table(tmp, args.rows)
        tables.append(spec)
    try:
        print(
            f"{'backend':<8} {'rows':>9} {'stream peak MB':>15} {'load-all peak MB':>17} {'ratio':>6} "
            f"{'stream s':>9} {'load s':>7}  verdict"
        )
        for spec in tables:
            s = measure(spec | {"mode": "stream"})
            a = measure(spec | {"mode": "all"})
            assert s["rows"] == a["rows"] == args.rows
            verdict = "ok" if s["peak_mb"] < LIMIT_MB else f"OVER {LIMIT_MB} MB"
            print(
                f"{spec['backend']:<8} {s['rows']:>9,} {s['peak_mb']:>15.0f} {a['peak_mb']:>17.0f} "
                f"{s['peak_mb'] / a['peak_mb']:>6.2f} {s['seconds']:>9.1f} {a['seconds']:>7.1f}  {verdict}"
            )
        print(f"(interpreter with the package imported: ~{s['base_mb']:.0f} MB; ratio = stream peak / load-all peak)")
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - t0:.0f} s")
