"""The board (``productizar status``, ``outputs/index.html``) and each HU's index: headlines, dry runs,
what changed since the previous run, two HUs in different states, and the page in a real browser."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from productizar.core import paths
from productizar.core.scrub import default_scrubber
from productizar.run import board
from productizar.run.runner import Runner

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "parameters" / "hu" / "demo.yaml"
OTHER_ID = 3600001


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "outputs"))
    return tmp_path / "outputs"


def other_hu(tmp_path: Path) -> Path:
    """A second analyst's HU whose results-zone table does not exist yet: its conteo fails."""
    text = DEMO.read_text(encoding="utf-8").replace("id: 3575833", f"id: {OTHER_ID}")
    text = text.replace("title: Despliegue API Alter Ctra Score Delta", "title: Despliegue API Ofertas Nuevas")
    missing = "source: resultados_comercial.oferta_nueva"
    text = text.replace("source: resultados_comercial.alter_ctra_oferta_producto", missing)
    path = tmp_path / "hu" / "otra.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text.replace("  ahp_matrix: demo-matriz-ahp.xlsx\n", ""), encoding="utf-8")
    return path


def status(outputs: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PRODUCTIZAR_OUTPUT_ROOT=str(outputs))
    cmd = [sys.executable, "-m", "productizar", "status", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True)


def two_hus(outputs: Path, tmp_path: Path) -> None:
    assert Runner(DEMO, "local", ["conteo", "consecutivo"], echo=lambda _: None).run().exit_code == 0
    assert Runner(other_hu(tmp_path), "local-dev", ["conteo"], echo=lambda _: None).run().exit_code == 1


@pytest.mark.usefixtures("embedded")
def test_the_board_shows_two_hus_in_different_states_with_headlines_and_dry_runs(outputs, tmp_path):
    two_hus(outputs, tmp_path)
    shown = status(outputs)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "HU 3575833 · Despliegue API Alter Ctra Score Delta · local: correcto" in text
    assert f"HU {OTHER_ID} · Despliegue API Ofertas Nuevas · local-dev: falló" in text
    assert "3 tablas · 300.000 filas · 299.988 ítems esperados" in text
    # consecutivo without --confirm is a dry run, and the board says so with the reason
    line = next(x for x in text.splitlines() if x.strip().startswith("consecutivo"))
    assert "correcto · simulación" in line and "paquetes planeados: SQOOPDI1937" in line
    assert line.endswith("(reservar exige --confirm 3575833)")
    rows = {(r["hu_id"], r["environment"]): r for r in json.loads(status(outputs, "--json").stdout)}
    demo, other = rows[(3575833, "local")], rows[(OTHER_ID, "local-dev")]
    assert demo["status"] == "ok" and demo["dry_run"] and demo["dry_runs"][0]["step"] == "consecutivo"
    assert other["status"] == "failed" and other["steps"][0]["status"] == "failed"
    assert demo["evidence"] == "HU3575833/local/index.html"
    summary = json.loads((paths.hu_output_dir(3575833, "local") / "summary.json").read_text())
    assert summary["dry_run"] is True and summary["dry_runs"][0]["reason"].startswith("simulación")
    assert (outputs / "index.html").is_file()


@pytest.mark.usefixtures("embedded")
def test_the_index_says_what_changed_since_the_previous_run(outputs, tmp_path):
    hu = tmp_path / "hu" / "demo.yaml"
    hu.parent.mkdir()
    text = DEMO.read_text(encoding="utf-8").replace("  ahp_matrix: demo-matriz-ahp.xlsx\n", "")
    hu.write_text(text, encoding="utf-8")
    index = paths.hu_output_dir(3575833, "local") / "index.html"

    def again() -> dict:
        assert Runner(hu, "local", ["conteo", "dimensionamiento"], echo=lambda _: None).run().exit_code == 0
        return json.loads((index.parent / "summary.json").read_text())

    first = again()
    assert first["previous_run"] is None and "Primera corrida" in index.read_text()
    assert again()["changes"] == [] and "Sin cambios" in index.read_text()  # nothing ran again: nothing changed
    hu.write_text(text.replace("write: [1, 8000]", "write: [1, 6000]"), encoding="utf-8")
    changed = again()
    # both steps ran again (the HU file changed); only the capacity's figures differ, the counts do not
    assert {(c["step"], c["figure"], c["before"], c["after"]) for c in changed["changes"]} >= {
        ("dimensionamiento", "capacidad de la HU (escritura)", "1–8000", "1–6000")
    }
    assert all(c["step"] == "dimensionamiento" for c in changed["changes"])
    assert "dimensionamiento · capacidad de la HU (escritura): 1–8000 → 1–6000" in index.read_text()


@pytest.mark.browser
def test_the_board_page_opens_in_a_real_browser_with_both_hus(outputs, tmp_path):
    from tests.support.chromium import SHOTS, browser

    two_hus(outputs, tmp_path)
    page_path = board.write(outputs, default_scrubber())
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1600, "height": 900})
        page.goto(page_path.as_uri())
        assert page.locator("h1").inner_text() == "Tablero productizar"
        demo = page.locator('tr[data-hu="3575833"][data-env="local"]')
        other = page.locator(f'tr[data-hu="{OTHER_ID}"][data-env="local-dev"]')
        assert demo.get_attribute("data-status") == "ok" and other.get_attribute("data-status") == "failed"
        assert "correcto" in demo.locator("td").nth(2).inner_text()
        assert "falló" in other.locator("td").nth(2).inner_text()
        assert "299.988 ítems esperados" in demo.locator('td[data-step="conteo"]').inner_text()
        assert "simulación" in demo.locator('td[data-step="consecutivo"]').inner_text()
        page.screenshot(path=str(SHOTS / "tablero.png"), full_page=True)
        demo.locator("a").first.click()  # the link opens the HU's own evidence
        assert "HU 3575833" in page.locator("h1").inner_text()
        assert page.url.endswith("HU3575833/local/index.html")


def test_a_writing_step_that_ran_dry_says_simulacion_with_its_reason_in_its_headline():
    from productizar.core.environments import WriteMode
    from productizar.run.headline import Headline
    from productizar.steps import verificacion

    dry = WriteMode(False, "simulación: este entorno exige --confirm 3575833 para escribir")
    found = verificacion.facts(verificacion.Verification(checks=[], mismatches=[], mode=dry))
    line = Headline.from_fact(found["headline"])
    assert line is not None and line.dry_run and line.reason == dry.reason
    assert line.text.startswith("simulación: comprobaciones: 0 pasan")
    wrote = verificacion.facts(verificacion.Verification([], [], mode=WriteMode(True, "confirmado")))
    assert not Headline.from_fact(wrote["headline"]).dry_run


def test_the_regression_hu_is_left_off_the_board(outputs, embedded):
    """The project's own regression HU runs like any HU, but it is nobody's work: the board leaves it out."""
    assert Runner(paths.regression_hu(), "local", ["conteo"], echo=lambda _: None).run().exit_code == 0
    summary = json.loads((paths.hu_output_dir(9000001, "local") / "summary.json").read_text())
    assert summary["regression"] is True and summary["steps"][0]["status"] == "ok"
    assert board.collect(outputs) == []
    shown = status(outputs)
    assert shown.returncode == 0 and "9000001" not in shown.stdout
