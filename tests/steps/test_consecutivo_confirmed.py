"""Issue 21, item 2: the confirmed reservation of ``consecutivo`` run end to end (the runner, the notebook, the
inventory) on DuckDB and on the HiveServer2, and a read-back that must catch what went wrong after the
INSERT: a rival row with the same package, an insert the engine acknowledged and lost."""

import json
import shutil
from pathlib import Path

import pytest
import yaml

from productizar.local import embedded as localenv
from productizar.results_zone import inventory, reservation
from productizar.results_zone.base import ResultsZone, table_ref
from productizar.results_zone.duckdb import DuckDBResultsZone
from productizar.run.runner import Runner
from productizar.run.step import start
from productizar.steps import consecutivo

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "parameters" / "hu" / "demo.yaml"
HU_ID = "3575833"
RESERVED = [("SQOOPDI1937", "SQPDI1937CRDCSD"), ("SQOOPDI1938", "SQPDI1938CRDCSD"), ("SQOOPDI1939", "SQPDI1939CRDCSD")]


def with_environment(tmp_path: Path, monkeypatch, name: str, results_zone: dict) -> str:
    """The repository's environments plus ``name``: the embedded AWS and the given results zone."""
    envs = yaml.safe_load((ROOT / "parameters" / "environments.yaml").read_text(encoding="utf-8"))
    envs[name] = dict(envs["local"], description=f"inventario de prueba ({name})", results_zone=results_zone)
    path = tmp_path / "environments.yaml"
    path.write_text(yaml.safe_dump(envs, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("PRODUCTIZAR_ENVIRONMENTS", str(path))
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))
    return name


@pytest.fixture
def duck_copy(tmp_path, monkeypatch) -> tuple[str, DuckDBResultsZone]:
    """A copy of the demo results zone, so the session's inventory (the golden notebooks') stays as it is."""
    copy = tmp_path / "zona.duckdb"
    shutil.copy(localenv.duckdb_path(), copy)
    env = with_environment(tmp_path, monkeypatch, "duckcopy", {"backend": "duckdb", "path": str(copy)})
    return env, DuckDBResultsZone(copy)


def packages_of(zone: ResultsZone) -> dict[str, int]:
    counted = zone.query(inventory.packages_sql(naming_inventory()))
    return {str(p): int(n) for p, n in zip(counted["package"], counted["filas"])}


def naming_inventory() -> str:
    return reservation.Tables().inventory


def confirmed_run(env: str) -> dict:
    result = Runner(DEMO, env, ["consecutivo"], confirm=HU_ID).run()
    summary = json.loads((result.output_dir / "summary.json").read_text(encoding="utf-8"))
    (record,) = [s for s in summary["steps"] if s["name"] == "consecutivo"]
    assert result.exit_code == 0, record["message"]
    return record


def assert_reserved_once(record: dict, zone: ResultsZone, status: str) -> None:
    facts = record["facts"]
    assert facts["dry_run"] is False and record["dry_run"] is False
    assert [(t["package"], t["process"], t["status"]) for t in facts["tables"].values()] == [
        (p, q, status) for p, q in RESERVED
    ]
    found = packages_of(zone)
    assert [found.get(p) for p, _ in RESERVED] == [1, 1, 1]


@pytest.mark.usefixtures("embedded")
def test_the_confirmed_reservation_runs_end_to_end_on_duckdb_once(duck_copy):
    env, zone = duck_copy
    before = packages_of(zone)
    first = confirmed_run(env)
    assert_reserved_once(first, zone, "reserved")
    assert first["headline"] == "paquetes reservados: SQOOPDI1937, SQOOPDI1938, SQOOPDI1939"
    assert packages_of(zone) == before | {p: 1 for p, _ in RESERVED}  # three rows added, nothing else touched


@pytest.mark.usefixtures("embedded")
def test_a_second_confirmed_run_finds_the_reservations_and_inserts_nothing(duck_copy):
    env, zone = duck_copy
    confirmed_run(env)
    after_first = packages_of(zone)
    result = Runner(DEMO, env, ["consecutivo"], confirm=HU_ID, force=True).run()
    assert result.exit_code == 0
    (record,) = [r for r in result.steps if r.name == "consecutivo"]
    assert [t["status"] for t in record.facts["tables"].values()] == ["already_reserved"] * 3
    assert packages_of(zone) == after_first


def _step(env: str, tmp_path: Path):
    return start("consecutivo", str(DEMO), env, str(tmp_path / "evidencia"), HU_ID)


@pytest.mark.usefixtures("embedded")
def test_the_read_back_reports_a_rival_row_with_the_same_package(duck_copy, tmp_path, monkeypatch):
    env, zone = duck_copy
    step = _step(env, tmp_path)
    plan = consecutivo.look_up(step)
    original = reservation.reserve

    def reserve_then_a_rival_inserts(z, hu, *args, **kwargs):
        entries = original(z, hu, *args, **kwargs)
        rival = entries[0].sql.replace("alter_ctra_score_delta", "tabla_de_otro_analista")
        z.execute(rival)  # another analyst's row, with the package this HU just reserved
        return entries

    monkeypatch.setattr(reservation, "reserve", reserve_then_a_rival_inserts)
    with pytest.raises(reservation.ReservationError) as found:
        consecutivo.run(step, plan, out=lambda s: None)
    assert str(found.value) == (
        "La lectura del inventario después de reservar encontró problemas:\n  SQOOPDI1937 aparece 2 veces en el "
        "inventario"
    )
    assert packages_of(zone)["SQOOPDI1937"] == 2


@pytest.mark.usefixtures("embedded")
def test_the_read_back_reports_an_insert_the_engine_lost(duck_copy, tmp_path, monkeypatch):
    env, zone = duck_copy
    step = _step(env, tmp_path)
    plan = consecutivo.look_up(step)
    execute = DuckDBResultsZone.execute

    def losing_inventory_inserts(self, sql):
        if sql.startswith(f"INSERT INTO {table_ref(naming_inventory())}") and "'SQOOPDI1938'" in sql:
            return None  # acknowledged, never written: what the read-back exists for
        return execute(self, sql)

    monkeypatch.setattr(DuckDBResultsZone, "execute", losing_inventory_inserts)
    with pytest.raises(reservation.ReservationError) as found:
        consecutivo.run(step, plan, out=lambda s: None)
    assert str(found.value) == (
        "La lectura del inventario después de reservar encontró problemas:\n  "
        "resultados_riesgos.alter_ctra_segmento_cliente: se esperaba una sola reserva (SQOOPDI1938) y el "
        "inventario tiene ninguna"
    )
    assert [packages_of(zone).get(p) for p, _ in RESERVED] == [1, None, 1]


@pytest.fixture
def hive_inventory_restored(hive_zone):
    """The HiveServer2's inventory as it was before the test, put back after (Hive cannot DELETE)."""
    hive_zone.execute("DROP TABLE IF EXISTS `resultados`.`inventario_lz_antes`")
    hive_zone.execute("CREATE TABLE `resultados`.`inventario_lz_antes` AS SELECT * FROM `resultados`.`inventario_lz`")
    try:
        yield hive_zone
    finally:
        hive_zone.execute(
            "INSERT OVERWRITE TABLE `resultados`.`inventario_lz` SELECT * FROM `resultados`.`inventario_lz_antes`"
        )
        hive_zone.execute("DROP TABLE IF EXISTS `resultados`.`inventario_lz_antes`")
        hive_zone.execute(f"DROP TABLE IF EXISTS {reservation.CLAIMS_TABLE}")


@pytest.mark.hive
def test_the_confirmed_reservation_runs_end_to_end_on_hive(
    environments_with_hive, hive_inventory_restored, tmp_path, monkeypatch
):
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))
    zone = hive_inventory_restored
    before = packages_of(zone)
    record = confirmed_run(environments_with_hive)
    assert_reserved_once(record, zone, "reserved")
    assert packages_of(zone) == before | {p: 1 for p, _ in RESERVED}
    # a rival row on Hive, where no key refuses it: the read-back is the only guard
    inv = naming_inventory()
    zone.execute(
        f"INSERT INTO {inv} SELECT package, 'tabla_de_otro', semilla, proceso, origen_fuente, data_folder, "
        f"periodicidad, descripcion, solicita_ingestion, dia_ejecucion, hora_ejecucion, prerrequisito "
        f"FROM {inv} WHERE package = 'SQOOPDI1938'"
    )
    step = _step(environments_with_hive, tmp_path)
    back = reservation.read_back(zone, step.hu, consecutivo.look_up(step).entries)
    assert back.problems == ["SQOOPDI1938 aparece 2 veces en el inventario"]
