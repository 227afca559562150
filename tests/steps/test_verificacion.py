"""Step ``verificacion``'s own decisions: the read capacity a count is warmed to, the verdict that names each
failed check, the facts' headline (a dry run said so), and the sample's differences as the analyst reads them."""

import contextlib
import math
import threading

import pytest

from productizar.core import duckfile
from productizar.core.capacity import READ_UNIT_BYTES
from productizar.core.checks import Check, CheckStatus
from productizar.core.environments import WriteMode
from productizar.core.errors import StepFailed
from productizar.core.hu import TableSpec
from productizar.dynamo.loader import load_table
from productizar.results_zone.duckdb import DuckDBResultsZone
from productizar.steps import verificacion
from productizar.steps.verificacion import Verification
from tests.support.dynamo import client, clients, create_table, local
from tests.support.hu import demo_with


def check(status: CheckStatus, key: str = "item_count") -> Check:
    return Check("AlterCtraScoreDelta", "ítems por Scan paralelo (4 segmentos)", status, "100", "99", key)


def test_a_count_is_warmed_to_read_the_table_and_its_sample_in_the_time_assumed():
    gib = 1024**3
    assert verificacion.read_units_needed(gib, 60, sample_rows=200) == math.ceil((gib / READ_UNIT_BYTES + 200) / 60)
    assert verificacion.read_units_needed(gib, 120) < verificacion.read_units_needed(gib, 60)
    assert verificacion.read_units_needed(0, 600, sample_rows=0) == 1  # never zero units


def test_the_verdict_names_every_failed_check_with_what_was_expected_and_found():
    v = Verification([check(CheckStatus.PASS, "exists"), check(CheckStatus.FAIL)], [])
    with pytest.raises(StepFailed, match=r"AlterCtraScoreDelta: ítems por Scan paralelo .*se esperaba 100; hay 99"):
        verificacion.verdict(v)
    assert verificacion.verdict(Verification([], [])) == "No hay tablas que verificar."


def test_the_facts_count_checks_and_differences_and_a_dry_run_says_so_in_the_headline():
    difference = {"Tabla": "t", "Clave": "k=1", "Atributo": "valor", "Origen": "1", "DynamoDB": "2"}
    v = Verification([check(CheckStatus.PASS), check(CheckStatus.NOT_CHECKABLE, "pitr")], [difference])
    v.mode = WriteMode(False, "simulación: este entorno exige --confirm 1 para escribir")
    facts = verificacion.facts(v)
    assert facts["verdict"] == "pass" and facts["mismatches"] == [difference]
    line = facts["headline"]
    assert line["text"] == "simulación: comprobaciones: 1 pasan · 1 no verificables aquí · 0 fallan"
    assert line["dry_run"] and line["figures"]["diferencias en la muestra"] == 1
    assert [c["key"] for c in facts["checks"]] == ["item_count", "pitr"]


def test_the_sample_says_when_there_is_no_difference_and_lists_each_one_otherwise():
    none = verificacion.mismatches_table(Verification([], []))
    assert none["Resultado"].tolist() == ["Sin diferencias: cada ítem de la muestra es igual a su fila de origen."]
    difference = {"Tabla": "t", "Clave": "k=1", "Atributo": "valor", "Origen": "1", "DynamoDB": "2"}
    table = verificacion.mismatches_table(Verification([], [difference]))
    assert table.to_dict("records") == [difference]
    assert verificacion.warming_notes(Verification([], [])) == "No se calentó la lectura de ninguna tabla."


@pytest.mark.usefixtures("embedded")
def test_the_tables_are_counted_at_the_same_time_and_their_checks_keep_the_hus_order(tmp_path):
    """Each count waits on its own table's read capacity: two tables' counts are in flight together (each
    warm waits for the other's), and the checks still come table by table in the HU's order."""
    path = tmp_path / "zona.duckdb"
    specs = [
        TableSpec(source="resultados_x.primera", partition_key={"name": "id", "type": "S"}),
        TableSpec(source="resultados_x.segunda", partition_key={"name": "id", "type": "N"}),
    ]
    with duckfile.connect(path, read_only=False) as con:
        con.execute("CREATE SCHEMA resultados_x")
        con.execute("CREATE TABLE resultados_x.primera AS SELECT CAST(range AS VARCHAR) AS id FROM range(30)")
        con.execute("CREATE TABLE resultados_x.segunda AS SELECT range AS id, 'ñ' AS texto FROM range(20)")
    zone = DuckDBResultsZone(path)
    hu = demo_with(tables=[s.model_dump(exclude_none=True) | {"dynamo_table": create_table(s)} for s in specs])
    for spec in hu.tables:
        load_table(zone, client(), spec, rate_wcu=None)
    both = threading.Barrier(2, timeout=20)

    @contextlib.contextmanager
    def warm(table, size_bytes):
        both.wait()  # the second table's count must start while the first one's is still warming
        yield

    expected = {s.source: n for s, n in zip(specs, (30, 20))}
    v = verificacion.check_tables(hu, local(), zone, clients(), expected, warm=warm)
    counts = [(c.table, c.found) for c in v.checks if c.key == "item_count"]
    assert counts == [(hu.tables[0].names.dynamo_table, "30"), (hu.tables[1].names.dynamo_table, "20")]
    tables = [c.table for c in v.checks]
    assert tables == sorted(tables, key=[t.names.dynamo_table for t in hu.tables].index)  # grouped, in order
    # and never more at once than the bound: with one, the counts take turns
    active, peak = [], []

    @contextlib.contextmanager
    def one_at_a_time(table, size_bytes):
        active.append(table)
        peak.append(len(active))
        yield
        active.remove(table)

    one = verificacion.check_tables(hu, local(), zone, clients(), expected, warm=one_at_a_time, max_workers=1)
    assert peak == [1, 1] and [c.as_fact() for c in one.checks] == [c.as_fact() for c in v.checks]
