"""The PRD paperwork: forms filled in place, clear mapping errors, placeholders rendered, the runbook's subjects."""

from datetime import date
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from productizar.core.errors import InputFileError
from productizar.core.hu import load_hu
from productizar.paperwork import emails, forms, preview
from productizar.paperwork import texts as paperwork
from productizar.steps import documentos
from tests.support.forms import mapping_copy

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "parameters" / "hu" / "demo.yaml"
FORMS = ROOT / "templates" / "documentos"
TODAY = date(2026, 11, 29)


def demo_values() -> dict:
    hu = load_hu(DEMO)
    return documentos.values(hu, {t.source: 7 for t in hu.tables}, TODAY)


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


def test_monitoring_subject_is_the_runbooks():
    assert emails.monitoring_subject("EcoMovilidad", 3629938) == (
        "Monitoreo - API EcoMovilidad - HA3629938 - Cotización Monitoreo API Productizar (EcoMovilidad)"
    )
    assert paperwork.release_description(load_hu(DEMO)).startswith("TITULO: HU3575833 ")


def test_without_libreoffice_the_preview_says_which_packages_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # neither soffice nor pdftoppm here
    with pytest.raises(preview.PreviewUnavailable, match="libreoffice-writer-nogui libreoffice-calc-nogui poppler"):
        preview.first_page(tmp_path / "f.xlsx", tmp_path / "out")
    assert not (tmp_path / "out").exists()
