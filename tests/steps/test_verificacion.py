"""Step ``verificacion``'s own decisions: the read capacity a count is warmed to, the verdict that names each
failed check, the facts' headline (a dry run said so), and the sample's differences as the analyst reads them."""

import math

import pytest

from productizar.core.capacity import READ_UNIT_BYTES
from productizar.core.checks import Check, CheckStatus
from productizar.core.environments import WriteMode
from productizar.core.errors import StepFailed
from productizar.steps import verificacion
from productizar.steps.verificacion import Verification


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
