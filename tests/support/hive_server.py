"""A real HiveServer2-protocol server for tests and benchmarks: Spark's HiveThriftServer2 from pip pyspark.

Started on loopback with a private warehouse and Derby metastore in a work folder, stopped by its process
group. The flags are the ones ``docs/backends.md`` lists as the ones that mattered. It is started the way the
tool starts its own servers (``local.loopback.spawn``): a port taken before Spark binds it is tried again on
another, and the server counts as up only when its own process group listens on the port.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from productizar.local import loopback

HOST = loopback.HOST
MARKER = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def _accepts(address: str, timeout: float) -> bool:
    """Whether ``host:port`` accepts a TCP connection (HiveServer2 speaks Thrift, not HTTP)."""
    host, port = address.rsplit(":", 1)
    with socket.socket() as s:
        s.settimeout(timeout)
        return s.connect_ex((host, int(port))) == 0


@dataclass
class HiveServer:
    workdir: Path
    port: int
    pid: int  # leads the server's process group

    @property
    def log(self) -> Path:
        return self.workdir / "thriftserver.log"

    def stop(self) -> None:
        """End the server's process group as the tool ends its own servers (SIGTERM, then SIGKILL after 30 s),
        and reap it: it is this process's child."""
        loopback.stop(self.pid, MARKER, grace_s=30)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def start(workdir: Path, timeout_s: float = 180.0) -> HiveServer:
    """Start HiveThriftServer2 on a free loopback port and wait until it accepts connections."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise RuntimeError("Java 17 is needed for the Hive test server (apt-get install openjdk-17-jre-headless)")
    workdir.mkdir(parents=True, exist_ok=True)
    home = spark_home()
    java_opts = f"-Dderby.system.home={workdir} -XX:-UsePerfData"
    env = dict(
        os.environ, SPARK_HOME=str(home), SPARK_LOCAL_IP=HOST, SPARK_LOG_DIR=str(workdir), SPARK_SUBMIT_OPTS=java_opts
    )
    log = workdir / "thriftserver.log"
    started = loopback.spawn(
        lambda port: _command(home, workdir, java_opts, port),
        lambda port: f"{HOST}:{port}",
        log,
        wait_s=timeout_s,
        answered=_accepts,
        cwd=workdir,
        env=env,
    )
    if started is None:
        raise RuntimeError(f"HiveThriftServer2 did not start on any of three ports; see {log}")
    pid, port = started
    return HiveServer(workdir, port, pid)


def _command(home: Path, workdir: Path, java_opts: str, port: int) -> list[str]:
    return [
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


class Ahead:
    """The server started (and the demo zone loaded) in a background thread as soon as the session knows a
    test will need it: Spark's JVM boots while the tests before that one run, instead of in front of it."""

    def __init__(self, workdir: Path, load: Callable[[HiveServer], None]):
        self.workdir = workdir
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hive-server")
        self._started: Future[HiveServer] = self._pool.submit(self._start, load)

    def _start(self, load: Callable[[HiveServer], None]) -> HiveServer:
        server = start(self.workdir)
        try:
            load(server)
        except BaseException:
            server.stop()
            raise
        return server

    def server(self) -> HiveServer:
        """The running server, waiting for it to be up; its start's own error if it could not start."""
        return self._started.result()

    def stop(self) -> None:
        """Stop the server once it is up (waiting for a start still under way); safe to call again."""
        with contextlib.suppress(Exception):
            self._started.result().stop()
        self._pool.shutdown()
