"""What a step notebook calls first: load the HU and the environment, and show errors as sentences.

A notebook's cells stay thin: ``paso = start("conteo", hu_path, env, output_dir, confirm)`` gives every
later cell what it needs through its step module (the HU, the resolved environment, the results zone, the
facts of the declared upstream steps, the write mode). The same call works under papermill and when an
analyst steps through by hand in JupyterLab.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from productizar.cloud import aws, repository
from productizar.core import paths
from productizar.core.environments import (
    EMBEDDED,
    Environment,
    WriteMode,
    check_confirmation,
    confirmed_mode,
    get_environment,
    write_mode,
)
from productizar.core.errors import ProductizarError, StepNotApplicable
from productizar.core.hu import HU, load_hu
from productizar.results_zone import open_zone
from productizar.results_zone.base import ResultsZone
from productizar.run import approvals, evidence, facts, promotion
from productizar.run.endpoints import embedded_api, resolve
from productizar.run.registry import StepSpec, not_applicable, spec

M = TypeVar("M", bound=BaseModel)


def _show_plainly() -> None:
    """In IPython, show every ProductizarError (bad input included) as one line, not a traceback.

    The cell still fails (papermill and the runner see the error); the analyst reads a sentence.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - plain Python
        return
    ip = get_ipython()
    if ip is None:
        return

    def handler(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> list[str]:
        stb = [f"{etype.__name__}: {value}"]
        shell._showtraceback(etype, value, stb)
        return stb

    ip.set_custom_exc((ProductizarError,), handler)


@dataclass(frozen=True)
class Step:
    """One step's view of the run: HU, resolved environment, evidence folder and confirmation."""

    spec: StepSpec
    hu: HU
    hu_path: Path
    env_name: str
    env: Environment
    output_dir: Path
    confirm: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def state_dir(self) -> Path:
        """What this step keeps between its runs (checkpoints); the runner empties it on ``--force``."""
        return evidence.state_dir(self.output_dir, self.name)

    def zone(self) -> ResultsZone:
        return open_zone(self.env.results_zone)

    def client(self, service: str, max_attempts: int | None = None) -> Any:
        return aws.client(self.env, service, max_attempts)

    @property
    def write_mode(self) -> WriteMode:
        """Whether this step may write to the shared environment, and why (the registry says it writes)."""
        if not self.spec.writes_shared:
            raise ProductizarError(f"El paso «{self.name}» no escribe en el entorno según el registro de pasos.")
        if self.spec.always_confirm:
            return confirmed_mode(self.hu.id, self.confirm)
        return write_mode(self.env, self.hu.id, self.confirm, self.env_name)

    def record(self, found: dict[str, Any] | BaseModel) -> str:
        """Save this step's facts for later steps and the summary; returns a sentence saying so."""
        data = found.model_dump(mode="json") if isinstance(found, BaseModel) else found
        path = facts.record(self.output_dir, self.name, data)
        return f"Resultados guardados para los pasos siguientes en facts/{path.name}."

    def _upstream(self, step: str) -> None:
        if step not in self.spec.upstream:
            raise ProductizarError(
                f"El paso «{self.name}» lee los resultados de «{step}», que no está entre sus pasos "
                f"previos declarados ({', '.join(self.spec.upstream) or 'ninguno'})."
            )

    def facts_of(self, step: str) -> dict[str, Any]:
        """The facts of a declared upstream step; an error saying to run it when it has not run."""
        self._upstream(step)
        return facts.load(self.output_dir, step)

    def typed_facts_of(self, step: str, model: type[M]) -> M:
        """The facts of a declared upstream step, as that step's typed record."""
        return model.model_validate(self.facts_of(step))

    def facts_if_any(self, step: str) -> dict[str, Any] | None:
        """A declared upstream step's facts when it has run; None when it has not (for steps that can do
        without)."""
        self._upstream(step)
        path = facts.facts_file(self.output_dir, step)
        return facts.load(self.output_dir, step) if path.exists() else None

    def api_url(self) -> str:
        """The API of the step's environment: its configured URL, or, for ``embedded``, the HU's package
        started here on loopback against the environment's endpoint."""
        api = self.env.api
        if api is None:
            raise ProductizarError(f"El entorno {self.env_name} no define api.base_url en environments.yaml.")
        if api.base_url != EMBEDDED:
            return api.base_url
        return embedded_api(self.hu, self.hu_path, self.output_dir, self.env)

    def repositories(self) -> tuple[repository.Target, repository.Target]:
        """The clones of the cloud and coordinators repositories this run delivers to (``--infra-repo``,
        ``--coordinators-repo``, ``--push``: the runner passes them to the kernels as environment variables);
        a target without a path means the evidence folder only."""
        return repository_targets()

    def intro(self) -> str:
        n = len(self.hu.tables)
        return (
            f"HU {self.hu.id} «{self.hu.hu.title}» · API {self.hu.api.name} · entorno {self.env_name} "
            f"({self.env.description or self.env_name}) · {n} tabla{'s' if n != 1 else ''}."
        )


def repository_targets() -> tuple[repository.Target, repository.Target]:
    """``PRODUCTIZAR_INFRA_REPO``, ``PRODUCTIZAR_COORDINATORS_REPO`` and ``PRODUCTIZAR_PUSH`` as targets."""
    push = os.environ.get(repository.PUSH_ENV, "") == "1"

    def one(var: str, option: str) -> repository.Target:
        value = os.environ.get(var, "").strip()
        return repository.Target(Path(value).expanduser().resolve() if value else None, push, option)

    return (
        one(repository.INFRA_REPO_ENV, "--infra-repo"),
        one(repository.COORDINATORS_REPO_ENV, "--coordinators-repo"),
    )


def _evidence_tables() -> None:
    """Tables in the evidence show whole values (no "…" cut at 50 characters) and every row."""
    import pandas as pd

    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_rows", 500)
    pd.set_option("display.width", 200)


def start(name: str, hu_path: str, env: str, output_dir: str = "", confirm: str = "") -> Step:
    """Open a step: validate the HU file and environment, resolve ``embedded``, pick the evidence folder."""
    _show_plainly()
    _evidence_tables()
    step_spec = spec(name)
    path = Path(hu_path)
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    hu = load_hu(path)
    check_confirmation(hu.id, confirm, path)
    settings = get_environment(env)
    # stepping through by hand is held to the promotion's gates as a batch run is, for this one step
    promotion.refuse(hu, env, settings, [name], approvals.missing(hu, env, settings))
    reason = not_applicable(step_spec, hu, path)
    if reason:
        raise StepNotApplicable(f"Paso omitido. {reason}")
    out = Path(output_dir) if output_dir else paths.hu_output_dir(hu.id, env)
    return Step(step_spec, hu, path, env, resolve(settings), out, str(confirm or ""))
