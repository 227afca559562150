"""The results zone through PyHive against a real HiveServer2 (Spark's Thrift server), compared with DuckDB."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy

from productizar.core.hu import load_hu
from productizar.core.naming import INVENTORY_COLUMNS
from productizar.local import embedded as localenv
from productizar.results_zone.base import ResultsZoneError
from productizar.results_zone.duckdb import DuckDBResultsZone
from productizar.results_zone.hive import HiveResultsZone
from productizar.run.runner import Runner
from productizar.steps import conteo
from tests.conftest import hive_settings
from tests.support.runbook import SEED_CONSECUTIVE, SEED_LOOKUP

pytestmark = pytest.mark.hive

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "parameters" / "hu" / "demo.yaml"
HU = load_hu(DEMO)


@pytest.fixture(scope="module")
def duck(embedded):
    return DuckDBResultsZone(localenv.duckdb_path())


def sent_statements(zone: HiveResultsZone) -> list[str]:
    seen: list[str] = []
    sqlalchemy.event.listen(zone.engine, "before_cursor_execute", lambda c, cur, stmt, *a: seen.append(stmt))
    return seen


def test_conteo_gives_the_same_counts_on_hive_and_duckdb(hive_zone, duck):
    on_hive = conteo.count_tables(hive_zone, HU.tables, max_workers=3)
    on_duck = conteo.count_tables(duck, HU.tables, max_workers=3)
    assert [c.as_fact() for c in on_hive] == [c.as_fact() for c in on_duck]
    assert on_hive[0].rows == 100_000 and on_hive[0].null_key_rows == 5


def test_conteo_step_runs_through_pyhive(environments_with_hive):
    lines: list[str] = []
    result = Runner(DEMO, environments_with_hive, ["conteo"], force=True, echo=lines.append).run()
    assert result.exit_code == 0, lines
    facts = result.steps[0].facts
    assert facts["results_zone"].startswith("Hive 127.0.0.1:")
    assert facts["tables"]["resultados_riesgos.alter_ctra_score_delta"]["expected_items"] == 99_991
    assert facts["tables"]["resultados_comercial.alter_ctra_oferta_producto"]["sort_max"] == "TC25"


def test_seed_inventory_lookup_with_like_percent(hive_zone, duck):
    on_hive, on_duck = hive_zone.query(SEED_LOOKUP), duck.query(SEED_LOOKUP)
    assert list(on_hive.columns) == list(on_duck.columns) == list(INVENTORY_COLUMNS)
    assert len(on_hive) == len(on_duck) == 10  # LIMIT without ORDER BY: which 10 rows is up to the engine
    assert on_hive["proceso"].str.contains("CRD").all() and on_duck["proceso"].str.contains("CRD").all()
    ordered = SEED_LOOKUP.replace("LIMIT 10", "ORDER BY package LIMIT 10")
    pd.testing.assert_frame_equal(hive_zone.query(ordered), duck.query(ordered))


def test_seed_consecutive_query_as_the_runbook_writes_it(hive_zone, duck):
    seen = sent_statements(hive_zone)
    on_hive, on_duck = hive_zone.query(SEED_CONSECUTIVE), duck.query(SEED_CONSECUTIVE)
    assert list(on_hive.columns) == ["consecutivo", "package", "proceso", "_c3"]
    pd.testing.assert_frame_equal(on_hive, on_duck, check_dtype=False)
    # the digits rule read literally puts the odd packages first: that is what the consecutivo step must handle
    assert on_hive["package"].tolist()[:2] == ["SQOOP2DI1500", "SQOOPDI1890B2"] and 1936 in set(on_hive["consecutivo"])
    assert seen and not any(s.rstrip().endswith(";") or "GROUP BY 1" in s or "DESCRIBE" in s for s in seen)


def test_seed_insert_runs_on_both_and_reads_back_the_same(hive_zone, tmp_path):
    scratch = tmp_path / "zone.duckdb"
    shutil.copy(localenv.duckdb_path(), scratch)
    duck_rw = DuckDBResultsZone(scratch)
    values = [
        "SQOOPDI1937",
        "alter_ctra_score_delta",
        "resultados_riesgos",
        "SQPDI1937CRDCSD",
        "Coordinador",
        "/opt/gitDevops/AW1003001_ProductizarLaAnalitica/AlterCtraScoreDelta/API/cfg/alter_ctra_score_delta.json",
        "DI",
        "Carga 100% diaria: prueba :hora",
        "analista@example.com",
        "1",
        "06:00",
        "",
    ]
    for zone in (hive_zone, duck_rw):
        zone.execute(
            "CREATE TABLE resultados.inventario_lz_prueba AS SELECT * FROM resultados.inventario_lz WHERE 1 = 0"
            if zone is duck_rw
            else "CREATE TABLE resultados.inventario_lz_prueba LIKE resultados.inventario_lz"
        )
        quoted = ",".join("'" + v + "'" for v in values)
        zone.execute(
            "INSERT INTO resultados.inventario_lz_prueba (" + ",".join(INVENTORY_COLUMNS) + f") VALUES ({quoted});"
        )
    try:
        back = [z.query("SELECT * FROM resultados.inventario_lz_prueba") for z in (hive_zone, duck_rw)]
        assert back[0].iloc[0].tolist() == back[1].iloc[0].tolist() == values  # '%' and ':' arrive intact
    finally:
        hive_zone.execute("DROP TABLE IF EXISTS resultados.inventario_lz_prueba")


def test_every_count_is_named_the_same_on_both_engines(hive_zone, duck):
    sql = "SELECT count(*) FROM resultados.inventario_lz"
    assert list(hive_zone.query(sql).columns) == list(duck.query(sql).columns) == ["_c0"]
    assert hive_zone.count_rows("resultados.inventario_lz") == duck.count_rows("resultados.inventario_lz") == 73


def test_table_exists(hive_zone):
    assert hive_zone.table_exists("resultados_riesgos.alter_ctra_score_delta")
    assert not hive_zone.table_exists("resultados_riesgos.no_existe")
    assert not hive_zone.table_exists("zona_inexistente.tabla")


def test_streaming_yields_bounded_chunks_with_every_row(hive_zone, duck):
    for zone in (hive_zone, duck):
        sizes = [
            len(c)
            for c in zone.stream_table(
                "resultados_riesgos.alter_ctra_segmento_cliente", ["id_cliente", "saldo_total"], chunk_rows=30_000
            )
        ]
        assert max(sizes) <= 30_000 and sum(sizes) == 100_000 and len(sizes) == 4


def test_sample_is_drawn_by_the_engine(hive_zone, duck):
    for zone in (hive_zone, duck):
        rows = zone.sample("resultados_riesgos.alter_ctra_segmento_cliente", 200)
        assert 50 <= len(rows) <= 200 and rows["id_cliente"].is_unique


def test_counts_run_concurrently_each_on_its_own_connection(hive_zone):
    opened: list[object] = []
    sqlalchemy.event.listen(hive_zone.engine, "connect", lambda dbapi_conn, rec: opened.append(dbapi_conn))
    conteo.count_tables(hive_zone, HU.tables, max_workers=3)
    assert len({id(c) for c in opened}) >= 6  # two queries per table, none sharing a session


def test_connection_failure_names_host_port_and_auth_never_the_password(hive_server, monkeypatch):
    closed = HiveResultsZone(hive_settings(1, auth="LDAP", password_env="PRUEBA_HIVE_PASSWORD"), connect_timeout_s=2)
    monkeypatch.setenv("PRUEBA_HIVE_PASSWORD", "Planted-Hive-Pw-123")
    with pytest.raises(ResultsZoneError) as info:
        closed.query("SELECT 1")
    text = str(info.value)
    assert "127.0.0.1:1" in text and "LDAP" in text and "PRUEBA_HIVE_PASSWORD" in text
    assert "Planted-Hive-Pw-123" not in text

    wrong_mode = HiveResultsZone(hive_settings(hive_server.port, auth="NOSASL"), connect_timeout_s=5)
    with pytest.raises(ResultsZoneError, match=rf"127\.0\.0\.1:{hive_server.port} con autenticación NOSASL"):
        wrong_mode.query("SELECT 1")


def test_ldap_without_its_password_variable_says_which_to_set(hive_server, monkeypatch):
    monkeypatch.delenv("PRUEBA_HIVE_PASSWORD", raising=False)
    zone = HiveResultsZone(hive_settings(hive_server.port, auth="LDAP", password_env="PRUEBA_HIVE_PASSWORD"))
    with pytest.raises(ResultsZoneError, match="defina la variable de entorno PRUEBA_HIVE_PASSWORD"):
        zone.query("SELECT 1")


def test_a_refused_query_is_one_sentence_with_the_sql(hive_zone):
    with pytest.raises(ResultsZoneError) as info:
        hive_zone.query("SELECT columna_inexistente FROM resultados.inventario_lz;")
    text = str(info.value)
    assert "rechazó la consulta" in text and "columna_inexistente" in text
    assert text.endswith("SQL enviado:\nSELECT columna_inexistente FROM resultados.inventario_lz")
    assert len(text.splitlines()) == 3 and "ThriftCLIService" not in text  # the server's message, not its stack


def test_closing_a_session_the_server_never_answers_gives_up_after_the_close_timeout(monkeypatch):
    """Spark's Thrift server once never answered CloseSession and a reservation waited forever."""
    import socket
    import time

    from thrift.transport.TSocket import TSocket

    from productizar.results_zone import hive as results_zone

    monkeypatch.setattr(results_zone, "CLOSE_TIMEOUT_S", 0.5)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        sock = TSocket("127.0.0.1", silent.getsockname()[1])
        sock.open()

        class Session:  # closes as PyHive does: send CloseSession, wait for the answer
            def close(self):
                sock.write(b"CloseSession")
                sock.read(4)

        started = time.monotonic()
        results_zone._BoundedClose(Session(), sock).close()
        assert time.monotonic() - started < 5
        assert not sock.isOpen()


def test_the_test_server_started_on_a_taken_port_starts_again_elsewhere_and_is_its_own(
    hive_server, tmp_path, monkeypatch
):
    """The first port offered is the session's own HiveServer2: Spark cannot bind it while the other server
    answers there. The start must not take that answer for its own server, and must end up on a port its own
    process group listens on."""
    from productizar.local import loopback
    from tests.support import hive_server as hs

    offered = iter([hive_server.port])
    real = loopback.free_port
    monkeypatch.setattr(loopback, "free_port", lambda: next(offered, None) or real())
    second = hs.start(tmp_path / "second")
    try:
        assert second.port != hive_server.port
        assert loopback.listening_groups(second.port) == {second.pid}
        assert loopback.listening_groups(hive_server.port) == {hive_server.pid}
        answer = HiveResultsZone(hive_settings(second.port)).query("SELECT 1 + 1 AS dos")
        assert answer["dos"].tolist() == [2]
    finally:
        second.stop()
    assert not loopback.runs(second.pid, hs.MARKER)
    assert loopback.listening_groups(hive_server.port) == {hive_server.pid}  # the session's left running
