"""Step ``api``: the delivered Django package checked without running it (``api.package``); where the
environment's API is embedded, the package then starts on loopback against the environment's endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from productizar.api import package
from productizar.api.package import Finding
from productizar.run import headline
from productizar.run.step import Step


@dataclass(frozen=True)
class Delivered:
    path: Path
    #: the repository's reference API packed for the HU (the HU names no ``api.package``)
    reference: bool


def delivered(step: Step) -> Delivered:
    """The HU's ``api.package`` (relative to the HU file), or the reference API packed for the HU."""
    return Delivered(*package.package_path(step.hu, step.hu_path, step.output_dir))


def describe(d: Delivered) -> str:
    return package.describe(d.path, d.reference)


def findings(step: Step, d: Delivered) -> list[Finding]:
    return package.check(d.path, step.hu)


def findings_table(found: list[Finding]) -> pd.DataFrame:
    return package.findings_table(found)


def verdict(found: list[Finding]) -> str:
    """One sentence; ``StepFailed`` when the package must not go on."""
    return package.verdict(found)


def config(step: Step) -> dict[str, Any]:
    """The ``config.json`` the package reads for this HU: routes and keys, and the variable naming each table."""
    return package.config_for(step.hu)


def base_url(step: Step) -> str:
    """A sentence with the API's base URL in this environment (embedded: started here now)."""
    return f"URL base del API: {step.api_url()}"


def facts(d: Delivered, found: list[Finding]) -> dict[str, Any]:
    out = package.facts(d.path, found, d.reference)
    which = "API de referencia" if d.reference else "paquete de la HU"
    said = "sin hallazgos" if not found else f"{len(found)} hallazgo{'s' if len(found) != 1 else ''}"
    line = headline.Headline(f"{d.path.name} ({which}) · {said}", {"hallazgos del paquete": len(found)})
    out["headline"] = line.as_fact()
    return out
