"""Filling the team's forms from a mapping file: Excel with openpyxl, Word with docxtpl.

The form is the team's own file; a mapping file (YAML) says where each value goes: an Excel cell
(``Sheet!C5``), a list written row by row from a first cell, or a Word placeholder (``{{ API }}``). Swapping
in the real form means a new mapping, not new code. The template is filled in place: styles, merged
cells, data validation, column widths and print settings stay as the form's author left them.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from pathlib import Path
from typing import Annotated, Any

import openpyxl
from docxtpl import DocxTemplate
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, ConfigDict, Field

from productizar.core.errors import InputFileError
from productizar.core.files import atomic_path
from productizar.core.problem import Loc, Problem
from productizar.core.problems import YamlDocument, load_yaml_model

CELL = r"^[^!]+![A-Z]{1,3}[1-9][0-9]*$"
MAX_ROW, MAX_COL = 1_048_576, 16_384  # Excel's grid: XFD1048576
FIELD = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TableMap(_Strict):
    at: Annotated[str, Field(pattern=CELL)]  # first cell of the first row
    rows: Annotated[int, Field(ge=1, le=500)]  # room the form has
    columns: Annotated[list[Annotated[str, Field(pattern=FIELD)]], Field(min_length=1)]  # item keys, left to right


class ExcelMap(_Strict):
    template: str
    cells: dict[Annotated[str, Field(pattern=CELL)], Annotated[str, Field(pattern=FIELD)]] = {}
    tables: dict[Annotated[str, Field(pattern=FIELD)], TableMap] = {}


class WordMap(_Strict):
    template: str
    placeholders: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], Annotated[str, Field(pattern=FIELD)]]


class FormMapping(_Strict):
    excel: ExcelMap | None = None
    word: WordMap | None = None

    def fields(self) -> set[str]:
        """Every field the forms need."""
        out: set[str] = set()
        if self.excel:
            out |= set(self.excel.cells.values()) | set(self.excel.tables)
        if self.word:
            out |= set(self.word.placeholders.values())
        return out


class Mapping:
    """A loaded mapping file: the model, where it is (templates are relative to it) and its lines."""

    def __init__(self, path: Path, model: FormMapping):
        self.path = path
        self.model = model
        self._doc = YamlDocument(path)

    def problem(self, loc: Loc, message: str) -> Problem:
        return Problem(loc, message, self._doc.line_of(loc))

    def template(self, kind: str) -> Path:
        part = getattr(self.model, kind)
        return (self.path.parent / part.template).resolve()


def load_mapping(path: str | Path, known_fields: MappingType[str, str]) -> Mapping:
    """Read a mapping file; every problem at once (unknown field, missing template), with file and line."""
    path = Path(path)

    def checks(raw: Any) -> list[tuple[Loc, str]]:
        out: list[tuple[Loc, str]] = []
        known = ", ".join(sorted(known_fields))
        for kind in ("excel", "word"):
            part = raw.get(kind) if isinstance(raw, dict) else None
            if not isinstance(part, dict):
                continue
            tpl = part.get("template")
            if isinstance(tpl, str) and not (path.parent / tpl).is_file():
                out.append(((kind, "template"), f"file not found: {path.parent / tpl}"))
            entries = {"cells": part.get("cells"), "placeholders": part.get("placeholders")}
            for section, values in entries.items():
                for key, field in (values or {}).items() if isinstance(values, dict) else ():
                    if isinstance(field, str) and field not in known_fields:
                        out.append(((kind, section, key), f'unknown field "{field}"; the fields are: {known}'))
            for field in (part.get("tables") or {}) if kind == "excel" and isinstance(part.get("tables"), dict) else ():
                if field not in known_fields:
                    out.append(((kind, "tables", field), f'unknown field "{field}"; the fields are: {known}'))
        if isinstance(raw, dict) and not raw.get("excel") and not raw.get("word"):
            out.append(((), "maps no form: give `excel`, `word` or both"))
        return out

    return Mapping(path, load_yaml_model(path, FormMapping, checks))


def _anchor(ws: Worksheet, coord: str) -> str:
    """The cell that holds a merged range's value (its top-left), or ``coord`` itself."""
    for rng in ws.merged_cells.ranges:
        if coord in rng:
            return rng.start_cell.coordinate
    return coord


def _cell_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return value


def fill_excel(mapping: Mapping, values: MappingType[str, Any], out: Path) -> Path:
    """Write every mapped value into a copy of the Excel template; a sheet or a room that the form does not
    have is an error naming the mapping line, and then no file is written."""
    spec = mapping.model.excel
    assert spec is not None
    wb = openpyxl.load_workbook(mapping.template("excel"))
    problems: list[Problem] = []

    def sheet_of(ref: str, loc: Loc) -> tuple[Worksheet | None, str]:
        name, coord = ref.rsplit("!", 1)
        if name not in wb.sheetnames:
            problems.append(
                mapping.problem(loc, f'the form has no sheet "{name}" (it has: {", ".join(wb.sheetnames)})')
            )
            return None, coord
        return wb[name], coord

    def write(ws: Worksheet, coord: str, value: Any, loc: Loc) -> None:
        row, col = coordinate_to_tuple(coord)
        if row > MAX_ROW or col > MAX_COL:
            problems.append(mapping.problem(loc, f"{coord} is outside a worksheet (last cell XFD{MAX_ROW})"))
            return
        anchor = _anchor(ws, coord)
        if ws[anchor].value not in (None, ""):  # the form's own text: the mapping points at a label
            problems.append(
                mapping.problem(
                    loc,
                    f'{ws.title}!{anchor} already holds "{ws[anchor].value}" in the '
                    "form; point the mapping at the empty cell beside it",
                )
            )
            return
        ws[anchor] = _cell_value(value)

    for ref, field in spec.cells.items():
        ws, coord = sheet_of(ref, ("excel", "cells", ref))
        if ws is not None:
            write(ws, coord, values[field], ("excel", "cells", ref))
    for field, table in spec.tables.items():
        loc: Loc = ("excel", "tables", field)
        ws, coord = sheet_of(table.at, (*loc, "at"))
        items = list(values[field] or [])
        if len(items) > table.rows:
            problems.append(
                mapping.problem((*loc, "rows"), f"{len(items)} items to write, the form has room for {table.rows}")
            )
            continue
        if ws is None:
            continue
        unknown = [k for k in table.columns if items and k not in items[0]]
        if unknown:
            problems.append(
                mapping.problem(
                    (*loc, "columns"),
                    f"{', '.join(unknown)}: not a column of {field} (they are: {', '.join(items[0])})",
                )
            )
            continue
        row0, col0 = coordinate_to_tuple(coord)
        for i, item in enumerate(items):
            for j, key in enumerate(table.columns):
                write(ws, ws.cell(row0 + i, col0 + j).coordinate, item[key], (*loc, "at"))
    if problems:
        raise InputFileError(mapping.path, problems)
    with atomic_path(out) as tmp:
        wb.save(tmp)
    return out


def word_placeholders(template: Path) -> set[str]:
    """The names a Word template uses (docxtpl joins a placeholder that Word split across runs)."""
    return set(DocxTemplate(template).get_undeclared_template_variables())


def fill_word(mapping: Mapping, values: MappingType[str, Any], out: Path) -> Path:
    """Render the Word template with docxtpl (Jinja inside the document, values XML-escaped)."""
    spec = mapping.model.word
    assert spec is not None
    template = mapping.template("word")
    unmapped = sorted(word_placeholders(template) - set(spec.placeholders))
    if unmapped:
        raise InputFileError(
            mapping.path,
            [
                mapping.problem(
                    ("word", "placeholders"),
                    f"{template.name} uses {', '.join('{{ ' + u + ' }}' for u in unmapped)}, "
                    "which this mapping does not give a field",
                )
            ],
        )
    doc = DocxTemplate(template)
    doc.render({ph: values[field] for ph, field in spec.placeholders.items()}, autoescape=True)
    with atomic_path(out) as tmp:
        doc.save(tmp)
    return out
