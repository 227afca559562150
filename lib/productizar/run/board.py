"""The board: every HU under ``outputs/`` × environment, its state, its last run and each step's headline.

``productizar status`` prints it; ``outputs/index.html`` is the same board as a page, linking to each HU's
evidence. It reads only the ``summary.json`` files the runner writes (the contract other tools read too),
so it shows what the evidence says, never what a process remembers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from productizar.core.environments import load_environments
from productizar.core.errors import BadInput
from productizar.core.files import write_text
from productizar.core.scrub import Scrubber
from productizar.run import evidence, templates
from productizar.run.records import BadRecord, GateRecord, StepRecord, StepStatus, read_run
from productizar.run.registry import STEPS

INDEX = "index.html"
LABELS = evidence.LABELS


@dataclass(frozen=True)
class Row:
    """One HU in one environment, as its summary.json says."""

    hu_id: int
    title: str
    environment: str
    status: StepStatus
    updated_at: str
    folder: str  # relative to outputs/
    steps: list[StepRecord] = field(default_factory=list)
    dry_runs: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[GateRecord] = field(default_factory=list)
    problem: str | None = None  # a summary that could not be read

    @property
    def approved(self) -> str:
        done = sum(1 for a in self.approvals if a.approved)
        return f"{done}/{len(self.approvals)}" if self.approvals else ""

    def as_json(self) -> dict[str, Any]:
        return {
            "hu_id": self.hu_id,
            "hu_title": self.title,
            "environment": self.environment,
            "status": self.status.value,
            "updated_at": self.updated_at,
            "evidence": f"{self.folder}/{evidence.INDEX}",
            "dry_run": bool(self.dry_runs),
            "dry_runs": self.dry_runs,
            "approvals": [a.as_json() for a in self.approvals],
            "problem": self.problem,
            "steps": [
                {
                    "name": r.name,
                    "status": r.status.value,
                    "headline": r.headline,
                    "dry_run": r.dry_run,
                    "dry_run_reason": r.dry_run_reason,
                }
                for r in self.steps
            ],
        }


def _env_order() -> dict[str, int]:
    """Environments in the order ``environments.yaml`` declares them (a file that cannot be read: by name)."""
    try:
        return {name: i for i, name in enumerate(load_environments())}
    except BadInput:
        return {}


def collect(root: Path) -> list[Row]:
    """Every ``HU<id>/<env>/summary.json`` under ``root``, by HU then environment, but the regression HU's."""
    rows = []
    for path in root.glob("HU*/*/" + evidence.SUMMARY):
        folder = path.parent.relative_to(root).as_posix()
        hu_text = path.parent.parent.name.removeprefix("HU")
        try:
            s = read_run(path)
        except BadRecord as exc:  # shown as such; every other HU's row stands
            hu_id = int(hu_text) if hu_text.isdigit() else 0
            rows.append(Row(hu_id, "", path.parent.name, StepStatus.FAILED, "", folder, problem=str(exc)))
            continue
        if s is None or s.regression:  # gone meanwhile, or the project's own regression HU: not work
            continue
        rows.append(
            Row(
                s.hu_id,
                s.hu_title,
                s.environment,
                s.status,
                s.updated_at,
                folder,
                [r for r in s.steps if r.name in STEPS],
                [d.model_dump() for d in s.dry_runs],
                list(s.approvals),
            )
        )
    order = _env_order()
    return sorted(rows, key=lambda r: (r.hu_id, order.get(r.environment, len(order)), r.environment))


def changes(before: dict[str, dict[str, Any]], records: dict[str, StepRecord]) -> list[dict[str, Any]]:
    """What changed since the previous run of the same HU and environment: each figure (counts, checks,
    capacities) whose value differs, per step, with both values."""
    out = []
    for name in STEPS:
        r = records.get(name)
        if r is None or not r.ok or name not in before:
            continue
        old, new = before[name], r.figures
        for label in dict.fromkeys([*old, *new]):
            if old.get(label) != new.get(label):
                out.append({"step": name, "figure": label, "before": old.get(label), "after": new.get(label)})
    return out


DRY = "simulación: "


def _cell(r: StepRecord) -> str:
    return LABELS.get(r.status.value, r.status.value) + (" · simulación" if r.dry_run else "")


def render_text(rows: list[Row]) -> str:
    """The board as ``productizar status`` prints it."""
    if not rows:
        return "No runs yet under outputs/: run `productizar run <HU file> --env <env>` first."
    out = []
    for row in rows:
        gates = f" · compuertas aprobadas {row.approved}" if row.approved else ""
        dry = " · SIMULACIÓN" if row.dry_runs else ""
        out.append(
            f"HU {row.hu_id} · {row.title} · {row.environment}: {LABELS[row.status.value]}"
            f" · última corrida {row.updated_at or '—'}{gates}{dry}"
        )
        if row.problem:
            out.append(f"    {row.problem}")
        width = max((len(s.name) for s in row.steps), default=0)
        for s in row.steps:
            detail = s.headline or (s.message if s.status is not StepStatus.OK else "")
            if s.dry_run:  # the cell already says simulación: the line says what and why
                detail = detail.removeprefix(DRY) + (
                    f" ({s.dry_run_reason.removeprefix(DRY)})" if s.dry_run_reason else ""
                )
            out.append(f"    {s.name:<{width}}  {_cell(s):<24} {detail}".rstrip())
        out.append("")
    return "\n".join(out).rstrip() + "\n"


_PAGE = templates.get_template("board.html.j2")


def render_html(rows: list[Row]) -> str:
    return _PAGE.render(rows=rows, steps=STEPS, labels=LABELS)


def write(root: Path, scrubber: Scrubber) -> Path:
    """Write ``outputs/index.html`` from every summary under ``root``; returns its path."""
    path = root / INDEX
    write_text(path, render_html(collect(root)), scrubber)
    return path
