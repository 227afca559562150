"""The PRD paperwork: forms filled in place, clear mapping errors, emails that parse back, rendered pages."""

import email
import shutil
from datetime import date
from email import policy
from pathlib import Path

import openpyxl
import pytest
import yaml
from docx import Document

from productizar.core.errors import InputFileError, StepNotApplicable
from productizar.core.hu import load_hu
from productizar.paperwork import emails, forms, preview
from productizar.paperwork import texts as paperwork
from productizar.results_zone.profile import TableCount
from productizar.run.step import Step, start
from productizar.steps import conteo, documentos

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "parameters" / "hu" / "demo.yaml"
FORMS = ROOT / "templates" / "documentos"
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


def demo_values() -> dict:
    hu = load_hu(DEMO)
    return documentos.values(hu, {t.source: 7 for t in hu.tables}, TODAY)


def mapping_copy(tmp_path: Path, edit=None) -> Path:
    """The default mapping and forms copied to tmp_path, the mapping changed by ``edit``."""
    for f in FORMS.iterdir():
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "solicitud_monitoreo.mapping.yaml"
    if edit:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        edit(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------- Excel


def test_every_mapped_value_lands_in_its_cell_and_the_form_keeps_its_look(tmp_path):
    vals = demo_values()
    mapping = forms.load_mapping(documentos.DEFAULT_MAPPING, documentos.FIELDS)
    out = forms.fill_excel(mapping, vals, tmp_path / "f.xlsx")
    tpl = openpyxl.load_workbook(FORMS / "solicitud_monitoreo.xlsx")["Solicitud"]
    ws = openpyxl.load_workbook(out)["Solicitud"]
    for ref, field in mapping.model.excel.cells.items():
        assert ws[ref.split("!")[1]].value == vals[field], ref
    assert ws["C5"].value == "AlterCtraScoreDelta" and ws["C7"].value == "HA3629938" and ws["C26"].value == 300
    # lists, row by row
    assert [ws.cell(15 + i, 2).value for i in range(3)] == [e["path"] for e in vals["endpoints"]]
    assert ws["B15"].value == "/alter-ctra-score-delta/alter_ctra_score_delta/{num_documento}/{fecha_corte}"
    assert [ws.cell(38 + i, 3).value for i in range(2)] == ["analista@example.com", "lider@example.com"]
    assert ws["A18"].value is None  # rows beyond the items stay empty
    # every column of every list, each item on its row
    for name, spec in mapping.model.excel.tables.items():
        first = ws[spec.at.split("!")[1]]
        for i, item in enumerate(vals[name]):
            got = [ws.cell(first.row + i, first.column + j).value for j in range(len(spec.columns))]
            wanted = [item.get(col) if item.get(col) != "" else None for col in spec.columns]  # "" reads as empty
            assert got == wanted, (name, i)
    assert [ws.cell(15, c).value for c in range(1, 7)] == [
        "GET",
        "/alter-ctra-score-delta/alter_ctra_score_delta/{num_documento}/{fecha_corte}",
        "dynamo-alter-ctra-score-delta-api",
        "num_documento (S), fecha_corte (N)",
        7,
        40,
    ]
    # the form as its author left it
    assert sorted(map(str, ws.merged_cells.ranges)) == sorted(map(str, tpl.merged_cells.ranges))
    assert {k: v.width for k, v in ws.column_dimensions.items()} == {
        k: v.width for k, v in tpl.column_dimensions.items()
    }
    assert ws["A1"].fill.fgColor.rgb == tpl["A1"].fill.fgColor.rgb and ws["A5"].font.b
    assert [str(dv.sqref) for dv in ws.data_validations.dataValidation] == ["C29"]
    assert ws.data_validations.dataValidation[0].formula1 == tpl.data_validations.dataValidation[0].formula1
    assert ws["A1"].value == "SOLICITUD DE MONITOREO DE API"


def test_a_merged_range_is_written_in_its_top_left_cell(tmp_path):
    path = mapping_copy(
        tmp_path,
        lambda m: m["excel"]["cells"].update({"Solicitud!E5": "api_name"}) or m["excel"]["cells"].pop("Solicitud!C5"),
    )
    out = forms.fill_excel(forms.load_mapping(path, documentos.FIELDS), demo_values(), tmp_path / "f.xlsx")
    ws = openpyxl.load_workbook(out)["Solicitud"]
    assert ws["C5"].value == "AlterCtraScoreDelta" and ws["E5"].value is None


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda m: m["excel"]["cells"].update({"Hoja1!C5": "api_name"}), 'the form has no sheet "Hoja1"'),
        (lambda m: m["excel"]["cells"].update({"Solicitud!A5": "celula"}), 'Solicitud!A5 already holds "API"'),
        (lambda m: m["excel"]["cells"].update({"Solicitud!ZZZ5": "celula"}), "outside a worksheet"),
        (lambda m: m["excel"]["tables"]["endpoints"].update(rows=2), "3 items to write, the form has room for 2"),
        (
            lambda m: m["excel"]["tables"]["contacts"].update(columns=["role", "cargo"]),
            "cargo: not a column of contacts",
        ),
    ],
)
def test_a_mapping_that_does_not_fit_the_form_names_the_line_and_writes_nothing(tmp_path, edit, message):
    path = mapping_copy(tmp_path, edit)
    mapping = forms.load_mapping(path, documentos.FIELDS)
    with pytest.raises(InputFileError) as err:
        forms.fill_excel(mapping, demo_values(), tmp_path / "out" / "f.xlsx")
    text = err.value.render()
    assert message in text and f"{path}:" in text  # file:line: field: message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_unknown_fields_and_missing_templates_are_reported_together_when_loading(tmp_path):
    def edit(m):
        m["excel"]["cells"]["Solicitud!C5"] = "nombre_api"
        m["word"]["placeholders"]["API"] = "apiname"
        m["word"]["template"] = "no_existe.docx"

    path = mapping_copy(tmp_path, edit)
    with pytest.raises(InputFileError) as err:
        forms.load_mapping(path, documentos.FIELDS)
    text = err.value.render()
    assert 'unknown field "nombre_api"' in text and 'unknown field "apiname"' in text and "no_existe.docx" in text


# ----------------------------------------------------------------------------------------- Word


def test_the_word_form_gets_every_value_and_no_placeholder_is_left(tmp_path):
    vals = demo_values()
    mapping = forms.load_mapping(documentos.DEFAULT_MAPPING, documentos.FIELDS)
    doc = Document(forms.fill_word(mapping, vals, tmp_path / "f.docx"))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    text = "\n".join([p.text for p in doc.paragraphs] + cells)
    assert "{{" not in text and "{%" not in text
    for value in (
        "AlterCtraScoreDelta",
        "HU3575833",
        "HA3629938",
        "DAIA15 - DRACARYS",
        "2026-11-29",
        "Analista Ejemplo",
        "dynamo-alter-ctra-oferta-producto-api",
        "Líder Técnico Peña",
    ):
        assert value in text, value
    assert [e["path"] for e in vals["endpoints"]] == [c for c in cells if c.startswith("/")]
    assert "latencia p95 máxima: 300 ms" in text
    # every placeholder's value at its place: the general data by its label, a row per endpoint and contact,
    # the thresholds in their sentence
    general, endpoints, contacts = ([[c.text for c in row.cells] for row in t.rows] for t in doc.tables)
    assert general == [
        ["API", vals["api_name"]],
        ["HU", vals["hu_label"]],
        ["Número de HA", vals["ha_label"]],
        ["Célula", vals["celula"]],
        ["Dependencia", vals["dependencia"]],
        ["Fecha de solicitud", vals["fecha"]],
        ["Solicitante", vals["sender_name"]],
    ]
    assert endpoints == [["Método", "Ruta", "Tabla DynamoDB", "Tráfico pico (req/s)"]] + [
        [e["method"], e["path"], e["dynamo_table"], str(e["peak_rps"])] for e in vals["endpoints"]
    ]
    assert contacts == [["Rol", "Nombre", "Correo"]] + [[c["role"], c["name"], c["email"]] for c in vals["contacts"]]
    assert (
        f"TPS objetivo: {vals['target_tps']} · latencia p95 máxima: 300 ms · tasa de error máxima: "
        f"{vals['error_rate_pct']} % · disponibilidad: {vals['availability_pct']} % · horario: 24x7." in text
    )
    assert f"El API {vals['api_name']} expone los siguientes endpoints" in text
    assert [general[0][1], general[3][1], contacts[2][1]] == [
        "AlterCtraScoreDelta",
        "DAIA15 - DRACARYS",
        "Líder Técnico Peña",
    ]


def test_a_placeholder_split_across_runs_and_markup_in_values_render(tmp_path):
    d = Document()
    p = d.add_paragraph()
    p.add_run("API: {{ NOM").bold = True  # Word splits a placeholder when part of it is formatted
    p.add_run("BRE }} · célula {")
    p.add_run("{ CELULA }}")
    (tmp_path / "propio.docx").write_bytes(b"")
    d.save(tmp_path / "propio.docx")
    (tmp_path / "m.yaml").write_text(
        "word:\n  template: propio.docx\n  placeholders: {NOMBRE: api_name, CELULA: celula}\n", encoding="utf-8"
    )
    mapping = forms.load_mapping(tmp_path / "m.yaml", documentos.FIELDS)
    out = forms.fill_word(mapping, {"api_name": "Ñandú", "celula": "Peña & Cía <norte>"}, tmp_path / "o.docx")
    assert Document(out).paragraphs[0].text == "API: Ñandú · célula Peña & Cía <norte>"


def test_a_word_placeholder_without_a_field_is_an_error(tmp_path):
    path = mapping_copy(tmp_path, lambda m: m["word"]["placeholders"].pop("HORARIO"))
    with pytest.raises(InputFileError, match=r"uses \{\{ HORARIO \}\}"):
        forms.fill_word(forms.load_mapping(path, documentos.FIELDS), demo_values(), tmp_path / "o.docx")


# ----------------------------------------------------------------------------------------- the step


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


def test_monitoring_subject_is_the_runbooks():
    assert emails.monitoring_subject("EcoMovilidad", 3629938) == (
        "Monitoreo - API EcoMovilidad - HA3629938 - Cotización Monitoreo API Productizar (EcoMovilidad)"
    )
    assert paperwork.release_description(load_hu(DEMO)).startswith("TITULO: HU3575833 ")
