"""Facts: what a step found, handed on through files of the evidence folder, never through globals."""

from pathlib import Path

import pytest

from productizar.core.errors import ProductizarError
from productizar.run import facts


def test_a_steps_facts_are_read_back_as_written_from_their_own_file(tmp_path):
    found = {"tablas": {"resultados.t": {"filas": 4000, "origen": "exportado de t.csv"}}, "listo": True}
    path = facts.record(tmp_path, "conteo", found)
    assert path == tmp_path / "facts" / "conteo.json" == facts.facts_file(tmp_path, "conteo")
    assert facts.load(tmp_path, "conteo") == found
    assert [p.name for p in (tmp_path / "facts").iterdir()] == ["conteo.json"]  # no temporary file left


def test_a_step_that_left_no_facts_is_named_with_what_to_do():
    with pytest.raises(ProductizarError) as info:
        facts.load(Path("/nonexistent/HU1/local"), "dimensionamiento")
    assert str(info.value) == (
        "El paso «dimensionamiento» no ha dejado resultados en /nonexistent/HU1/local/facts: ejecútelo antes de este."
    )


def test_a_known_secret_in_a_steps_facts_is_scrubbed_before_the_file_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-n0t-t0-b3-s33n-anywhere")
    path = facts.record(tmp_path, "carga", {"nota": "clave s3cr3t-n0t-t0-b3-s33n-anywhere"})
    assert b"s3cr3t-n0t-t0-b3-s33n-anywhere" not in path.read_bytes()
    assert facts.load(tmp_path, "carga")["nota"].startswith("clave ")
