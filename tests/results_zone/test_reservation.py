"""Reserving consecutives: once per table, completed after a failure, distinct under concurrency."""

import multiprocessing as mp
import random
import shutil
import time
from pathlib import Path

import pytest
import yaml

from productizar.core.hu import HU
from productizar.local import embedded as localenv
from productizar.results_zone import inventory, reservation
from productizar.results_zone.base import ResultsZone, table_ref
from productizar.results_zone.duckdb import DuckDBResultsZone
from productizar.results_zone.reservation import EntryState, Tables
from tests.support import reservation_worker

DEMO = Path(__file__).resolve().parents[2] / "parameters" / "hu" / "demo.yaml"
DEMO_DATA = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
QUIET = {"out": lambda s: None}


def hu_data(hu_id: int, n_tables: int = 1, title: str | None = None) -> dict:
    data = dict(DEMO_DATA, hu=dict(DEMO_DATA["hu"], id=hu_id, title=title or f"Prueba {hu_id}"))
    data["tables"] = [
        {
            "source": f"resultados_riesgos.tabla_{hu_id}_{j}",
            "name_style": "lower",
            "partition_key": {"name": "id", "type": "S"},
        }
        for j in range(n_tables)
    ]
    return data


def inventory_packages(zone: ResultsZone, tables: Tables = Tables()) -> list[str]:
    """Every package as many times as rows carry it, sorted: the query groups without an order, and DuckDB's
    parallel grouping gave the same packages in another order once (a failure of the same inventory)."""
    counted = zone.query(inventory.packages_sql(tables.inventory))
    return sorted(str(p) for p, n in zip(counted["package"], counted["filas"]) for _ in range(int(n)))


@pytest.fixture
def zone(tmp_path, embedded) -> DuckDBResultsZone:
    path = tmp_path / "zone.duckdb"
    shutil.copy(localenv.duckdb_path(), path)
    return DuckDBResultsZone(path)


def test_the_demo_plan_starts_after_1936_and_writes_nothing(zone):
    hu = HU.model_validate(DEMO_DATA)
    before = inventory_packages(zone)
    plan = reservation.plan(zone, hu, "/opt/prd")
    assert [(e.package, e.process, e.status) for e in plan.entries] == [
        ("SQOOPDI1937", "SQPDI1937CRDCSD", EntryState.TO_RESERVE),
        ("SQOOPDI1938", "SQPDI1938CRDCSD", EntryState.TO_RESERVE),
        ("SQOOPDI1939", "SQPDI1939CRDCSD", EntryState.TO_RESERVE),
    ]
    assert plan.lookup.last == 1936 and plan.lookup.seed_last == 21500
    assert inventory_packages(zone) == before
    assert not zone.table_exists(reservation.CLAIMS_TABLE)


def test_a_confirmed_reservation_happens_once(zone):
    hu = HU.model_validate(DEMO_DATA)
    first = reservation.reserve(zone, hu, "/opt/prd", **QUIET)
    assert [(e.consecutive, e.status) for e in first] == [
        (1937, EntryState.RESERVED),
        (1938, EntryState.RESERVED),
        (1939, EntryState.RESERVED),
    ]
    again = reservation.reserve(zone, hu, "/opt/prd", **QUIET)
    assert [(e.package, e.status) for e in again] == [(e.package, EntryState.ALREADY_RESERVED) for e in first]
    back = reservation.read_back(zone, hu, again)
    assert back.problems == [] and list(back.rows["package"]) == ["SQOOPDI1937", "SQOOPDI1938", "SQOOPDI1939"]
    assert len(inventory_packages(zone)) == 73 + 3
    # a later plan shows them as reserved, with their codes, and nothing to insert
    plan = reservation.plan(zone, hu, "/opt/prd")
    assert [e.status for e in plan.entries] == [EntryState.ALREADY_RESERVED] * 3 and plan.to_reserve == []


def test_a_run_that_died_after_winning_is_completed_with_the_same_number(zone):
    hu = HU.model_validate(hu_data(41, n_tables=2))
    tables = Tables()
    zone.execute(reservation.claims_ddl(tables, zone.enforces_keys))
    won, _ = reservation.claim(zone, hu, hu.tables[0], tables)  # ... and the process died here
    plan = reservation.plan(zone, hu, "/opt/prd")
    assert [(e.consecutive, e.status) for e in plan.entries] == [
        (won, EntryState.TO_COMPLETE),
        (won + 1, EntryState.TO_RESERVE),
    ]
    done = reservation.reserve(zone, hu, "/opt/prd", **QUIET)
    assert [(e.consecutive, e.status) for e in done] == [(won, EntryState.COMPLETED), (won + 1, EntryState.RESERVED)]
    assert reservation.read_back(zone, hu, done).problems == []


def test_a_claim_that_lost_burns_its_number(zone):
    hu = HU.model_validate(hu_data(42))
    tables = Tables()
    zone.execute(reservation.claims_ddl(tables, enforce_keys=False))  # as on Hive: no key to refuse a claim
    spec = hu.tables[0]
    n = reservation.next_consecutive(zone, tables)
    zone.execute(reservation.claim_sql(tables, n, "otro-analista", reservation.CLAIMED, hu, spec))
    zone.execute(reservation.claim_sql(tables, n, "otro-mas", reservation.CLAIMED, hu, spec))  # n is disputed
    got, attempts = reservation.claim(zone, hu, spec, tables, sleep=lambda s: None)
    assert got == n + 1 and attempts == 1  # claims count: nobody is handed a number already claimed


def test_a_collision_is_retried_with_a_fresh_number(zone, monkeypatch):
    """The read-back sees a second token for n (another analyst claimed it at the same moment): n is burnt."""
    hu = HU.model_validate(hu_data(43))
    tables = Tables()
    zone.execute(reservation.claims_ddl(tables, enforce_keys=False))
    spec = hu.tables[0]
    real_query = zone.query
    raced = []

    def query(sql: str):
        if "SELECT token" in sql and not raced:  # the rival's claim lands between ours and our read-back
            n = int(sql.split("consecutivo = ")[1].split()[0])
            zone.execute(reservation.claim_sql(tables, n, "rival", reservation.CLAIMED, hu, spec))
            raced.append(n)
        return real_query(sql)

    monkeypatch.setattr(zone, "query", query)
    sleeps = []
    got, attempts = reservation.claim(zone, hu, spec, tables, sleep=sleeps.append, rng=random.Random(1))
    assert attempts == 2 and got == raced[0] + 1 and len(sleeps) == 1


def test_quotes_in_the_hu_arrive_intact_and_inject_nothing(zone):
    title = "Cliente O'Brien; DROP TABLE resultados.inventario_lz; -- 100% \\ fin"
    hu = HU.model_validate(
        hu_data(44, title=title)
        | {"coordinator": dict(DEMO_DATA["coordinator"], prerequisite="Malla 'riesgos'\ntras las 05:00")}
    )
    done = reservation.reserve(zone, hu, "/opt/prd", **QUIET)
    row = reservation.read_back(zone, hu, done).rows.iloc[0]
    assert row["descripcion"].endswith(f"(HU 44: {title})")
    assert row["prerrequisito"] == "Malla 'riesgos'\ntras las 05:00"
    assert len(inventory_packages(zone)) == 74


def _run_concurrently(
    zone_spec, tables: Tables, workers: int, tables_each: int, base: int = 900
) -> list[tuple[str, int, str, int]]:
    ctx = mp.get_context("spawn")
    start_at = time.time() + 6.0  # every process imported and waiting before the first claim
    with ctx.Pool(workers) as pool:
        jobs = [
            pool.apply_async(
                reservation_worker.reserve,
                (zone_spec, hu_data(base + i, n_tables=tables_each), (tables.inventory, tables.claims), start_at),
            )
            for i in range(workers)
        ]
        return [r for j in jobs for r in j.get(timeout=600)]


def _assert_all_distinct(zone: ResultsZone, tables: Tables, got, expected: int, base: int = 900) -> bool:
    """Every number distinct, every table reserved once; returns whether the processes contended (a claim
    lost its number and was retried)."""
    numbers = [n for _, n, _, _ in got]
    print("intentos por reserva:", sorted(a for *_, a in got))
    assert len(numbers) == expected and len(set(numbers)) == expected, got
    assert all(status == EntryState.RESERVED for _, _, status, _ in got)
    packages = inventory_packages(zone, tables)
    assert len(packages) == len(set(packages)), "a package appears twice in the inventory"
    rows = zone.query(
        f"SELECT table_name, package FROM {table_ref(tables.inventory)} WHERE table_name LIKE 'tabla_{base // 10}%'"
    )
    assert sorted(rows["table_name"]) == sorted(s.split(".")[1] for s, *_ in got)  # one row per table
    return max(a for *_, a in got) > 1


def _until_contended(one_round, rounds: int = 3) -> None:
    """Rounds of the concurrent reservation, each checked whole, until one shows contention: processes that
    never contend (a regression that serialized them) would hand out distinct numbers and prove nothing."""
    for r in range(rounds):
        if one_round(r):
            return
    pytest.fail(f"in {rounds} rounds no claim was ever retried: the processes never contended")


@pytest.mark.server
def test_concurrent_reservations_on_duckdb_get_distinct_numbers(tmp_path, embedded):
    def one_round(r: int) -> bool:
        path = tmp_path / f"zona{r}.duckdb"
        shutil.copy(localenv.duckdb_path(), path)
        zone = DuckDBResultsZone(path)
        got = _run_concurrently(("duckdb", str(path)), Tables(), workers=4, tables_each=3)
        return _assert_all_distinct(zone, Tables(), got, 12)

    _until_contended(one_round)


# ------------------------------------------------------------------------------------------- on Hive


@pytest.fixture
def hive_tables(hive_zone):
    """A private copy of the demo inventory on the HiveServer2, and its claims table, dropped afterwards."""
    db = f"prueba_reservas_{int(time.time() * 1000) % 10**9}"
    hive_zone.execute(f"CREATE DATABASE `{db}`")
    hive_zone.execute(f"CREATE TABLE `{db}`.`inventario_lz` LIKE `resultados`.`inventario_lz`")
    hive_zone.execute(f"INSERT INTO `{db}`.`inventario_lz` SELECT * FROM `resultados`.`inventario_lz`")
    yield Tables(f"{db}.inventario_lz", f"{db}.inventario_lz_reservas")
    hive_zone.execute(f"DROP DATABASE IF EXISTS `{db}` CASCADE")


@pytest.mark.hive
def test_on_hive_the_seed_example_is_reserved_once_with_quotes_intact(hive_zone, hive_tables):
    hu = HU.model_validate(DEMO_DATA | {"hu": dict(DEMO_DATA["hu"], title="Score O'Brien \\ 100%: fin")})
    plan = reservation.plan(hive_zone, hu, "/opt/prd", hive_tables)
    assert [e.package for e in plan.entries] == ["SQOOPDI1937", "SQOOPDI1938", "SQOOPDI1939"]
    assert plan.lookup.seed_last == 21500 and plan.lookup.last == 1936
    first = reservation.reserve(hive_zone, hu, "/opt/prd", hive_tables, **QUIET)
    again = reservation.reserve(hive_zone, hu, "/opt/prd", hive_tables, **QUIET)
    assert [e.status for e in again] == [EntryState.ALREADY_RESERVED] * 3
    back = reservation.read_back(hive_zone, hu, first, hive_tables)
    assert back.problems == [] and list(back.rows["package"]) == ["SQOOPDI1937", "SQOOPDI1938", "SQOOPDI1939"]
    assert back.rows["descripcion"].iloc[0].endswith("(HU 3575833: Score O'Brien \\ 100%: fin)")
    assert back.rows["proceso"].tolist() == ["SQPDI1937CRDCSD", "SQPDI1938CRDCSD", "SQPDI1939CRDCSD"]


@pytest.mark.hive
def test_concurrent_reservations_on_hive_get_distinct_numbers(hive_zone, hive_tables):
    from tests.conftest import hive_settings

    settings = hive_settings(hive_zone.settings.port).model_dump(exclude_none=True)

    def one_round(r: int) -> bool:
        base = 900 + 10 * r  # new HUs each round, on the same copy of the inventory
        got = _run_concurrently(("hive", settings), hive_tables, workers=3, tables_each=2, base=base)
        return _assert_all_distinct(hive_zone, hive_tables, got, 6, base)

    _until_contended(one_round)
