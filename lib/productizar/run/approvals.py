"""Recorded approvals of the manual gates: an append-only log beside the evidence, read into gate states.

``outputs/HU<id>/<env>/approvals.jsonl`` holds one JSON line per approval: the gate, who approved, when,
the reference (the e-mail, the HA number) and the hash of the evidence the approver saw (the run of the
environment this one follows, ``promotion.evidence_hash``). An approval counts while that evidence is the
current one; when the evidence changes (a step run again there) the approval is stale and asked for anew.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from productizar.core import paths
from productizar.core.environments import Environment
from productizar.core.errors import BadInput
from productizar.core.gates import Gate, gates_of
from productizar.core.hu import HU
from productizar.core.scrub import default_scrubber
from productizar.run import promotion
from productizar.run.records import GateRecord, GateStatus

LOG = "approvals.jsonl"


class ApprovalRefused(BadInput):
    """An approval that cannot be recorded as asked (an unknown gate, evidence that changed): none was."""


@dataclass(frozen=True)
class Approval:
    gate: str
    by: str
    at: str
    ref: str
    evidence: str | None  # the hash of the evidence the approval saw
    hu_id: int
    environment: str


def log_path(hu_id: int, env_name: str) -> Path:
    return paths.hu_output_dir(hu_id, env_name) / LOG


def read_log(path: Path) -> list[Approval]:
    """Every approval of the log, oldest first; a line that is not an approval (cut short) is skipped."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
            out.append(Approval(**{k: data[k] for k in Approval.__dataclass_fields__}))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def current_evidence(hu: HU, env: Environment, env_name: str) -> str | None:
    """The hash of the evidence an approval in ``env_name`` vouches for: the run of the environment it
    follows (its own run when it follows none)."""
    before = promotion.earlier(hu, env)
    if before is not None:
        return promotion.evidence_hash(before.summary)
    return promotion.evidence_hash(promotion.read_summary(hu.id, env_name))


def _who(a: Approval) -> dict[str, Any]:
    return {"by": a.by, "at": a.at, "ref": a.ref, "evidence": a.evidence}


def states(hu: HU, env_name: str, env: Environment) -> list[GateRecord]:
    """Each gate of the environment with its state against the current evidence, in the runbook's order."""
    gates = gates_of(env_name, env)
    if not gates:  # nothing to approve: no evidence to read
        return []
    now = current_evidence(hu, env, env_name)
    log = read_log(log_path(hu.id, env_name))
    out = []
    for g in gates:
        mine = [a for a in log if a.gate == g.id]
        good = [a for a in mine if a.evidence == now and now is not None]
        if good:
            a = good[-1]
            out.append(GateRecord(gate=g.id, title=g.title, state=GateStatus.APPROVED, **_who(a)))
        elif mine:
            a = mine[-1]
            out.append(GateRecord(gate=g.id, title=g.title, state=GateStatus.STALE, **_who(a)))
        else:
            out.append(GateRecord(gate=g.id, title=g.title, state=GateStatus.PENDING))
    return out


def missing(hu: HU, env_name: str, env: Environment) -> list[str]:
    """One line per gate not approved for the current evidence (empty: the run may go on)."""
    return [s.line() for s in states(hu, env_name, env) if not s.approved]


def _gate(gates: list[Gate], gate_id: str, env_name: str) -> Gate:
    for g in gates:
        if g.id == gate_id:
            return g
    known = ", ".join(g.id for g in gates) or "none"
    raise ApprovalRefused(f"{gate_id!r} is not a gate of {env_name} (its gates: {known}); nothing was recorded")


def approve(
    hu: HU, env_name: str, env: Environment, gate_id: str, by: str, ref: str, seen: str | None = None
) -> Approval:
    """Append one approval to the log. Refused, with nothing written, for a gate the environment does not
    have, with no name or reference, with no evidence to approve yet, or when ``seen`` (the evidence hash
    the approver looked at) is not the current evidence."""
    gate = _gate(gates_of(env_name, env), gate_id, env_name)
    if not by.strip() or not ref.strip():
        raise ApprovalRefused("an approval needs --by (who approved) and --ref (the e-mail, HA or ticket)")
    now = current_evidence(hu, env, env_name)
    where = env.promotes_from or env_name
    if now is None:
        raise ApprovalRefused(
            f"there is no evidence of HU {hu.id} in {where} to approve yet: run it there first; nothing was recorded"
        )
    if seen is not None and seen != now:
        raise ApprovalRefused(
            f"the evidence of HU {hu.id} in {where} changed since {seen} (it is now {now}): look at it again "
            "and approve what it is now; nothing was recorded"
        )
    scrub = default_scrubber()
    record = Approval(
        gate.id,
        scrub(by.strip()),
        datetime.now(UTC).isoformat(timespec="seconds"),
        scrub(ref.strip()),
        now,
        hu.id,
        env_name,
    )
    path = log_path(hu.id, env_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(record), ensure_ascii=False) + "\n"
    with open(path, "a", encoding="utf-8") as fh:  # append-only: one whole line, under a lock, on disk
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())
        fcntl.flock(fh, fcntl.LOCK_UN)
    return record
