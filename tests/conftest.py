"""Fixtures for the tests that need a real HiveServer2 (marker ``hive``)."""

from pathlib import Path

import duckdb
import pytest
import yaml

from productizar.core.environments import HiveZone
from productizar.local import embedded as localenv
from productizar.results_zone.duckdb import DuckDBResultsZone
from productizar.results_zone.hive import HiveResultsZone
from tests.support import hive_server as hs

_AHEAD: dict[str, hs.Ahead] = {}


def _load_demo(server: hs.HiveServer) -> None:
    hs.load_demo(HiveResultsZone(hive_settings(server.port)), server.workdir)


def pytest_collection_finish(session):
    """When a selected test needs the Hive server, it starts now, in the background (about half a minute of
    JVM start and demo load that the tests before it no longer wait for)."""
    if session.config.option.collectonly:
        return
    if any("hive_server" in getattr(item, "fixturenames", ()) for item in session.items):
        workdir = session.config._tmp_path_factory.mktemp("hive")
        _AHEAD["hive"] = hs.Ahead(workdir, _load_demo)


def pytest_sessionfinish(session, exitstatus):
    """A server started ahead for tests that never ran (an interrupted session) is stopped too."""
    if "hive" in _AHEAD:
        _AHEAD.pop("hive").stop()


@pytest.fixture(scope="session")
def hive_server(tmp_path_factory):
    """Spark's HiveThriftServer2 on loopback with the demo results zone, for the whole session: the one
    started ahead at collection, or one started now."""
    if "hive" not in _AHEAD:
        _AHEAD["hive"] = hs.Ahead(tmp_path_factory.mktemp("hive"), _load_demo)
    return _AHEAD["hive"].server()


def hive_settings(port: int, **overrides) -> HiveZone:
    base = {
        "backend": "hive",
        "host": hs.HOST,
        "port": port,
        "auth": "NONE",
        "username": "pruebas",
        "query_timeout_s": 300,
    }
    return HiveZone(**(base | overrides))


@pytest.fixture
def hive_zone(hive_server) -> HiveResultsZone:
    return HiveResultsZone(hive_settings(hive_server.port))


@pytest.fixture
def environments_with_hive(hive_server, tmp_path, monkeypatch) -> str:
    """The repository's environments plus ``hivetest``: the embedded AWS and the test HiveServer2."""
    root = Path(__file__).resolve().parents[1]
    envs = yaml.safe_load((root / "parameters" / "environments.yaml").read_text(encoding="utf-8"))
    envs["hivetest"] = dict(
        envs["local"],
        description="Hive de pruebas (Spark Thrift Server)",
        results_zone=hive_settings(hive_server.port).model_dump(exclude_none=True),
    )
    path = tmp_path / "environments.yaml"
    path.write_text(yaml.safe_dump(envs, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("PRODUCTIZAR_ENVIRONMENTS", str(path))
    return "hivetest"


@pytest.fixture(scope="session")
def small_zone(tmp_path_factory, embedded):
    """The demo's score table cut to its first 2,000 rows in key order (with its planted defects)."""
    path = tmp_path_factory.mktemp("zone") / "small.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"ATTACH '{localenv.duckdb_path()}' AS demo (READ_ONLY)")
    con.execute("CREATE SCHEMA resultados_riesgos")
    con.execute(
        "CREATE TABLE resultados_riesgos.alter_ctra_score_delta AS SELECT * FROM "
        "demo.resultados_riesgos.alter_ctra_score_delta ORDER BY num_documento NULLS FIRST, fecha_corte LIMIT 2000"
    )
    # a repeated key inside the cut, so the load meets one
    con.execute(
        "INSERT INTO resultados_riesgos.alter_ctra_score_delta "
        "SELECT * REPLACE (CAST(99.0001 AS DECIMAL(9,4)) AS score) "
        "FROM resultados_riesgos.alter_ctra_score_delta WHERE num_documento IS NOT NULL AND num_documento <> '' LIMIT 1"
    )
    con.close()
    return DuckDBResultsZone(path)
