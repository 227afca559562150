"""Step ``api``'s own decisions: without ``api.package`` the HU gets the reference API packed for it, which
passes the package checks; the headline says which package it checked and how many findings it has."""

from types import SimpleNamespace

import pytest

from productizar.api.package import Finding
from productizar.core.errors import StepFailed
from productizar.steps import api
from tests.support.hu import DEMO, demo_with


def test_without_a_package_the_reference_api_is_packed_for_the_hu_and_passes(tmp_path):
    hu = demo_with()
    assert hu.api.package is None
    step = SimpleNamespace(hu=hu, hu_path=DEMO, output_dir=tmp_path)
    d = api.delivered(step)
    assert d.reference and d.path == tmp_path / "api" / f"{hu.api.name}.zip" and d.path.is_file()
    found = api.findings(step, d)
    assert found == [] and api.verdict(found) == "Paquete en orden: se puede desplegar."
    assert api.describe(d) == f"Paquete: {hu.api.name}.zip (API de referencia empaquetado para esta HU)"
    line = api.facts(d, found)["headline"]
    assert line["text"] == f"{hu.api.name}.zip (API de referencia) · sin hallazgos"


def test_a_delivered_package_with_findings_stops_the_batch_and_the_headline_counts_them(tmp_path):
    d = api.Delivered(tmp_path / "MiApi.zip", reference=False)
    found = [Finding("settings.py", 3, "debug", "DEBUG=True", "DEBUG=False"), Finding("views.py", None, "x", "y", "z")]
    with pytest.raises(StepFailed, match="El paquete del API tiene 2 hallazgo\\(s\\) en settings.py, views.py"):
        api.verdict(found)
    facts = api.facts(d, found)
    assert facts["verdict"] == "fail" and facts["headline"]["text"] == "MiApi.zip (paquete de la HU) · 2 hallazgos"
    assert facts["headline"]["figures"] == {"hallazgos del paquete": 2}
