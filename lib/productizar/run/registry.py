"""The runbook's steps, declared once: name, notebook, the earlier steps it builds on, whether it writes.

The runner's order, ``--steps`` validation, the skip-if-unchanged fingerprint (built from the declared
upstream steps' facts only) and ``Step.facts_of`` (which reads only declared upstream facts) all read
this table; nothing discovers a step's inputs inside its code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from productizar.core.errors import UsageError
from productizar.core.hu import HU, missing_section


@dataclass(frozen=True)
class StepSpec:
    name: str
    #: earlier steps whose facts this step reads or whose work it builds on (a change there re-runs it)
    upstream: tuple[str, ...]
    #: writes to a shared environment (AWS, the inventory): a dry run unless the environment allows it
    writes_shared: bool
    #: its write needs the HU id typed back in every environment, the embedded default included
    always_confirm: bool = False
    #: optional HU sections it cannot do without: absent, the step is skipped with a sentence saying what to add
    requires: tuple[str, ...] = ()
    #: what it produces, for that sentence ("para ...")
    purpose: str = ""

    @property
    def notebook(self) -> str:
        return f"{self.name}.ipynb"


REGISTRY: tuple[StepSpec, ...] = (
    StepSpec("conteo", upstream=(), writes_shared=False),
    StepSpec("dimensionamiento", upstream=("conteo",), writes_shared=False),
    StepSpec("infraestructura", upstream=("dimensionamiento",), writes_shared=True),
    StepSpec("coordinadores", upstream=("infraestructura",), writes_shared=True),
    StepSpec("carga", upstream=("conteo", "dimensionamiento", "infraestructura", "coordinadores"), writes_shared=True),
    # it raises a table's read capacity for its count (and gives it back)
    StepSpec("verificacion", upstream=("conteo", "infraestructura", "carga"), writes_shared=True),
    StepSpec("api", upstream=(), writes_shared=False),
    StepSpec("smoke", upstream=("carga", "api"), writes_shared=False),
    StepSpec(
        "pruebas",
        upstream=("carga", "api"),
        writes_shared=False,
        requires=("nfr",),
        purpose="preparar las pruebas de carga con sus aserciones (p95, tasa de error)",
    ),
    StepSpec(
        "documentos",
        upstream=("conteo", "infraestructura"),
        writes_shared=False,
        requires=("documents",),
        purpose="generar los documentos de salida a PRD (monitoreo, excepción E2E, release)",
    ),
    StepSpec("consecutivo", upstream=(), writes_shared=True, always_confirm=True),
)

STEPS: tuple[str, ...] = tuple(s.name for s in REGISTRY)
_BY_NAME = {s.name: s for s in REGISTRY}


def missing_sections(step: StepSpec, hu: HU) -> list[str]:
    """The optional HU sections the step requires and this HU does not write (empty: it applies)."""
    return [section for section in step.requires if not hu.has_section(section)]


def not_applicable(step: StepSpec, hu: HU, hu_path: Path) -> str | None:
    """Why the step cannot run for this HU (a section it requires is not written), or None when it can."""
    missing = missing_sections(step, hu)
    return missing_section(hu_path, missing[0], step.purpose) if missing else None


def spec(name: str) -> StepSpec:
    if name not in _BY_NAME:
        raise UsageError(f"unknown step {name!r}; the steps are: {', '.join(STEPS)}")
    return _BY_NAME[name]


def parse_steps(text: str | None) -> list[str]:
    """``"conteo,carga"`` -> the named steps in runbook order; all steps when empty."""
    if not text:
        return list(STEPS)
    asked = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in asked if s not in _BY_NAME]
    if unknown:
        raise UsageError(f"unknown step(s): {', '.join(unknown)}; the steps are: {', '.join(STEPS)}")
    return [s for s in STEPS if s in asked]
