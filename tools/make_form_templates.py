"""Build the default PRD form templates shipped in ``templates/documentos/`` (and the demo AHP matrix).

The files are committed; this script is how they were made, so a change to a default form is a reviewed
change to this script, not a hand-edited binary. The team's real forms replace them: drop the form in and
write its mapping (``templates/documentos/*.mapping.yaml``), no code. Run: ``python tools/make_form_templates.py``.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "templates" / "documentos"

NAVY = "1F3864"
GREY = "D9D9D9"
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def _section(ws, row: int, title: str) -> None:
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=6)
    c = ws.cell(row, 1, title)
    c.font = Font(bold=True, color="000000")
    c.fill = PatternFill("solid", fgColor=GREY)


def _labelled(ws, row: int, label: str) -> None:
    """Label in A:B, an empty boxed value area in C:F (merged): the form writes C<row>."""
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
    ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=6)
    ws.cell(row, 1, label).font = Font(bold=True)
    for col in range(1, 7):
        ws.cell(row, col).border = BOX
    ws.cell(row, 3).alignment = Alignment(wrap_text=True, vertical="top")


def _grid(ws, row: int, headers: list[str], rows: int) -> None:
    for col, h in enumerate(headers, start=1):
        c = ws.cell(row, col, h)
        c.font = Font(bold=True, color="FFFFFF")
        c.fill = PatternFill("solid", fgColor=NAVY)
        c.border = BOX
        c.alignment = Alignment(horizontal="center", wrap_text=True)
    for r in range(row + 1, row + 1 + rows):
        for col in range(1, len(headers) + 1):
            ws.cell(r, col).border = BOX


def monitoring_xlsx(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Solicitud"
    for col, width in zip("ABCDEF", (24, 62, 36, 36, 12, 18)):
        ws.column_dimensions[col].width = width
    ws.merge_cells("A1:F1")
    ws["A1"] = "SOLICITUD DE MONITOREO DE API"
    ws["A1"].font = Font(bold=True, size=14, color="FFFFFF")
    ws["A1"].fill = PatternFill("solid", fgColor=NAVY)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A2:F2")
    ws["A2"] = "Gerencia de Servicios de Tecnología · Formato FM-MON-01 · versión 3"
    ws["A2"].alignment = Alignment(horizontal="center")
    ws["A2"].font = Font(italic=True, size=9)

    _section(ws, 4, "1. Datos generales")
    for row, label in zip(
        range(5, 12), ("API", "HU", "Número de HA", "Célula", "Dependencia", "Fecha de solicitud", "Solicitante")
    ):
        _labelled(ws, row, label)

    _section(ws, 13, "2. Endpoints y tablas")
    _grid(ws, 14, ["Método", "Ruta", "Tabla DynamoDB", "Claves", "Ítems", "Tráfico pico (req/s)"], rows=8)

    _section(ws, 24, "3. Tráfico esperado y umbrales")
    for row, label in zip(
        range(25, 30),
        (
            "TPS objetivo",
            "Latencia p95 máxima (ms)",
            "Tasa de error máxima (%)",
            "Disponibilidad (%)",
            "Horario de monitoreo",
        ),
    ):
        _labelled(ws, row, label)
    hours = DataValidation(
        type="list",
        formula1='"24x7,Lunes a viernes 06:00-20:00,Horario de la malla"',
        allow_blank=False,
        showErrorMessage=True,
        errorTitle="Horario",
        error="Elija un horario de la lista",
    )
    ws.add_data_validation(hours)
    hours.add("C29")

    _section(ws, 31, "4. Programación de la carga")
    for row, label in zip(range(32, 35), ("Periodicidad", "Día de ejecución", "Hora de ejecución")):
        _labelled(ws, row, label)

    _section(ws, 36, "5. Contactos")
    _grid(ws, 37, ["Rol", "Nombre", "Correo", "Teléfono"], rows=4)

    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_area = "A1:F41"
    wb.save(path)


def monitoring_docx(path: Path) -> None:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "DejaVu Sans"
    style.font.size = Pt(10)
    title = doc.add_heading("Solicitud de monitoreo de API", level=1)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub = doc.add_paragraph("Formato FM-MON-02 · Gerencia de Servicios de Tecnología")
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub.runs[0].font.color.rgb = RGBColor(0x59, 0x59, 0x59)

    doc.add_heading("1. Datos generales", level=2)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, field in (
        ("API", "API"),
        ("HU", "HU"),
        ("Número de HA", "HA"),
        ("Célula", "CELULA"),
        ("Dependencia", "DEPENDENCIA"),
        ("Fecha de solicitud", "FECHA"),
        ("Solicitante", "SOLICITANTE"),
    ):
        cells = table.add_row().cells
        cells[0].text = label
        cells[1].text = "{{ " + field + " }}"

    doc.add_heading("2. Endpoints", level=2)
    doc.add_paragraph("El API {{ API }} expone los siguientes endpoints de solo lectura sobre DynamoDB:")
    ep = doc.add_table(rows=1, cols=4)
    ep.style = "Table Grid"
    for cell, h in zip(ep.rows[0].cells, ("Método", "Ruta", "Tabla DynamoDB", "Tráfico pico (req/s)")):
        cell.text = h
    ep.add_row().cells[0].text = "{%tr for e in ENDPOINTS %}"
    row = ep.add_row().cells
    for cell, f in zip(row, ("e.method", "e.path", "e.dynamo_table", "e.peak_rps")):
        cell.text = "{{ " + f + " }}"
    ep.add_row().cells[0].text = "{%tr endfor %}"

    doc.add_heading("3. Umbrales de alerta", level=2)
    doc.add_paragraph(
        "TPS objetivo: {{ TPS }} · latencia p95 máxima: {{ P95_MS }} ms · tasa de error máxima: "
        "{{ ERROR_PCT }} % · disponibilidad: {{ DISPONIBILIDAD }} % · horario: {{ HORARIO }}."
    )

    doc.add_heading("4. Contactos", level=2)
    ct = doc.add_table(rows=1, cols=3)
    ct.style = "Table Grid"
    for cell, h in zip(ct.rows[0].cells, ("Rol", "Nombre", "Correo")):
        cell.text = h
    ct.add_row().cells[0].text = "{%tr for c in CONTACTOS %}"
    row = ct.add_row().cells
    for cell, f in zip(row, ("c.role", "c.name", "c.email")):
        cell.text = "{{ " + f + " }}"
    ct.add_row().cells[0].text = "{%tr endfor %}"
    doc.save(path)


def ahp_matrix_xlsx(path: Path) -> None:
    """A small AHP (analytic hierarchy process) matrix, the attachment of the demo's E2E exception."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Matriz AHP"
    criteria = ["Impacto en clientes", "Complejidad", "Dependencias E2E", "Cobertura de pruebas"]
    ws.append(["Criterio"] + criteria + ["Peso"])
    weights = [[1, 3, 5, 1], [1 / 3, 1, 3, 1 / 3], [1 / 5, 1 / 3, 1, 1 / 5], [1, 3, 5, 1]]
    for name, row in zip(criteria, weights):
        ws.append([name] + [round(v, 3) for v in row] + [round(sum(row) / 20.2, 3)])
    for col in "ABCDEF":
        ws.column_dimensions[col].width = 22
    wb.save(path)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    monitoring_xlsx(OUT / "solicitud_monitoreo.xlsx")
    monitoring_docx(OUT / "solicitud_monitoreo.docx")
    ahp_matrix_xlsx(ROOT / "parameters" / "hu" / "demo-matriz-ahp.xlsx")
    print(f"written under {OUT.relative_to(ROOT)} and parameters/hu/demo-matriz-ahp.xlsx")


if __name__ == "__main__":
    main()
