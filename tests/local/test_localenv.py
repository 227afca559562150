"""The embedded default: moto server and DuckDB demo results zone on loopback."""

import os

import duckdb
import pandas as pd
import pytest

from productizar.cloud import aws
from productizar.core.environments import get_environment
from productizar.core.errors import LocalNotRunning
from productizar.local import demo_data
from productizar.local import embedded as localenv
from productizar.run.endpoints import resolve


@pytest.mark.usefixtures("embedded")
def test_second_up_finds_the_running_server():
    first, _ = localenv.up()
    again, started = localenv.up()
    assert not started and again == first
    assert again.endpoint.startswith("http://127.0.0.1:")


@pytest.mark.usefixtures("embedded")
def test_local_environment_talks_to_moto_through_its_endpoint():
    ddb = aws.client(resolve(get_environment("local")), "dynamodb")
    assert ddb.meta.endpoint_url == localenv.moto_endpoint()
    ddb.create_table(
        TableName="prueba-endpoint",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        assert "prueba-endpoint" in ddb.list_tables()["TableNames"]
    finally:
        ddb.delete_table(TableName="prueba-endpoint")


@pytest.mark.usefixtures("embedded")
def test_up_status_down_in_a_fresh_state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PRODUCTIZAR_STATE_DIR", str(tmp_path))
    assert localenv.status()["moto"] == {"running": False}
    state, started = localenv.up()
    assert started and localenv.status()["moto"]["pid"] == state.pid
    assert localenv.down() is True
    assert (
        not os.path.exists(f"/proc/{state.pid}")
        or b"productizar.local.motoserver" not in open(f"/proc/{state.pid}/cmdline", "rb").read()
    )
    assert localenv.running() is None and localenv.down() is False
    assert localenv.duckdb_file().exists()  # data is kept unless purged
    localenv.down(purge=True)
    assert not localenv.duckdb_file().exists()


def _types(con, source):
    return {name: kind for name, kind, *_ in con.execute(f"DESCRIBE {source}").fetchall()}


def test_results_zone_holds_the_demo_tables_with_realistic_types():
    con = duckdb.connect(str(localenv.duckdb_path()), read_only=True)
    try:
        for t in demo_data.demo_tables():
            assert con.execute(f"SELECT count(*) FROM {t.source}").fetchone()[0] == len(t.frame)
            assert list(_types(con, t.source)) == [c for c, _ in t.columns]
        score = _types(con, "resultados_riesgos.alter_ctra_score_delta")
        assert score["score"] == "DECIMAL(9,4)" and score["fecha_actualizacion"] == "TIMESTAMP"
        seg = _types(con, "resultados_riesgos.alter_ctra_segmento_cliente")
        assert seg["fecha_vinculacion"] == "DATE" and seg["id_cliente"] == "BIGINT" and seg["activo"] == "BOOLEAN"
        nulls = con.execute(
            "SELECT count(*) FROM resultados_riesgos.alter_ctra_score_delta WHERE delta_score IS NULL"
        ).fetchone()[0]
        assert 5_000 < nulls < 15_000  # about 10 % nullable values
        # decimals arrive exactly as generated (text -> DECIMAL, never through float)
        frame = demo_data.demo_tables()[1].frame
        first = frame.iloc[0]
        stored = con.execute(
            "SELECT CAST(saldo_total AS VARCHAR) FROM resultados_riesgos.alter_ctra_segmento_cliente "
            "WHERE id_cliente = ?",
            [int(first["id_cliente"])],
        ).fetchone()[0]
        assert stored == first["saldo_total"]
    finally:
        con.close()


def test_demo_data_is_deterministic_and_sized():
    a, b = demo_data.demo_tables(), demo_data.demo_tables()
    assert [t.source for t in a][:3] == [
        "resultados_riesgos.alter_ctra_score_delta",
        "resultados_riesgos.alter_ctra_segmento_cliente",
        "resultados_comercial.alter_ctra_oferta_producto",
    ]
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x.frame, y.frame)
    assert all(len(t.frame) == demo_data.ROWS == 100_000 for t in a[:3])
    inventory = a[3].frame
    assert "SQOOPDI1936" in set(inventory["package"])  # the seed's "last consecutive" example
    assert len(inventory.columns) == 12


@pytest.mark.usefixtures("embedded")
def test_moto_endpoint_says_what_to_do_when_down(tmp_path, monkeypatch):
    monkeypatch.setenv("PRODUCTIZAR_STATE_DIR", str(tmp_path))
    with pytest.raises(LocalNotRunning, match=r"^El entorno local no está levantado: ejecute `productizar local up`"):
        localenv.moto_endpoint()


def test_a_rehearsals_copy_of_the_demo_data_is_built_when_first_asked_for(tmp_path, monkeypatch):
    """``up`` builds ``local``'s results zone (the demo's tables and the regression HU's) and no other: a fresh
    state folder paid for four copies of 3·10⁵ rows each time. QA's copy is built the first time it is asked."""
    monkeypatch.setenv("PRODUCTIZAR_STATE_DIR", str(tmp_path / "state"))
    (tmp_path / "state").mkdir()
    with pytest.raises(LocalNotRunning):
        localenv.duckdb_path("qa")  # nothing set up: say so, build nothing
    localenv.results_zone_for_seeding("local")
    assert sorted(p.name for p in (tmp_path / "state").glob("*.duckdb")) == [localenv.duckdb_file().name]
    qa = localenv.duckdb_path("qa")
    assert qa == localenv.duckdb_file("qa") and qa.exists()
    with duckdb.connect(str(qa), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM resultados_riesgos.alter_ctra_score_delta").fetchone() == (98_500,)
