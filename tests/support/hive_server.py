"""A real HiveServer2-protocol server for tests and benchmarks: Spark's HiveThriftServer2 from pip pyspark.

Started on loopback with a private warehouse and Derby metastore in a work folder, stopped by its process
group. The flags are the ones ``shared/notes/local-backends.md`` found to matter.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


@dataclass
class HiveServer:
    workdir: Path
    port: int
    proc: subprocess.Popen

    @property
    def log(self) -> Path:
        return self.workdir / "thriftserver.log"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def start(workdir: Path, timeout_s: float = 180.0) -> HiveServer:
    """Start HiveThriftServer2 on a free loopback port and wait until it accepts connections."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise RuntimeError("Java 17 is needed for the Hive test server (apt-get install openjdk-17-jre-headless)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    home = spark_home()
    java_opts = f"-Dderby.system.home={workdir} -XX:-UsePerfData"
    cmd = [
        str(home / "bin" / "spark-submit"),
        "--master",
        "local[2]",
        "--class",
        "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
        "--conf",
        "spark.ui.enabled=false",
        "--conf",
        f"spark.driver.bindAddress={HOST}",
        "--conf",
        f"spark.driver.host={HOST}",
        "--conf",
        f"spark.sql.warehouse.dir={workdir / 'warehouse'}",
        "--conf",
        f"spark.hadoop.javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName={workdir / 'metastore_db'};create=true",
        "--conf",
        f"spark.driver.extraJavaOptions={java_opts}",
        "--conf",
        "spark.sql.hive.convertMetastoreParquet=false",
        "--conf",
        "spark.sql.shuffle.partitions=4",
        # Hive semantics: CAST('' AS INT) is NULL in Hive; Spark 4's ANSI mode would raise instead
        "--conf",
        "spark.sql.ansi.enabled=false",
        "--driver-memory",
        "1g",
        "--hiveconf",
        f"hive.server2.thrift.port={port}",
        "--hiveconf",
        f"hive.server2.thrift.bind.host={HOST}",
        "--hiveconf",
        "hive.server2.authentication=NONE",
        "--hiveconf",
        f"hive.exec.stagingdir={workdir / 'staging'}",
        "spark-internal",
    ]
    env = dict(
        os.environ, SPARK_HOME=str(home), SPARK_LOCAL_IP=HOST, SPARK_LOG_DIR=str(workdir), SPARK_SUBMIT_OPTS=java_opts
    )
    log = open(workdir / "thriftserver.log", "wb")
    proc = subprocess.Popen(
        cmd,
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = HiveServer(workdir, port, proc)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"HiveThriftServer2 exited with {proc.returncode}; see {server.log}")
        if _port_open(port):
            return server
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"HiveThriftServer2 did not open port {port} in {timeout_s:.0f} s; see {server.log}")


def load_demo(zone, workdir: Path) -> None:
    """Create the demo results zone on the server: the same tables, types and values as the DuckDB default.

    Each table is created with the same Hive DDL, as a Hive table stored as Parquet, and filled from a
    Parquet file of the demo frame with the same casts.
    """
    import duckdb

    from productizar.core import naming
    from productizar.local import demo_data

    seed = workdir / "seed"
    seed.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        for t in demo_data.demo_tables():
            zone_name, _ = naming.split_source(t.source)
            path = seed / f"{t.source}.parquet"
            con.register("frame", t.frame)
            con.execute(f"COPY frame TO '{path}' (FORMAT PARQUET)")
            con.unregister("frame")
            zone.execute(f"CREATE DATABASE IF NOT EXISTS `{zone_name}`")
            zone.execute(t.ddl() + " STORED AS PARQUET")
            zone.execute(f"INSERT INTO {t.source} " + t.select_cast(f"parquet.`{path}`"))
    finally:
        con.close()
