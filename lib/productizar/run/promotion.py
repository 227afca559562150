"""Promotion gates: a run in an environment follows a green run of the same HU in the one before it.

``environments.yaml`` says which environment each one follows (``promotes_from``). Before anything is
written, a run there is refused, with the reason per step, when that environment has no green run of each
step it includes, made with the same tables, keys and capacities (``HU.promotion_fingerprint``). The
evidence a promotion rests on is named by a hash (``evidence_hash``): an approval records the one it saw.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from productizar.core import paths
from productizar.core.environments import Environment
from productizar.core.errors import BadInput
from productizar.core.hu import HU
from productizar.run import evidence
from productizar.run.records import BadRecord, RunSummary, StepRecord, StepStatus, read_run
from productizar.run.registry import missing_sections, spec


class PromotionRefused(BadInput):
    """The environment before this one has no green run of what this run would do: nothing was run."""


@dataclass(frozen=True)
class Earlier:
    """The run of the same HU in the environment this one follows (None fields: it never ran there)."""

    env_name: str
    summary: RunSummary | None

    @property
    def records(self) -> dict[str, StepRecord]:
        return self.summary.records() if self.summary else {}


def read_summary(hu_id: int, env_name: str) -> RunSummary | None:
    """An environment's run of the HU; None when there is none or it is not a run's record (cut short, not
    a file): as good as no run, for a gate."""
    try:
        return read_run(paths.hu_output_dir(hu_id, env_name) / evidence.SUMMARY)
    except BadRecord:
        return None


def earlier(hu: HU, env: Environment) -> Earlier | None:
    """The evidence of the environment ``env`` follows, or None when it follows none."""
    if not env.promotes_from:
        return None
    return Earlier(env.promotes_from, read_summary(hu.id, env.promotes_from))


def why_not_green(record: StepRecord | None, fingerprint: str) -> str | None:
    """Why a step's record in the earlier environment does not let it be promoted; None when it does."""
    if record is None or record.status is StepStatus.SKIPPED:
        return "has not run there"
    if record.status is not StepStatus.OK:
        return f"is {record.status.value} there"
    if record.hu_fingerprint != fingerprint:
        return "ran there with other tables, keys or capacities (the HU file changed since): run it there again"
    s = spec(record.name)
    # a reservation's write belongs to PRD: its dry run in DEV or QA is what those environments do
    if record.dry_run and s.writes_shared and not s.always_confirm:
        return f"ran there as a dry run ({record.dry_run_reason or 'nothing was written'})"
    return None


def check(hu: HU, env_name: str, env: Environment, steps: list[str]) -> list[str]:
    """The reasons this run may not go ahead in ``env_name`` yet (empty: it may)."""
    before = earlier(hu, env)
    if before is None:
        return []
    if before.summary is None:
        return [f"{before.env_name} has no run of HU {hu.id}: run it there first (`--env {before.env_name}`)"]
    records, fingerprint = before.records, hu.promotion_fingerprint()
    out = []
    for name in steps:
        if missing_sections(spec(name), hu):  # skipped here too, for the same missing section: nothing to promote
            continue
        reason = why_not_green(records.get(name), fingerprint)
        if reason:
            out.append(f"{name} {reason}")
    return out


def evidence_hash(summary: RunSummary | None) -> str | None:
    """What names a run's evidence: every step's state, fingerprint and end (a step run again changes it)."""
    if not summary:
        return None
    steps = [[r.name, r.status.value, r.fingerprint, r.hu_fingerprint, r.ended_at] for r in summary.steps]
    payload = json.dumps([summary.hu_id, summary.environment, steps], sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()[:16]


def refuse(hu: HU, env_name: str, env: Environment, steps: list[str], missing_gates: list[str]) -> None:
    """Raise ``PromotionRefused`` listing every reason (earlier environment, then gates) when there is one."""
    reasons = check(hu, env_name, env, steps)
    if not reasons and not missing_gates:
        return
    lines = [f"HU {hu.id} cannot run in {env_name} yet; nothing was run."]
    if reasons:
        lines.append(f"{env_name} follows {env.promotes_from}, where:")
        lines += [f"  - {r}" for r in reasons]
    if missing_gates:
        lines.append(f"{env_name} needs these manual gates approved (productizar approve ... --gate <id>):")
        lines += [f"  - {g}" for g in missing_gates]
    raise PromotionRefused("\n".join(lines))
