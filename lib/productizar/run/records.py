"""What the runner records of a run: each step's typed record with a closed set of statuses, and the
run's record around them (``RunSummary``), saved as ``summary.json`` under the names the contract gives
(``docs/hu-file.md``) and read back through ``read_run`` by everything that reads a run: the runner, the
board, promotion and approvals. Its JSON Schema is published as ``schemas/summary.schema.json``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, computed_field, field_validator

from productizar.core.errors import ProductizarError
from productizar.core.problem import format_loc


class StepStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"
    # recorded before a step touches its facts: a run that dies mid-step leaves this, never a stale "ok"
    RUNNING = "running"


@dataclass(frozen=True)
class StepRecord:
    name: str
    status: StepStatus = StepStatus.SKIPPED
    started_at: str | None = None
    ended_at: str | None = None
    duration_s: float | None = None
    message: str = "no ejecutado todavía"
    facts: dict[str, Any] = field(default_factory=dict)
    fingerprint: str | None = None
    # each input's digest when it ran (run/inputs.py), and why it ran: what the next run compares and says
    inputs: dict[str, str] = field(default_factory=dict)
    ran_because: str = ""
    notebook: str | None = None
    html: str | None = None
    # what the promotion compares: the HU's tables, keys and capacities when this step ran (HU.promotion_fingerprint)
    hu_fingerprint: str | None = None
    # the step's headline for the board (run/headline.py) and the figures compared run to run
    headline: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    # a writing step that did not write, and why: "simulación" at a glance
    dry_run: bool = False
    dry_run_reason: str | None = None

    @classmethod
    def skipped(cls, name: str, message: str) -> StepRecord:
        return cls(name, message=message)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepRecord:
        """A record as ``summary.json`` holds it; an unknown status is read as not run."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        try:
            known["status"] = StepStatus(known.get("status", StepStatus.SKIPPED))
        except ValueError:
            known["status"] = StepStatus.SKIPPED
        return cls(**known)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status.value
        return out

    def but(self, **changes: Any) -> StepRecord:
        return replace(self, **changes)

    @property
    def ok(self) -> bool:
        return self.status is StepStatus.OK


class GateStatus(StrEnum):
    """A manual gate's state against the current evidence, in the words the evidence shows."""

    APPROVED = "aprobada"
    PENDING = "pendiente"
    STALE = "vencida"  # approved for evidence that changed since


class GateRecord(BaseModel):
    """One manual gate of the environment and its state when the run started (``run/approvals.py``)."""

    model_config = ConfigDict(frozen=True)

    gate: str
    title: str
    state: GateStatus
    by: str | None = None
    at: str | None = None
    ref: str | None = None
    evidence: str | None = None  # the hash of the evidence the approval saw

    @computed_field  # type: ignore[prop-decorator]
    @property
    def approved(self) -> bool:
        return self.state is GateStatus.APPROVED

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def line(self) -> str:
        if self.state is GateStatus.APPROVED:
            return f"{self.gate}: aprobada por {self.by} el {self.at} ({self.ref})"
        if self.state is GateStatus.STALE:
            return f"{self.gate}: vencida, la evidencia cambió desde que {self.by} la aprobó el {self.at}"
        return f"{self.gate}: pendiente ({self.title})"


class DryRun(BaseModel):
    step: str
    reason: str | None = None


class Repositories(BaseModel):
    infra: str | None = None
    coordinators: str | None = None
    push: bool = False


class RunSummary(BaseModel):
    """One HU's run in one environment, as ``summary.json`` holds it. Fields a later version adds are kept
    (``extra``); a record an earlier version wrote loads with the defaults for what it lacks."""

    model_config = ConfigDict(extra="allow")

    hu_id: int
    environment: str
    hu_title: str = ""
    regression: bool = False  # the project's own regression HU: never shown as work on the board
    api: str = ""
    hu_file: str = ""
    hu_fingerprint: str | None = None
    status: StepStatus = StepStatus.SKIPPED
    updated_at: str = ""
    dry_run: bool = False
    dry_runs: list[DryRun] = []
    promotes_from: str | None = None
    repositories: Repositories = Repositories()
    approvals: list[GateRecord] = []
    previous_run: dict[str, Any] | None = None
    changes: list[dict[str, Any]] = []
    steps: list[StepRecord] = []

    @field_validator("steps", mode="before")
    @classmethod
    def _known_steps(cls, value: Any) -> Any:
        """Each step's record as ``StepRecord.from_json`` reads it (an unknown status: not run)."""
        if not isinstance(value, list):
            return value
        return [StepRecord.from_json(r) if isinstance(r, dict) and isinstance(r.get("name"), str) else r for r in value]

    def records(self) -> dict[str, StepRecord]:
        return {r.name: r for r in self.steps}

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")  # each step as StepRecord.to_json writes it


class BadRecord(ProductizarError):
    """A ``summary.json`` that is not a run's record: the sentence names the file and the first field."""


def read_run(path: Path) -> RunSummary | None:
    """The run recorded at ``path`` (None when there is none); ``BadRecord`` when it cannot be one."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BadRecord(f"{path}: no se pudo leer ({exc.strerror or exc})") from None
    try:
        return RunSummary.model_validate(json.loads(text))
    except ValueError as exc:  # not JSON (a file cut short), or JSON that is not a run's record
        if not isinstance(exc, ValidationError):
            why = "no es JSON válido; quizá quedó a medio escribir"
        elif not exc.errors()[0]["loc"]:
            why = "no es un objeto JSON con los campos de una corrida"
        else:
            first = exc.errors()[0]
            shown = json.dumps(first.get("input"), ensure_ascii=False, default=str)[:60]
            why = f"«{format_loc(tuple(first['loc']))}» no admite el valor {shown}"
        raise BadRecord(f"{path}: no es el registro de una corrida ({why})") from None


def summary_schema() -> dict[str, Any]:
    """The JSON Schema of ``summary.json``, as published in ``schemas/summary.schema.json``."""
    schema = RunSummary.model_json_schema(mode="serialization")  # what the file holds, computed fields too
    schema["$id"] = "https://productizar/schemas/summary.schema.json"
    schema["title"] = "summary.json: one HU's run in one environment"
    return schema
