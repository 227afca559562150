"""The Glue job's code on local Spark against the single-machine loader, same rows, same moto, one run.

    .venv/bin/python benchmarks/spark_vs_single.py [--rows 100000] [--tasks 2]

Prints items/s of each and their ratio, twice for Spark: the whole ``spark-submit`` (JVM start, reading
the Parquet, shuffling by key, writing) and its writing tasks alone. On two cores Spark does not win: the
figure shows its overhead. Where the crossover lies on a real cluster is the sizing step's arithmetic
(README, "Loads beyond one machine").
"""

import argparse
import time

import _common as c

from productizar.dynamo import spark_load
from productizar.dynamo.loader import load_table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--tasks", type=int, default=2)
    args = ap.parse_args()
    c.up()
    try:
        zone = c.results_zone(args.rows)
        single_table = c.new_table()
        spec = c.SPEC.model_copy(update={"dynamo_table": single_table})
        t0 = time.perf_counter()
        single = load_table(zone, c.client(), spec, rate_wcu=None, workers=4, chunk_rows=10_000)
        single_s = time.perf_counter() - t0
        assert single.items_written == args.rows

        parquet = zone.export_parquet("bench.clientes", c._TMP / "clientes.parquet")
        job = spark_load.JobArgs(
            "bench.clientes",
            c.new_table(),
            c.SPEC.partition_key,
            c.SPEC.sort_key,
            table_wcu=1e9,
            write_share=1.0,
            tasks=args.tasks,
            parquet=str(parquet),
            endpoint=c.localenv.moto_endpoint(),
        )
        t0 = time.perf_counter()
        tasks = spark_load.submit_local(
            job,
            c._TMP / "spark",
            c.ROOT / "jobs" / "cargar_dynamo.py",
            c.aws.process_environment(c.local()),
            master=f"local[{args.tasks}]",
        )
        spark_s = time.perf_counter() - t0
        written = sum(t.items_written for t in tasks)
        assert written == args.rows
        writing_s = max(t.seconds for t in tasks)  # the tasks run side by side

        single_rate, spark_rate, spark_write_rate = args.rows / single_s, args.rows / spark_s, args.rows / writing_s
        print(f"rows: {args.rows:,}   Spark tasks: {args.tasks}")
        print(f"single-machine loader (4 writers):      {single_rate:8,.0f} items/s  ({single_s:.1f} s)")
        print(f"Spark local, whole spark-submit:        {spark_rate:8,.0f} items/s  ({spark_s:.1f} s)")
        print(f"Spark local, writing tasks only:        {spark_write_rate:8,.0f} items/s  ({writing_s:.1f} s)")
        print(f"ratio Spark (whole) / single-machine:   {spark_rate / single_rate:.2f}")
        print(f"ratio Spark (tasks) / single-machine:   {spark_write_rate / single_rate:.2f}")
    finally:
        c.down()


if __name__ == "__main__":
    main()
