"""Three small core mechanisms: DynamoDB's item size and units as AWS documents them, the check record and
its verdict, and files written whole or not at all."""

import base64
import threading
import time
import zipfile
from io import BytesIO

import pytest

from productizar.core import capacity, checks, files
from productizar.core.errors import StepFailed
from productizar.core.scrub import Scrubber, SecretInEvidence


def test_item_size_and_units_follow_the_documented_rules():
    # names and UTF-8 strings by their bytes; numbers one byte per two significant digits plus one
    assert capacity.item_size({"doc": {"S": "ñu"}, "n": {"N": "12345"}}) == 3 + 3 + 1 + (3 + 1)
    assert capacity.number_size("-0.0012") == 1 + 1 + 1  # "12": one byte, plus one, plus one for the sign
    assert capacity.value_size({"L": [{"BOOL": True}, {"S": "ab"}]}) == 3 + (1 + 1) + (1 + 2)
    assert [capacity.write_units(s) for s in (1, 1024, 1025)] == [1, 1, 2]
    assert capacity.read_units(4097, consistent=True) == 2 and capacity.read_units(100, consistent=False) == 0.5
    with pytest.raises(ValueError, match="unsupported attribute type"):
        capacity.value_size({"X": 1})


def check(status: checks.CheckStatus, name: str = "sse") -> checks.Check:
    return checks.Check("tabla", name, status, "activado", "desactivado", name)


def test_the_verdict_names_every_failed_check_and_counts_what_is_not_checkable_here():
    passing = [check(checks.CheckStatus.PASS), check(checks.CheckStatus.NOT_CHECKABLE, "pitr")]
    assert checks.verdict(passing, "nada") == (
        "1 verificaciones pasan; 1 no son verificables en este entorno (se verifican en dev, qa y prd)."
    )
    assert checks.verdict([], "No hay nada que verificar.") == "No hay nada que verificar."
    with pytest.raises(StepFailed, match=r"tabla: sse \(se esperaba activado; hay desactivado\)"):
        checks.verdict([*passing, check(checks.CheckStatus.FAIL)], "nada")
    assert list(checks.table(passing)["Resultado"]) == ["✔ pasa", "— no verificable aquí"]
    assert check(checks.CheckStatus.FAIL).as_fact()["status"] == "fail"


def test_a_file_is_written_whole_or_not_at_all(tmp_path):
    target = tmp_path / "a" / "hechos.json"
    files.write_json(target, {"filas": 3, "año": "2026"})
    assert files.read_json(target) == {"filas": 3, "año": "2026"}
    with pytest.raises(RuntimeError), files.atomic_path(target) as tmp:
        tmp.write_text("a medias")
        raise RuntimeError("interrumpido")
    assert files.read_json(target) == {"filas": 3, "año": "2026"} and [p.name for p in target.parent.iterdir()] == [
        "hechos.json"
    ]
    with pytest.raises(SecretInEvidence):  # a known secret, even base64-encoded, is never written
        files.write_bytes(
            tmp_path / "b.txt", b"clave: " + base64.b64encode(b"planta-9f8e7d6c5b4a"), Scrubber(["planta-9f8e7d6c5b4a"])
        )
    assert not (tmp_path / "b.txt").exists()


def test_the_same_entries_zip_to_the_same_bytes():
    a = files.zip_bytes({"x.txt": b"1", "y/z.txt": b"2"})
    time.sleep(1.1)
    assert files.zip_bytes({"x.txt": b"1", "y/z.txt": b"2"}) == a
    assert zipfile.ZipFile(BytesIO(a)).read("y/z.txt") == b"2"


def test_a_lock_lets_one_block_run_at_a_time(tmp_path):
    inside, most = [0], [0]

    def block():
        with files.locked(tmp_path / "lock"):
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            time.sleep(0.02)
            inside[0] -= 1

    threads = [threading.Thread(target=block) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
