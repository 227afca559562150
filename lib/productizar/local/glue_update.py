"""Glue's ``UpdateJob`` on the embedded endpoint, which moto's server does not implement (it answers 500).

``coordinadores`` points an existing job at the uploaded script and package with ``UpdateJob``; without this
the embedded default could never show that call working. The operation is applied to moto's own Glue
backend, in the account and region the request is signed for, with AWS's documented meaning: the job's
previous definition is overwritten whole by ``JobUpdate`` (a field left out goes back to its default). The
job's name, ARN, creation time, tags and runs stay; its modification time moves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

TARGET = "AWSGlue.UpdateJob"
_REGION = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/glue/")

#: JobUpdate's fields and the attribute of moto's job each one sets, with its value when left out
FIELDS: dict[str, tuple[str, Any]] = {
    "Description": ("description", None),
    "LogUri": ("log_uri", None),
    "Role": ("role", None),
    "ExecutionProperty": ("execution_property", {}),
    "Command": ("command", None),
    "DefaultArguments": ("default_arguments", {}),
    "NonOverridableArguments": ("non_overridable_arguments", None),
    "Connections": ("connections", None),
    "MaxRetries": ("max_retries", None),
    "AllocatedCapacity": ("allocated_capacity", None),
    "Timeout": ("timeout", None),
    "MaxCapacity": ("max_capacity", None),
    "WorkerType": ("worker_type", None),
    "NumberOfWorkers": ("number_of_workers", None),
    "SecurityConfiguration": ("security_configuration", None),
    "NotificationProperty": ("notification_property", None),
    "GlueVersion": ("glue_version", None),
    "CodeGenConfigurationNodes": ("code_gen_configuration_nodes", None),
    "ExecutionClass": ("execution_class", "STANDARD"),
    "SourceControlDetails": ("source_control_details", None),
}


def apply(job: Any, update: dict[str, Any], now: Any) -> None:
    """Overwrite moto's job definition with ``update`` as AWS does: every field, given or defaulted."""
    for field, (attribute, default) in FIELDS.items():
        value = update.get(field, default)
        setattr(job, attribute, dict(value) if isinstance(value, dict) else value)
    job.last_modified_on = now


class GlueUpdateJob:
    """WSGI middleware: ``AWSGlue.UpdateJob`` answered on moto's Glue backend; every other request to moto."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET") != TARGET:
            return self.app(environ, start_response)
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.core.utils import utcnow
        from moto.glue.models import glue_backends

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        name, update = body.get("JobName"), body.get("JobUpdate")
        if not name or not isinstance(update, dict):
            return _answer(
                start_response,
                400,
                {"__type": "InvalidInputException", "Message": "JobName and JobUpdate are required"},
            )
        region = _REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
        account = environ.get("HTTP_X_MOTO_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID
        backend = glue_backends[account][region.group(1) if region else "us-east-1"]
        job = backend.jobs.get(name)
        if job is None:
            return _answer(
                start_response, 400, {"__type": "EntityNotFoundException", "Message": f"Job {name} not found."}
            )
        apply(job, update, utcnow())
        return _answer(start_response, 200, {"JobName": name})


def _answer(start_response: Callable[..., Any], status: int, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request"}[status]
    start_response(
        f"{status} {reason}", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))]
    )
    return [body]
