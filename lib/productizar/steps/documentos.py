"""Step ``documentos``: the paperwork for going to PRD, filled from the HU and the earlier steps' facts.

Produces, under ``documentos/`` in the evidence folder: the monitoring request (Excel and Word, from the
forms and mapping in ``templates/documentos/``), the E2E-exception and monitoring emails (``.eml``), the
release description, the Create OC variables, the PR text and the checklist of manual gates. Every value
is checked before anything is written, and the folder is replaced whole: never half a set of documents.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from productizar.core import naming, paths
from productizar.core.errors import ProductizarError
from productizar.core.files import locked, write_text
from productizar.core.hu import HU, hu_file
from productizar.core.scrub import default_scrubber
from productizar.paperwork import emails, forms, preview, texts
from productizar.run import headline
from productizar.run.step import Step
from productizar.steps import conteo

DEFAULT_MAPPING = paths.project_root() / "templates" / "documentos" / "solicitud_monitoreo.mapping.yaml"

#: every value a form or an email can use, and where it comes from (what to fix when it is missing)
FIELDS: dict[str, str] = {
    "api_name": "api.name",
    "api_slug": "api.slug",
    "hu_id": "hu.id",
    "hu_label": "hu.id (HU<id>)",
    "hu_title": "hu.title",
    "ha": "documents.ha",
    "ha_label": "documents.ha (HA<número>)",
    "celula": "team.celula",
    "dependencia": "team.dependencia",
    "fecha": "la fecha de generación",
    "sender_name": "documents.sender.name",
    "sender_email": "documents.sender.email",
    "manager_name": "documents.manager.name",
    "manager_email": "documents.manager.email",
    "monitoring_to": "documents.monitoring_to",
    "contacts": "documents.contacts (rol, nombre, correo, teléfono)",
    "monitoring_hours": "documents.monitoring_hours",
    "target_tps": "nfr.target_tps (o la suma de tables[].traffic.peak_rps)",
    "p95_ms": "nfr.p95_ms",
    "error_rate_pct": "nfr.error_rate_pct",
    "availability_pct": "nfr.availability_pct",
    "periodicity": "coordinator.periodicity",
    "execution_day": "coordinator.execution_day",
    "execution_hour": "coordinator.execution_hour",
    "endpoints": "tables[] (método, ruta, tabla DynamoDB, claves, ítems del paso conteo, tráfico pico)",
    "stack_name": "api.slug (nombre del stack)",
}
#: the produced texts, by the label the evidence lists them under
RELEASE, CHANGE_ORDER, PR, GATES = (
    "Descripción del release",
    "Variables de Create OC",
    "Texto del PR",
    "Compuertas manuales",
)
#: what the emails need whatever the forms map
EMAIL_FIELDS = (
    "api_name",
    "hu_label",
    "ha",
    "ha_label",
    "sender_name",
    "sender_email",
    "manager_name",
    "manager_email",
    "monitoring_to",
    "endpoints",
    "target_tps",
    "p95_ms",
    "error_rate_pct",
    "availability_pct",
    "monitoring_hours",
)


class MissingValues(ProductizarError):
    def __init__(self, hu_path: Path, missing: list[str]):
        self.missing = missing
        lines = "\n".join(f"  - {name}: falta {FIELDS[name]}" for name in missing)
        super().__init__(f"Faltan datos para los documentos de salida a PRD; complételos en {hu_path}:\n{lines}")


def values(hu: HU, items: Mapping[str, int], today: date) -> dict[str, Any]:
    """Every field of ``FIELDS`` (None where the HU does not give it); ``items``: the items ``conteo``
    expects in each table, keyed by source."""
    d, nfr = hu.documents, hu.nfr
    endpoints = []
    for t in hu.tables:
        keys = [f"{t.partition_key.name} ({t.partition_key.type})"] + (
            [f"{t.sort_key.name} ({t.sort_key.type})"] if t.sort_key else []
        )
        endpoints.append(
            {
                "method": "GET",
                "path": naming.endpoint_path(
                    hu.api.slug, t.names.table, t.partition_key.name, t.sort_key.name if t.sort_key else None
                ),
                "source": t.source,
                "dynamo_table": t.names.dynamo_table,
                "keys": ", ".join(keys),
                "items": items.get(t.source),
                "peak_rps": _number(t.traffic.peak_rps),
            }
        )
    tps = nfr.target_tps if nfr.target_tps is not None else sum(t.traffic.peak_rps for t in hu.tables)
    return {
        "api_name": hu.api.name,
        "api_slug": hu.api.slug,
        "hu_id": hu.id,
        "hu_label": f"HU{hu.id}",
        "hu_title": hu.hu.title,
        "ha": d.ha,
        "ha_label": f"HA{d.ha}" if d.ha else None,
        "celula": hu.team.celula,
        "dependencia": hu.team.dependencia,
        "fecha": today.isoformat(),
        "sender_name": d.sender.name if d.sender else None,
        "sender_email": d.sender.email if d.sender else None,
        "manager_name": d.manager.name if d.manager else None,
        "manager_email": d.manager.email if d.manager else None,
        "monitoring_to": list(d.monitoring_to) or None,
        "contacts": [c.model_dump() | {"phone": c.phone or ""} for c in d.contacts] or None,
        "monitoring_hours": d.monitoring_hours,
        "target_tps": _number(round(tps, 1)),
        "p95_ms": nfr.p95_ms,
        "error_rate_pct": nfr.error_rate_pct,
        "availability_pct": nfr.availability_pct,
        "periodicity": hu.coordinator.periodicity,
        "execution_day": hu.coordinator.execution_day,
        "execution_hour": hu.coordinator.execution_hour,
        "endpoints": endpoints,
        "stack_name": naming.stack_name(hu.api.slug),
    }


def _number(x: float) -> float | int:
    """40.0 -> 40: forms and emails show whole numbers without a trailing .0."""
    return int(x) if float(x).is_integer() else x


def missing(vals: dict[str, Any], needed: set[str]) -> list[str]:
    """The needed fields without a value, one per HU field (``ha_label`` is ``ha`` again)."""
    out, seen = [], set()
    for name in FIELDS:
        where = FIELDS[name].split(" (")[0]
        if name in needed and vals.get(name) in (None, "", []) and where not in seen:
            out.append(name)
            seen.add(where)
    return out


def ahp_matrix(step: Step) -> Path | None:
    """The AHP matrix the HU points to (relative to the HU file), checked to exist."""
    rel = step.hu.documents.ahp_matrix
    if not rel:
        return None
    return hu_file(step.hu_path, rel, "documents.ahp_matrix")


@dataclass
class Produced:
    folder: Path
    files: dict[str, Path]  # label -> file
    mails: dict[str, emails.EmailMessage] = field(default_factory=dict)
    previews: list[preview.Preview] = field(default_factory=list)
    preview_problem: str | None = None


def _csv(frame: pd.DataFrame) -> str:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue()


def produce(step: Step, mapping_path: Path | None = None, today: date | None = None) -> Produced:
    """Check every value, then write the whole set into ``documentos/`` (replacing an earlier set at once)."""
    hu = step.hu
    counted = {source: c.expected_items for source, c in conteo.read_facts(step).tables.items()}
    # scrubbed before any form or e-mail renders them (once escaped or encoded, a secret hides from a scrub)
    vals = default_scrubber().deep(values(hu, counted, today or date.today()))
    mapping = forms.load_mapping(mapping_path or DEFAULT_MAPPING, FIELDS)
    absent = missing(vals, mapping.model.fields() | set(EMAIL_FIELDS))
    if absent:
        raise MissingValues(step.hu_path, absent)
    ahp = ahp_matrix(step)

    final = step.output_dir / "documentos"
    # staging private to this call: two runs (or an analyst's notebook beside a batch) never share it
    step.output_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".documentos.", suffix=".partial", dir=step.output_dir))
    try:
        files: dict[str, Path] = {}
        stem = f"Solicitud_Monitoreo_{hu.api.name}_HA{hu.documents.ha}"
        if mapping.model.excel:
            files["Solicitud de monitoreo (Excel)"] = forms.fill_excel(mapping, vals, staging / f"{stem}.xlsx")
        if mapping.model.word:
            files["Solicitud de monitoreo (Word)"] = forms.fill_word(mapping, vals, staging / f"{stem}.docx")
        sender = (vals["sender_name"], vals["sender_email"])
        mails = {
            "correo_excepcion_e2e.eml": emails.message(
                sender,
                [(vals["manager_name"], vals["manager_email"])],
                emails.e2e_subject(hu.api.name),
                emails.e2e_body(vals["manager_name"], hu.api.name, vals["sender_name"], ahp is not None),
                [ahp] if ahp else [],
            ),
            "correo_monitoreo.eml": emails.message(
                sender,
                [("", to) for to in vals["monitoring_to"]],
                emails.monitoring_subject(hu.api.name, vals["ha"]),
                emails.monitoring_body(vals),
                list(files.values()),
            ),
        }
        for name, msg in mails.items():
            files[f"Correo: {msg['Subject']}"] = emails.write_eml(msg, staging / name)
        files[RELEASE] = write_text(staging / "descripcion_release.txt", texts.release_description(hu))
        files[CHANGE_ORDER] = write_text(staging / "variables_create_oc.csv", _csv(texts.change_order_variables(hu)))
        infra = step.facts_if_any("infraestructura")
        files[PR] = write_text(staging / "pull_request.md", texts.pr_text(hu, infra["template"] if infra else None))
        gates = texts.manual_gates(hu, ahp is not None)
        files[GATES] = write_text(staging / "compuertas_manuales.csv", _csv(gates.reset_index()))
        # the whole set, or the earlier one untouched; one call at a time swaps (threads, a notebook, a batch)
        with locked(step.state_dir / "documentos.lock"):
            old = Path(tempfile.mkdtemp(prefix=".documentos.", suffix=".old", dir=step.output_dir)) / "documentos"
            if final.exists():
                final.rename(old)
            try:
                staging.rename(final)
            except OSError:
                if old.exists():
                    old.rename(final)  # the earlier set back in place
                raise
            finally:
                shutil.rmtree(old.parent, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    moved = {label: final / p.name for label, p in files.items()}
    return Produced(final, moved, mails)


def render_previews(p: Produced) -> Produced:
    """First page of the Excel and the Word as PNG (LibreOffice), kept in ``documentos/vista_previa/``."""
    try:
        for path in p.files.values():
            if path.suffix in (".xlsx", ".docx"):
                p.previews.append(preview.first_page(path, p.folder / "vista_previa"))
    except preview.PreviewUnavailable as exc:
        p.preview_problem = str(exc)
    return p


def files_table(p: Produced) -> Any:
    """Every produced file with a link (relative to the evidence folder, where the step's HTML lives)."""
    from IPython.display import HTML

    rel = p.folder.name
    rows = "".join(
        f'<tr><td>{escape(label)}</td><td><a href="{escape(rel)}/{escape(path.name)}">'
        f"{escape(rel)}/{escape(path.name)}</a></td></tr>"
        for label, path in p.files.items()
    )
    return HTML(f"<table><thead><tr><th>Documento</th><th>Archivo</th></tr></thead><tbody>{rows}</tbody></table>")


def release_text(p: Produced) -> str:
    """The release description, as the release will show it."""
    return text_of(p, RELEASE)


def change_order_table(p: Produced) -> pd.DataFrame:
    """The Create OC task's variables."""
    return csv_of(p, CHANGE_ORDER)


def pr_text(p: Produced) -> str:
    """The infrastructure PR's title and text."""
    return text_of(p, PR)


def gates_table(p: Produced) -> pd.DataFrame:
    """The PRD gates the tool cannot pass for the analyst, each with what to hand over."""
    return csv_of(p, GATES)


def text_of(p: Produced, label: str) -> str:
    """A produced text file as written (the evidence shows exactly what will be sent)."""
    return p.files[label].read_text(encoding="utf-8")


def csv_of(p: Produced, label: str) -> pd.DataFrame:
    return pd.read_csv(p.files[label], dtype=str, keep_default_na=False)


def email_texts(p: Produced) -> str:
    return ("\n" + "=" * 100 + "\n\n").join(emails.as_text(m) for m in p.mails.values())


def previews(p: Produced) -> None:
    """Render the first pages, then display each one (or say why there is none)."""
    show_previews(render_previews(p))


def show_previews(p: Produced) -> None:
    """Display each rendered first page (or say why there is none)."""
    from IPython.display import Image, display

    if p.preview_problem:
        print(p.preview_problem)
        return
    for pv in p.previews:
        print(f"{pv.source.name} · primera página")
        display(Image(filename=str(pv.png)))


def facts(p: Produced, step: Step) -> dict[str, Any]:
    gates = len(texts.manual_gates(step.hu, step.hu.documents.ahp_matrix is not None))
    text = f"{len(p.files)} documentos · {len(p.mails)} correos · {gates} compuertas manuales"
    return {
        "headline": headline.Headline(text, {"documentos": len(p.files)}).as_fact(),
        "files": {label: str(path.relative_to(step.output_dir)) for label, path in p.files.items()},
        "emails": {name: m["Subject"] for name, m in p.mails.items()},
        "previews": [str(pv.png.relative_to(step.output_dir)) for pv in p.previews],
        "preview_problem": p.preview_problem,
        "manual_gates": len(texts.manual_gates(step.hu, step.hu.documents.ahp_matrix is not None)),
    }
