"""The two PRD emails as ``.eml`` files (standard library ``email``): ready to open and send, UTF-8 throughout.

The E2E-exception request follows the runbook's text ("Salida a PRD", point 1); the monitoring request
carries the runbook's subject line and the filled Excel and Word forms.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

from productizar.core.files import write_bytes

PROJECT = "ProductizarLaAnalitica"


def e2e_subject(api_name: str) -> str:
    return f"Aprobación excepción pruebas E2E - API {api_name}"


def monitoring_subject(api_name: str, ha: int) -> str:
    """The runbook's subject: ``Monitoreo - API <name> - HA<n> - Cotización Monitoreo API Productizar (<name>)``."""
    return f"Monitoreo - API {api_name} - HA{ha} - Cotización Monitoreo API Productizar ({api_name})"


def e2e_body(manager: str, api_name: str, sender: str, with_matrix: bool) -> str:
    attached = (
        "Adjunto la Matriz AHP requerida para realizar la solicitud frente al equipo de pruebas continuas."
        if with_matrix
        else "La Matriz AHP requerida para la solicitud frente al equipo de pruebas continuas la envío por separado."
    )
    return (
        f"Buen día {manager},\n\n"
        f"Solicito tu aprobación para excepcionar de pruebas E2E del proyecto {PROJECT} del API {api_name} y así "
        "poder configurar correctamente el pipeline de despliegue en los diferentes ambientes DEV, QA y PDN. "
        f"{attached}\n\nQuedo atento.\n\n{sender}\n"
    )


def monitoring_body(values: dict) -> str:
    endpoints = "\n".join(f"  - {e['method']} {e['path']} → {e['dynamo_table']}" for e in values["endpoints"])
    return (
        "Buen día,\n\n"
        f"Solicito la cotización del monitoreo del API {values['api_name']} ({values['hu_label']}), registrada en la "
        f"{values['ha_label']}. Adjunto el formato de solicitud en Excel y en Word con los endpoints, las tablas, el "
        "tráfico esperado, los umbrales de alerta, la programación de la carga y los contactos.\n\n"
        "Resumen:\n"
        f"{endpoints}\n"
        f"  - TPS objetivo: {values['target_tps']} · latencia p95 máxima: {values['p95_ms']} ms · "
        f"tasa de error máxima: {values['error_rate_pct']} % · disponibilidad: {values['availability_pct']} %\n"
        f"  - Horario de monitoreo: {values['monitoring_hours']}\n\n"
        f"Quedo atento.\n\n{values['sender_name']}\n"
    )


def message(
    sender: tuple[str, str],
    to: list[tuple[str, str]],
    subject: str,
    body: str,
    attachments: Sequence[Path] = (),
    when: datetime | None = None,
) -> EmailMessage:
    """A plain-text UTF-8 email with its attachments (type guessed from the file name)."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = formataddr(sender)
    msg["To"] = ", ".join(formataddr(t) for t in to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when or datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=sender[1].split("@")[-1])
    msg.set_content(body, charset="utf-8")
    for path in attachments:
        ctype, _ = mimetypes.guess_type(path.name)
        maintype, subtype = (ctype or "application/octet-stream").split("/", 1)
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return msg


def write_eml(msg: EmailMessage, path: Path) -> Path:
    return write_bytes(path, msg.as_bytes())


def as_text(msg: EmailMessage) -> str:
    """What the evidence shows of an email: headers that matter, the body, the attachments' names."""
    body = msg.get_body(preferencelist=("plain",))
    names = [p.get_filename() or "" for p in msg.iter_attachments()]
    return (
        f"De: {msg['From']}\nPara: {msg['To']}\nAsunto: {msg['Subject']}\n"
        f"Adjuntos: {', '.join(names) if names else 'ninguno'}\n\n{body.get_content() if body else ''}"
    )
