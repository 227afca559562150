"""The world a step notebook's nbval test starts from, brought about on demand.

A notebook's golden outputs were recorded in a batch: every earlier step had run, from an empty AWS, into one
evidence folder. Each notebook's test asks for that world here before its first cell, so a notebook can be
tested alone (``pytest notebooks/verificacion.ipynb``) and in any order. What is there already is kept when
it is compatible: in runbook order nothing is ever redone.

The world is the list of steps run against the session's embedded default since its last reset. A notebook
needs the steps the registry declares upstream of it, transitively; a step that writes to AWS may only be in
the world if it comes before the notebook in the runbook (the batch had run it), and the missing upstream
writers must come after every writer already there. Otherwise AWS is reset, the evidence folder emptied and
the upstream steps run again, headless, through the runner (as ``productizar run --steps`` would).

``consecutivo`` counts as a reader: nbval runs it without confirmation, a dry run that writes nothing.

Other tests share the session's embedded default and evidence folder. What the notebooks see of them (the
regression HU's stack and tables: their status, creation and item counts; the steps' facts) is observed after each
notebook; a notebook that finds it changed does not trust the world and starts from an empty AWS.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from productizar.cloud import aws
from productizar.core import naming, paths
from productizar.core.environments import get_environment
from productizar.core.hu import load_hu
from productizar.local import embedded
from productizar.run.endpoints import resolve
from productizar.run.registry import STEPS, spec
from productizar.run.runner import Runner

HU_FILE = paths.regression_hu()  # the notebooks' default
ENV = "local"
POSITION = {name: i for i, name in enumerate(STEPS)}


def closure(step: str) -> list[str]:
    """Every step ``step`` builds on, directly or through another, in runbook order."""
    found: set[str] = set()
    pending = list(spec(step).upstream)
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending.extend(spec(name).upstream)
    return [s for s in STEPS if s in found]


def writes(step: str) -> bool:
    """Whether running the step's notebook unconfirmed changes what a later notebook sees."""
    return spec(step).writes_shared and not spec(step).always_confirm


def observe() -> str:
    """What the notebooks see of the shared embedded default and evidence folder, as text to compare:
    the stack's status and last change, each table's status, creation and item count (not its capacity,
    which autoscaling moves on its own), and the steps' facts."""
    hu = load_hu(HU_FILE)
    facts = paths.hu_output_dir(hu.id, ENV) / "facts"
    seen: list[object] = [[f.name, hashlib.sha256(f.read_bytes()).hexdigest()] for f in sorted(facts.glob("*.json"))]
    env = resolve(get_environment(ENV))
    cfn, ddb = aws.client(env, "cloudformation"), aws.client(env, "dynamodb")
    try:
        stack = cfn.describe_stacks(StackName=naming.stack_name(hu.api.slug))["Stacks"][0]
        seen.append([stack["StackStatus"], stack.get("LastUpdatedTime") or stack["CreationTime"]])
    except ClientError:
        seen.append(None)
    for table in hu.tables:
        try:
            found = ddb.describe_table(TableName=table.names.dynamo_table)["Table"]
            seen.append([found["TableStatus"], found["CreationDateTime"], found["ItemCount"]])
        except ClientError:
            seen.append(None)
    return json.dumps(seen, default=str)


@dataclass
class World:
    """What the session's embedded default holds, as the steps run into it; ``None``: not known."""

    steps: list[str] | None = None
    rebuilt: list[tuple[str, list[str]]] = field(default_factory=list)  # (notebook, steps run for it)
    seen: str = ""  # what the world looked like when the last notebook left it (``observe``)

    def plan(self, step: str) -> tuple[bool, list[str]]:
        """Whether AWS must be reset first, and the steps to run before ``step``'s notebook."""
        needed = closure(step)
        if self.steps is None:
            return True, needed
        missing = [s for s in needed if s not in self.steps]
        writers = [w for w in self.steps if writes(w)]
        later = [w for w in writers if POSITION[w] >= POSITION[step]]
        out_of_order = [m for m in missing if writes(m) and any(POSITION[w] > POSITION[m] for w in writers)]
        if later or out_of_order:
            return True, needed
        return False, missing

    def prepare(self, step: str) -> None:
        """Bring the world to what ``step``'s notebook was recorded on."""
        if self.steps is not None and observe() != self.seen:  # another test changed it
            self.steps = None
        reset, run = self.plan(step)
        if reset:
            embedded.reset()
            shutil.rmtree(paths.hu_output_dir(load_hu(HU_FILE).id, ENV), ignore_errors=True)
            self.steps = []
        if run:
            self.rebuilt.append((step, run))
            lines: list[str] = []
            result = Runner(HU_FILE, ENV, run, force=True, echo=lines.append).run()
            if result.exit_code != 0:
                self.steps = None
                raise RuntimeError(f"the steps before {step} failed to run: " + " | ".join(lines))
            print(f"\n[{step}: ran {', '.join(run)} first]", file=sys.stderr)
        assert self.steps is not None
        self.steps.extend(run)
        self.seen = observe()

    def finished(self, step: str, whole: bool) -> None:
        """The notebook ran: every cell passed (``whole``), or the world is no longer known."""
        if whole and self.steps is not None:
            self.steps.append(step)
            self.seen = observe()
        else:
            self.steps = None
