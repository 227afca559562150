"""The differences between environments that are expected (``parameters/drift.yaml``): a field pattern,
optionally the environments allowed to differ, and the reason the drift report prints beside it."""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from productizar.core import paths
from productizar.core.problems import load_yaml_model


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # a field of the drift report, with * for any part (tablas.*.items)
    field: Annotated[str, Field(min_length=1)]
    # the environments whose value may differ from the first one compared; empty: any of them
    envs: list[str] = []
    why: Annotated[str, Field(min_length=3)]

    def covers(self, name: str, differing: set[str]) -> bool:
        """Whether this rule expects ``name`` to differ in the environments ``differing``."""
        return fnmatchcase(name, self.field) and (not self.envs or differing <= set(self.envs))


class DriftFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    expected: list[Expected] = []


def load_expected(path: str | Path | None = None) -> list[Expected]:
    return load_yaml_model(path or paths.drift_file(), DriftFile).expected


def expected_for(rules: list[Expected], name: str, differing: set[str]) -> Expected | None:
    """The first rule that expects this difference; None: it is drift."""
    return next((r for r in rules if r.covers(name, differing)), None)
