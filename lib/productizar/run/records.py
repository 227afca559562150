"""What the runner records of each step: a typed record with a closed set of statuses, saved in
``summary.json`` under the names the contract gives (``docs/hu-file.md``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any


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
