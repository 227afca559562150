"""The runbook's manual gates (``parameters/gates.yaml``): what a person approves before a run may go on.

The tool cannot send the E2E-exception mail or certify a release; it can say which gates an environment
needs (``environments.yaml``: ``gates``), what each asks for, and refuse a run until each is approved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from productizar.core import paths
from productizar.core.environments import Environment
from productizar.core.errors import UsageError
from productizar.core.problem import Loc
from productizar.core.problems import load_yaml_model

GATE_ID = r"^[a-z][a-z0-9_]*$"


class Gate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=GATE_ID)]
    title: Annotated[str, Field(min_length=3)]
    action: Annotated[str, Field(min_length=3)]
    deliver: Annotated[str, Field(min_length=3)]
    # its mail carries the HU's AHP matrix (documents.ahp_matrix): the action says so when the HU has none
    needs_ahp: bool = False

    def texts(self, api: str, hu_id: int, has_ahp: bool = True) -> tuple[str, str, str]:
        """Title, what to do and what to hand over, with the HU's own names."""
        action = self.action + ("" if has_ahp or not self.needs_ahp else " y adjuntar la Matriz AHP (la HU no la trae)")
        title, action, deliver = (t.format(api=api, hu_id=hu_id) for t in (self.title, action, self.deliver))
        return title, action, deliver


class GatesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    gates: Annotated[list[Gate], Field(min_length=1)]


def _unique(raw: Any) -> list[tuple[Loc, str]]:
    seen: set[Any] = set()
    out: list[tuple[Loc, str]] = []
    for i, g in enumerate(raw.get("gates") or [] if isinstance(raw, dict) else []):
        gid = g.get("id") if isinstance(g, dict) else None
        if gid in seen:
            out.append((("gates", i, "id"), f"{gid!r} is already the id of an earlier gate"))
        seen.add(gid)
    return out


def load_gates(path: str | Path | None = None) -> list[Gate]:
    """Every manual gate, in the runbook's order."""
    return load_yaml_model(path or paths.gates_file(), GatesFile, _unique).gates


def gates_of(env_name: str, env: Environment, path: str | Path | None = None) -> list[Gate]:
    """The gates a run in ``env_name`` needs approved, in the runbook's order; an id that names no gate is
    an error in the environments file, said with the field."""
    known = {g.id: g for g in load_gates(path)}
    unknown = [g for g in env.gates if g not in known]
    if unknown:
        raise UsageError(
            f"{paths.shown(paths.environments_file())}: {env_name}.gates names {', '.join(unknown)}, which "
            f"{'is not a gate' if len(unknown) == 1 else 'are not gates'} of {paths.shown(paths.gates_file())} "
            f"(the gates are: {', '.join(known)})"
        )
    return [known[g] for g in known if g in env.gates]
