"""What a step notebook calls first: load the HU and the environment, and show errors as sentences.

A notebook's cells stay thin: ``step = notebook.start("conteo", hu_path, env, output_dir, confirm)``
gives every later cell what it needs (the HU, the environment, the results zone, the facts of earlier
steps, the write mode). The same call works under papermill and when an analyst steps through by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import facts, paths
from .environments import Environment, WriteMode, get_environment, write_mode
from .errors import ProductizarError
from .hu import HU, load_hu
from .problems import InputFileError
from .results_zone import ResultsZone, open_zone


def _show_plainly() -> None:
    """In IPython, show ProductizarError and bad-input errors as one line, not a traceback.

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

    ip.set_custom_exc((ProductizarError, InputFileError), handler)


@dataclass(frozen=True)
class Step:
    """One step's view of the run: HU, environment, evidence folder and confirmation."""

    name: str
    hu: HU
    hu_path: Path
    env_name: str
    env: Environment
    output_dir: Path
    confirm: str

    def zone(self) -> ResultsZone:
        return open_zone(self.env)

    @property
    def write_mode(self) -> WriteMode:
        return write_mode(self.env, self.hu.id, self.confirm)

    def record(self, found: dict[str, Any]) -> str:
        """Save this step's facts for later steps and the summary; returns a sentence saying so."""
        path = facts.record(self.output_dir, self.name, found)
        return f"Resultados guardados para los pasos siguientes en facts/{path.name}."

    def facts_of(self, step: str) -> dict[str, Any]:
        return facts.load(self.output_dir, step)

    def facts_if_any(self, step: str) -> dict[str, Any] | None:
        """An earlier step's facts when it has run; None when it has not (for steps that can do without)."""
        path = facts.facts_file(self.output_dir, step)
        return facts.load(self.output_dir, step) if path.exists() else None

    def intro(self) -> str:
        n = len(self.hu.tables)
        return (
            f"HU {self.hu.id} «{self.hu.hu.title}» · API {self.hu.api.name} · entorno {self.env_name} "
            f"({self.env.description or self.env_name}) · {n} tabla{'s' if n != 1 else ''}."
        )


def _evidence_tables() -> None:
    """Tables in the evidence show whole values (no "…" cut at 50 characters) and every row."""
    import pandas as pd

    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_rows", 500)
    pd.set_option("display.width", 200)


def start(name: str, hu_path: str, env: str, output_dir: str = "", confirm: str = "") -> Step:
    """Open a step: validate the HU file and environment, and pick the evidence folder."""
    _show_plainly()
    _evidence_tables()
    path = Path(hu_path)
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    hu = load_hu(path)
    settings = get_environment(env)
    out = Path(output_dir) if output_dir else paths.hu_output_dir(hu.id, env)
    return Step(name, hu, path, env, settings, out, str(confirm or ""))
