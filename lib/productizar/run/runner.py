"""Run the runbook's step notebooks for one HU and environment, headless, with papermill.

Orchestration only: validate inputs before anything is written, bring the embedded default up if needed,
execute each step's notebook (parameters: HU path, environment, evidence folder, confirmation; never a
secret), save the scrubbed evidence, and keep ``summary.json`` and ``index.html`` current after each step.
A step that already succeeded with the same inputs is not run again unless forced.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
from nbclient.exceptions import DeadKernelError

from productizar.cloud import repository
from productizar.core import naming, paths
from productizar.core.environments import (
    DuckDBZone,
    Environment,
    check_confirmation,
    get_environment,
    uses_embedded,
)
from productizar.core.hu import HU, load_hu
from productizar.core.scrub import Scrubber, default_scrubber
from productizar.local import embedded
from productizar.results_zone import open_zone
from productizar.run import approvals, board, code, evidence, facts, inputs, kernels, lock, promotion
from productizar.run.endpoints import resolve
from productizar.run.headline import Headline
from productizar.run.records import (
    BadRecord,
    DryRun,
    GateRecord,
    Repositories,
    RunSummary,
    StepRecord,
    StepStatus,
    read_run,
)
from productizar.run.registry import STEPS, not_applicable, spec

# the steps that commit to the team's repositories: only their fingerprint depends on the clones given
REPOSITORY_STEPS = frozenset({"infraestructura", "coordinadores"})
NO_NOTEBOOK = "paso sin cuaderno en esta versión"
Source = tuple[dict[str, set[str]], dict[str, tuple[str, str]]]  # code.graph and code.digests of one run


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class RunResult:
    exit_code: int
    output_dir: Path
    steps: list[StepRecord] = field(default_factory=list)


@dataclass
class Runner:
    hu_path: Path
    env_name: str
    steps: list[str]
    force: bool = False
    confirm: str = ""
    # clones of the cloud and coordinators repositories the steps commit to (empty: the evidence folder only),
    # and whether they push; defaults: $PRODUCTIZAR_INFRA_REPO, $PRODUCTIZAR_COORDINATORS_REPO, $PRODUCTIZAR_PUSH
    infra_repo: str = field(default_factory=lambda: os.environ.get(repository.INFRA_REPO_ENV, ""))
    coordinators_repo: str = field(default_factory=lambda: os.environ.get(repository.COORDINATORS_REPO_ENV, ""))
    push: bool = field(default_factory=lambda: os.environ.get(repository.PUSH_ENV, "") == "1")
    notebooks: Path = field(default_factory=paths.notebooks_dir)
    source: Path = code.LIB  # where the package's source is read for each step's code inputs (run/code.py)
    echo: Callable[[str], None] = field(default=lambda line: print(line, flush=True))
    hu: HU = field(init=False)
    env: Environment = field(init=False)
    out: Path = field(init=False)
    gates: list[GateRecord] = field(init=False)
    # what promotion compares (the HU's tables, keys, capacities), computed once
    hu_fingerprint: str = field(init=False)
    # the figures of the run before this one (per step), to say what changed since
    baseline: dict[str, Any] = field(init=False, default_factory=dict)
    # the embedded server the steps would write to, and where its tables' rows came from (_read_instance)
    _server: str = field(init=False, default="")
    _origin_list: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        # validation first: a bad HU or environment stops here, before anything is written
        self.hu_path = Path(self.hu_path).resolve()
        self.hu = load_hu(self.hu_path)
        check_confirmation(self.hu.id, self.confirm, self.hu_path)
        self.env = get_environment(self.env_name)
        self.out = paths.hu_output_dir(self.hu.id, self.env_name)
        for name in self.steps:
            spec(name)  # an unknown step is a usage error before anything runs
        # the promotion's gates, before anything is written: the environment before this one has a green run
        # of each step this run includes, and every manual gate of this one is approved for that evidence
        self.hu_fingerprint = self.hu.promotion_fingerprint()
        self.gates = approvals.states(self.hu, self.env_name, self.env)
        missing = [g.line() for g in self.gates if not g.approved]
        promotion.refuse(self.hu, self.env_name, self.env, self.steps, missing)
        # a clone that cannot take the steps' commits is refused now, not halfway through the run
        self.infra_repo = str(Path(self.infra_repo).expanduser().resolve()) if self.infra_repo else ""
        self.coordinators_repo = (
            str(Path(self.coordinators_repo).expanduser().resolve()) if self.coordinators_repo else ""
        )
        for path, option, branch, step in (
            (self.infra_repo, "--infra-repo", naming.feature_branch(self.hu.id, self.hu.hu.slug), "infraestructura"),
            (self.coordinators_repo, "--coordinators-repo", naming.coordinators_branch(self.hu.id), "coordinadores"),
        ):
            if path and step in self.steps:
                repository.check(repository.Target(Path(path), self.push, option), branch)

    def _repository_environment(self) -> dict[str, str]:
        """What the kernels read to deliver to the clones (``run.step.repository_targets``)."""
        return {
            repository.INFRA_REPO_ENV: self.infra_repo,
            repository.COORDINATORS_REPO_ENV: self.coordinators_repo,
            repository.PUSH_ENV: "1" if self.push else "",
        }

    # ------------------------------------------------------------------------------------------ summary
    def _load_records(self) -> dict[str, StepRecord]:
        """The records of earlier runs, made honest: a step left ``running`` belongs to a run that died (this
        run holds the lock), and an ``ok`` whose facts are gone is not ok any more."""
        try:
            previous = read_run(self.out / evidence.SUMMARY)
        except BadRecord as exc:  # a summary cut short (a full disk) or not a run's: the steps run again
            self.echo(f"{exc}: los pasos se ejecutan de nuevo")
            previous = None
        records = {n: r for n, r in (previous.records() if previous else {}).items() if n in STEPS}
        if previous and any(r.status is not StepStatus.SKIPPED for r in records.values()):  # "changed since"
            self.baseline = {
                "updated_at": previous.updated_at,
                "figures": {n: dict(r.figures) for n, r in records.items() if r.ok and r.figures},
            }
        for name, r in records.items():
            if r.status is StepStatus.RUNNING:
                records[name] = r.but(
                    status=StepStatus.FAILED,
                    fingerprint=None,
                    message="la corrida anterior terminó a mitad de este paso (proceso detenido); "
                    "se ejecutará de nuevo",
                )
            elif r.ok and not facts.facts_file(self.out, name).exists():
                records[name] = r.but(
                    status=StepStatus.FAILED,
                    fingerprint=None,
                    facts={},
                    message="faltan sus resultados (facts); se ejecutará de nuevo",
                )
        return {name: records.get(name) or StepRecord(name) for name in STEPS}

    def _summary(self, records: dict[str, StepRecord]) -> dict[str, Any]:
        """The run's record (``RunSummary``) as ``summary.json`` holds it."""
        statuses = {r.status for r in records.values()}
        order = (StepStatus.FAILED, StepStatus.RUNNING, StepStatus.OK)
        dry = [DryRun(step=r.name, reason=r.dry_run_reason) for r in records.values() if r.ok and r.dry_run]
        return RunSummary(
            hu_id=self.hu.id,
            hu_title=self.hu.hu.title,
            regression=self.hu.hu.regression,
            api=self.hu.api.name,
            environment=self.env_name,
            hu_file=str(self.hu_path),
            hu_fingerprint=self.hu_fingerprint,
            status=next((s for s in order if s in statuses), StepStatus.SKIPPED),
            updated_at=_now(),
            dry_run=bool(dry),
            dry_runs=dry,
            promotes_from=self.env.promotes_from,
            repositories=Repositories(
                infra=self.infra_repo or None, coordinators=self.coordinators_repo or None, push=self.push
            ),
            approvals=list(self.gates),
            previous_run=self.baseline or None,
            changes=board.changes(self.baseline.get("figures", {}), records),
            steps=[records[name] for name in STEPS],
        ).to_json()

    def _inputs(
        self, name: str, nb_path: Path, records: dict[str, StepRecord], sources: dict[str, str]
    ) -> dict[str, str]:
        """A digest of each of the step's own inputs (``run/inputs.py``): its notebook, each source file it
        runs, the HU file, the environment's settings, the confirmation, the clones it commits to, the
        embedded server and its rows' origins, and the facts of the steps the registry declares upstream."""
        out = {f"{inputs.CODE}{path}": sha for path, sha in sources.items()}
        out.update(
            notebook=inputs.digest(nb_path.read_bytes()),
            hu=inputs.digest(self.hu_path.read_bytes()),
            environment=inputs.digest(json.dumps(self.env.model_dump(), sort_keys=True).encode()),
            confirm=inputs.digest(self.confirm.encode()),
            repositories=inputs.digest(
                json.dumps(self._repository_environment() if name in REPOSITORY_STEPS else {}).encode()
            ),
            server=inputs.digest(self._server.encode()),
            origins=inputs.digest("|".join(self._origin_list).encode()),
        )
        for up in spec(name).upstream:
            out[f"{inputs.UPSTREAM}{up}"] = inputs.digest(
                json.dumps(records[up].facts, sort_keys=True, default=str).encode()
            )
        return out

    def _origins(self) -> list[str]:
        """Where each HU table's rows came from, where the results zone records it (the embedded zone's
        seeded tables): part of every step's fingerprint, since no step's inputs say it otherwise."""
        if not isinstance(self.env.results_zone, DuckDBZone):
            return []
        zone = open_zone(resolve(self.env).results_zone)
        return [zone.origin(t.source) or "" for t in self.hu.tables]  # a missing table has none

    # ---------------------------------------------------------------------------------------- execution
    def _execute(
        self, name: str, nb_path: Path, scrubber: Scrubber, ahead: kernels.Ahead, following: str | None
    ) -> tuple[bool, str, pm.PapermillExecutionError | None]:
        """Run one notebook in the kernel started for it (``following``'s starts meanwhile) and save its
        evidence; every way this can fail (a kernel that does not start or dies, a cell's error, a full disk)
        comes back as a failed step with a sentence, never as a traceback."""
        try:
            kernel = ahead.take(name)
            try:
                if following:
                    ahead.prepare(following)
                return self._execute_notebook(name, nb_path, scrubber, kernel)
            finally:
                kernel.close()
        except kernels.KernelNotStarted as exc:
            return False, scrubber(str(exc)), None
        except DeadKernelError as exc:
            return (
                False,
                f"el kernel del cuaderno murió durante la ejecución ({scrubber(str(exc)) or 'sin detalle'})",
                None,
            )
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            return False, f"no se pudo escribir la evidencia{where}: {exc.strerror or exc}", None
        except Exception as exc:  # a timeout, a kernel that never answered, a notebook papermill cannot read
            return False, f"la ejecución del cuaderno falló: {type(exc).__name__}: {scrubber(str(exc))}", None

    def _execute_notebook(
        self, name: str, nb_path: Path, scrubber: Scrubber, kernel: kernels.Kernel
    ) -> tuple[bool, str, pm.PapermillExecutionError | None]:
        """Run one notebook in ``kernel`` into the kernel's private folder, then save the scrubbed evidence."""
        params = {
            "hu_path": str(self.hu_path),
            "env": self.env_name,
            "output_dir": str(self.out),
            "confirm": self.confirm,
        }
        raw = kernel.folder / f"{name}.ipynb"  # private to the run, removed with the kernel
        error: pm.PapermillExecutionError | None = None
        try:
            pm.execute_notebook(
                str(nb_path),
                str(raw),
                parameters=params,
                cwd=str(nb_path.parent),
                progress_bar=False,
                log_output=False,
                km=kernel.manager,
            )
        except pm.PapermillExecutionError as exc:
            error = exc
        if not raw.exists():  # the kernel never ran it: nothing to keep
            return False, f"no se pudo ejecutar el cuaderno {nb_path.name}", error
        evidence.save_notebook(nbformat.read(raw, as_version=4), self.out / f"{name}.ipynb", scrubber)
        if error is None:
            return True, "", None
        return False, f"{error.ename}: {scrubber(error.evalue)}", error

    def _report_failure(self, name: str, error: pm.PapermillExecutionError | None, scrubber: Scrubber) -> None:
        if error is None:
            return
        source = "\n".join("    " + line for line in scrubber(error.source).splitlines())
        print(
            f"\n{name} falló en la celda {error.exec_count}:\n{source}\n  {error.ename}: {scrubber(error.evalue)}",
            file=sys.stderr,
        )
        print(f"  evidencia: {self.out / (name + '.html')}\n", file=sys.stderr)

    def run(self) -> RunResult:
        # a batch is never watched: its kernels must not think a Jupyter server opened them (run/progress.py)
        os.environ.pop("JPY_SESSION_NAME", None)
        os.environ.update(self._repository_environment())  # the notebooks' kernels inherit it
        with lock.hold(self.out, f"HU {self.hu.id} in {self.env_name}"):
            ahead = kernels.Ahead(self.notebooks)
            try:
                if not uses_embedded(self.env):
                    return self._run_steps(ahead)
                first = self._next_applicable(0)
                if first and embedded.running() is None:  # a new server: every step runs; the first kernel
                    ahead.prepare(first)  # starts while the server comes up
                with embedded.in_use(self.echo):
                    return self._run_steps(ahead)
            except OSError as exc:  # the summary itself cannot be written (a full disk): say so, plainly
                print(
                    f"productizar: no se puede escribir la evidencia en {self.out}: {exc.strerror or exc}"
                    f"{f' ({exc.filename})' if exc.filename else ''}. Libere espacio o corrija la carpeta y ejecute "
                    "de nuevo: los pasos sin una corrida correcta registrada se ejecutan otra vez.",
                    file=sys.stderr,
                )
                return RunResult(1, self.out, [])
            finally:
                ahead.close()

    def _run_steps(self, ahead: kernels.Ahead) -> RunResult:
        scrubber = default_scrubber([getattr(self.env.results_zone, "password_env", None) or ""])
        self.out.mkdir(parents=True, exist_ok=True)
        board.write(paths.output_root(), scrubber)  # the index links to it from its first save on
        records = self._load_records()
        self._read_instance()
        return self._steps_in_order(records, self._source(), scrubber, ahead)

    def _read_instance(self) -> None:
        """The embedded server now (a fresh moto holds no stack and no tables: what ran against the previous
        one must run again) and where the tables' rows came from (seeded again: the steps run again)."""
        state = embedded.running() if uses_embedded(self.env) else None
        self._server = f"{state.pid}@{state.started_at}" if state else ""
        self._origin_list = self._origins()

    def plan(self) -> list[str]:
        """What ``run`` would do with each step and why, one Spanish line a step; runs and writes nothing."""
        records = self._load_records()
        self._read_instance()
        source, running, lines = self._source(), set(), []
        for i, name in enumerate(self.steps, 1):
            tag, nb_path = self._tag(i, name), self.notebooks / spec(name).notebook
            reason = NO_NOTEBOOK if not nb_path.exists() else not_applicable(spec(name), self.hu, self.hu_path)
            if reason:
                lines.append(f"{tag} omitido: {reason}")
                continue
            if uses_embedded(self.env) and not self._server:
                because = "el servidor embebido no está en marcha (una corrida lo inicia vacío)"
            else:
                because = inputs.why(records[name], self._step_inputs(name, nb_path, records, source), self.force)
            waiting = [up for up in spec(name).upstream if up in running]
            if because:
                running.add(name)
                lines.append(f"{tag} se ejecutaría: {because}")
            elif waiting:
                running.add(name)
                lines.append(f"{tag} se ejecutaría si cambian los hechos de {', '.join(waiting)}")
            else:
                lines.append(f"{tag} al día desde {records[name].ended_at}")
        return lines

    def _tag(self, position: int, name: str) -> str:
        """``[ 2/11] dimensionamiento``: where a step's line starts, in ``run`` and in ``--plan``."""
        total = len(self.steps)
        return f"[{position:>{len(str(total))}}/{total}] {name:<16}"

    def _source(self) -> Source:
        """The package's import graph and each file's digest, read once for every step of the run."""
        return code.graph(self.source), code.digests(self.source)

    def _step_inputs(self, name: str, nb_path: Path, records: dict[str, StepRecord], source: Source) -> dict[str, str]:
        return self._inputs(name, nb_path, records, code.step_sources(name, *source))

    def _next_applicable(self, position: int) -> str | None:
        """The first step after ``position`` (1-based) that has a notebook and applies to the HU."""
        for name in self.steps[position:]:
            step = spec(name)
            if (self.notebooks / step.notebook).exists() and not not_applicable(step, self.hu, self.hu_path):
                return name
        return None

    def _steps_in_order(
        self, records: dict[str, StepRecord], source: Source, scrubber: Scrubber, ahead: kernels.Ahead
    ) -> RunResult:
        failed: str | None = None
        for i, name in enumerate(self.steps, 1):
            tag = self._tag(i, name)
            nb_path = self.notebooks / spec(name).notebook
            if failed:
                records[name] = StepRecord.skipped(name, f"no se ejecutó: falló el paso «{failed}»")
                self.echo(f"{tag} omitido: falló el paso «{failed}»")
                continue
            if not nb_path.exists():
                records[name] = StepRecord.skipped(name, NO_NOTEBOOK)
                self.echo(f"{tag} omitido: {NO_NOTEBOOK}")
                continue
            reason = not_applicable(spec(name), self.hu, self.hu_path)
            if reason:  # the HU does not give what the step needs: said, not failed, and nothing executed
                records[name] = StepRecord.skipped(name, reason).but(
                    started_at=_now(),
                    ended_at=_now(),
                    headline=reason,  # the board shows why, not only "omitido"
                )
                self.echo(f"{tag} omitido: {reason}")
                continue
            now = self._step_inputs(name, nb_path, records, source)
            fingerprint = inputs.fingerprint(now)
            prev = records[name]
            because = inputs.why(prev, now, self.force)
            if not because:
                self.echo(f"{tag} al día desde {prev.ended_at} (--force para ejecutarlo de nuevo)")
                continue
            t0, started = time.monotonic(), _now()
            # recorded before its facts are touched: if this process dies, the summary says so
            records[name] = StepRecord(
                name, status=StepStatus.RUNNING, started_at=started, message=f"en ejecución (pid {os.getpid()})"
            )
            evidence.save_summary(self.out, self._summary(records), scrubber)
            if self.force:  # a forced step starts over: no checkpoint of an earlier run is resumed
                shutil.rmtree(evidence.state_dir(self.out, name), ignore_errors=True)
            facts.facts_file(self.out, name).unlink(missing_ok=True)
            wall = time.time() - 1  # file times are coarse: a margin, never a miss
            ok, message, error = self._execute(name, nb_path, scrubber, ahead, self._next_applicable(i))
            # the notebook and its HTML were checked as they were written: the sweep reads the rest
            own = {self.out / f"{name}.ipynb", self.out / f"{name}.html"}
            removed = evidence.sweep(self.out, wall, scrubber, checked=own)
            if removed:
                ok, message = False, " ".join(removed)
            duration = round(time.monotonic() - t0, 1)
            fact_path = facts.facts_file(self.out, name)
            found = facts.load(self.out, name) if ok and fact_path.exists() else {}
            if ok and not fact_path.exists():
                ok, message = False, "el cuaderno terminó sin guardar sus resultados (facts) para los pasos siguientes"
            if not ok:
                fact_path.unlink(missing_ok=True)  # a failed step hands nothing on
            line = Headline.from_fact(found.get("headline")) or Headline("")
            records[name] = StepRecord(
                name=name,
                status=StepStatus.OK if ok else StepStatus.FAILED,
                started_at=started,
                ended_at=_now(),
                duration_s=duration,
                message=message,
                facts=found,
                fingerprint=fingerprint if ok else None,
                inputs=now if ok else {},
                ran_because=because,
                notebook=f"{name}.ipynb" if (self.out / f"{name}.ipynb").exists() else None,
                html=f"{name}.html" if (self.out / f"{name}.html").exists() else None,
                hu_fingerprint=self.hu_fingerprint if ok else None,
                headline=line.text if ok else "",
                figures=line.figures if ok else {},
                dry_run=line.dry_run and ok,
                dry_run_reason=line.reason if ok else None,
            )
            evidence.save_summary(self.out, self._summary(records), scrubber)
            self.echo(f"{tag} {'correcto' if ok else 'FALLÓ'} ({duration:.1f} s) · {because}")
            if not ok:
                failed = name
                self._report_failure(name, error, scrubber)
        summary = self._summary(records)
        evidence.save_summary(self.out, summary, scrubber)
        self.echo(f"evidencia: {self.out / evidence.INDEX}")
        self.echo(f"tablero: {board.write(paths.output_root(), scrubber)}")
        return RunResult(1 if failed else 0, self.out, [records[name] for name in STEPS])
