"""productizar: the runbook that puts analytical data products (DynamoDB tables served by an API) on AWS,
as parameterized notebooks. ``lib/`` holds all the logic; the notebooks only call it and show results.

The package's public names are few and loaded on first use (the Glue job imports ``productizar.dynamo``
without the run's heavier dependencies): ``start`` opens a step, ``Runner`` runs a batch, ``STEPS`` are
the runbook's steps in order, ``load_hu`` reads an HU file, and ``ProductizarError`` is the root of every
error the package raises on purpose.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "start": "productizar.run.step",
    "Step": "productizar.run.step",
    "Runner": "productizar.run.runner",
    "STEPS": "productizar.run.registry",
    "load_hu": "productizar.core.hu",
    "ProductizarError": "productizar.core.errors",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'productizar' has no attribute {name!r}")
