"""Step ``documentos``: the demo's whole set of documents, emails that parse back, every missing value listed
at once, the step skipped without a ``documents`` section, a failure that keeps the previous set whole, and
LibreOffice rendering the filled forms."""

import email
from datetime import date
from email import policy
from pathlib import Path

import pytest
import yaml

from productizar.core.errors import InputFileError, StepNotApplicable
from productizar.core.hu import load_hu
from productizar.paperwork import preview
from productizar.results_zone.profile import TableCount
from productizar.run.step import Step, start
from productizar.steps import conteo, documentos
from tests.support.forms import mapping_copy

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "parameters" / "hu" / "demo.yaml"
TODAY = date(2026, 11, 29)


def step_for(tmp_path: Path, hu_file: Path = DEMO) -> Step:
    out = tmp_path / "evidencia"
    (out / "facts").mkdir(parents=True)
    hu = load_hu(hu_file)
    counted = conteo.Facts(
        results_zone="DuckDB de prueba",
        tables={
            t.source: TableCount(
                source=t.source,
                partition_key=t.partition_key.name,
                sort_key=None,
                rows=1000 + i,
                null_key_rows=0,
                duplicate_keys=0,
                duplicate_rows=0,
                sort_min=None,
                sort_max=None,
                max_rows_per_partition_key=1,
                sql=(),
            )
            for i, t in enumerate(hu.tables)
        },
    )
    (out / "facts" / "conteo.json").write_text(counted.model_dump_json(), encoding="utf-8")
    return start("documentos", str(hu_file), "local", str(out))


@pytest.mark.usefixtures("embedded")
def test_the_demo_produces_every_document_and_the_emails_parse_back(tmp_path):
    step = step_for(tmp_path)
    p = documentos.produce(step, today=TODAY)
    names = sorted(f.name for f in p.folder.iterdir())
    assert names == sorted(
        [
            "Solicitud_Monitoreo_AlterCtraScoreDelta_HA3629938.xlsx",
            "Solicitud_Monitoreo_AlterCtraScoreDelta_HA3629938.docx",
            "correo_excepcion_e2e.eml",
            "correo_monitoreo.eml",
            "descripcion_release.txt",
            "variables_create_oc.csv",
            "pull_request.md",
            "compuertas_manuales.csv",
        ]
    )
    mon = email.message_from_bytes((p.folder / "correo_monitoreo.eml").read_bytes(), policy=policy.default)
    assert mon["Subject"] == (
        "Monitoreo - API AlterCtraScoreDelta - HA3629938 - Cotización Monitoreo API Productizar (AlterCtraScoreDelta)"
    )
    assert mon["To"] == "monitoreo@example.com" and mon["From"] == "Analista Ejemplo <analista@example.com>"
    attached = {a.get_filename(): a.get_content() for a in mon.iter_attachments()}
    assert attached == {n: (p.folder / n).read_bytes() for n in names if n.endswith((".xlsx", ".docx"))}
    assert "cotización del monitoreo del API AlterCtraScoreDelta (HU3575833)" in mon.get_body().get_content()
    e2e = email.message_from_bytes((p.folder / "correo_excepcion_e2e.eml").read_bytes(), policy=policy.default)
    assert e2e["Subject"] == "Aprobación excepción pruebas E2E - API AlterCtraScoreDelta"
    assert e2e["To"] == "Jefa de Ejemplo Muñoz <jefe@example.com>"
    body = e2e.get_body().get_content()
    assert body.startswith("Buen día Jefa de Ejemplo Muñoz,") and "Adjunto la Matriz AHP" in body
    assert [(a.get_filename(), a.get_content()) for a in e2e.iter_attachments()] == [
        ("demo-matriz-ahp.xlsx", (DEMO.parent / "demo-matriz-ahp.xlsx").read_bytes())
    ]
    release = (p.folder / "descripcion_release.txt").read_text(encoding="utf-8").splitlines()
    assert release == [
        "TITULO: HU3575833 Despliegue API Alter Ctra Score Delta",
        "NECESIDAD: Implementación HU3575833 para el despliegue del API AlterCtraScoreDelta en ambientes productivos.",
        "SOLUCION: Desplegar API AlterCtraScoreDelta en ambientes productivos",
        "BENEFICIO: Generar acceso al API AlterCtraScoreDelta para que puedan consumir equipos del banco.",
        "IMPACTO: Verificado en las pruebas de performance asociadas en el presente release.",
    ]
    oc = documentos.csv_of(p, "Variables de Create OC")
    assert oc.set_index("Variable")["Valor"].to_dict() == {
        "Team": "DAIA15 - DRACARYS",
        "Dependencia": "Entorno Otros EVC - EVC Datos Analitica AI Blockchain - Cloudera Data Platform",
    }
    gates = documentos.csv_of(p, "Compuertas manuales")
    assert any("85" in g for g in gates["Compuerta"]) and all(gates["Qué entregar"])
    assert "Feature HU3575833: Despliegue API Alter Ctra Score Delta" in documentos.text_of(p, "Texto del PR")


@pytest.mark.usefixtures("embedded")
def test_without_the_ahp_matrix_the_email_says_so_and_attaches_nothing(tmp_path):
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    del data["documents"]["ahp_matrix"]
    hu_file = tmp_path / "hu.yaml"
    hu_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    p = documentos.produce(step_for(tmp_path, hu_file), today=TODAY)
    e2e = email.message_from_bytes((p.folder / "correo_excepcion_e2e.eml").read_bytes(), policy=policy.default)
    assert list(e2e.iter_attachments()) == [] and "la envío por separado" in e2e.get_body().get_content()


@pytest.mark.usefixtures("embedded")
def test_missing_values_are_one_error_listing_all_and_nothing_is_written(tmp_path):
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    del data["nfr"]
    data["documents"] = {}  # written, but empty: what it needs is listed (without it the step is skipped)
    hu_file = tmp_path / "hu.yaml"
    hu_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    step = step_for(tmp_path, hu_file)
    with pytest.raises(documentos.MissingValues) as err:
        documentos.produce(step, today=TODAY)
    assert err.value.missing == [
        "ha",
        "sender_name",
        "sender_email",
        "manager_name",
        "manager_email",
        "monitoring_to",
        "contacts",
        "p95_ms",
    ]
    assert "documents.ha" in str(err.value) and "nfr.p95_ms" in str(err.value) and str(hu_file) in str(err.value)
    assert not (step.output_dir / "documentos").exists()


def test_without_a_documents_section_the_step_is_skipped_saying_what_to_add(tmp_path):
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    del data["documents"]
    hu_file = tmp_path / "sin-documentos.yaml"
    hu_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(StepNotApplicable, match="Paso omitido. Falta la sección «documents» en sin-documentos.yaml"):
        step_for(tmp_path, hu_file)
    assert not (tmp_path / "evidencia" / "documentos").exists()


@pytest.mark.usefixtures("embedded")
def test_a_failure_midway_keeps_the_previous_set_whole(tmp_path):
    step = step_for(tmp_path)
    first = documentos.produce(step, today=TODAY)
    before = {f.name: f.read_bytes() for f in first.folder.iterdir()}
    (tmp_path / "forms").mkdir()
    bad = mapping_copy(
        tmp_path / "forms", lambda m: m["word"]["placeholders"].pop("HORARIO")
    )  # Excel fills, Word fails
    with pytest.raises(InputFileError):
        documentos.produce(step, mapping_path=bad, today=TODAY)
    assert {f.name: f.read_bytes() for f in first.folder.iterdir()} == before
    # nothing half-written beside them (.state holds the steps' own bookkeeping: here the swap's lock)
    assert sorted(p.name for p in step.output_dir.iterdir()) == [".state", "documentos", "facts"]
    assert [p.name for p in (step.output_dir / ".state").rglob("*")] == ["documentos", "documentos.lock"]


# ----------------------------------------------------------------------------------------- rendering


@pytest.mark.usefixtures("embedded")
def test_libreoffice_renders_the_filled_forms_and_the_page_names_the_api(tmp_path):
    preview.tools()  # LibreOffice and poppler are part of the test set-up (.ci/run installs them)
    p = documentos.render_previews(documentos.produce(step_for(tmp_path), today=TODAY))
    assert p.preview_problem is None and len(p.previews) == 2
    for pv in p.previews:
        assert pv.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and pv.png.stat().st_size > 10_000
        text = preview.pdf_text(pv.pdf)
        assert "AlterCtraScoreDelta" in text and "HA3629938" in text, pv.source.name
    assert {pv.png.name for pv in p.previews} == {
        "Solicitud_Monitoreo_AlterCtraScoreDelta_HA3629938_xlsx.png",
        "Solicitud_Monitoreo_AlterCtraScoreDelta_HA3629938_docx.png",
    }
