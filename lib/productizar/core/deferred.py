"""Third-party work done at import that a command does not need up front, deferred to its first use.

jsonschema (imported by nbformat, so by papermill and the runner) imports ``rfc3987_syntax`` for its "iri"
format check when it is installed, and that module builds a Lark parser of RFC 3987's grammar as it is
imported: about 1.4 s of the 3.5 s ``productizar run`` spends importing, on every run, for a check that no
notebook, record or coordinator of this project asks for. ``install`` puts a stand-in in its place whose
``is_valid_syntax`` imports the real module the first time it is called: the check still works as before.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any

DEFERRED = "rfc3987_syntax"


@functools.cache
def _real() -> types.ModuleType:
    """The real module, imported once (its grammar built then) in place of the stand-in."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _StandIn)]
    stand_in = sys.modules.pop(DEFERRED, None)
    try:
        return importlib.import_module(DEFERRED)
    except ImportError:
        if stand_in is not None:
            sys.modules[DEFERRED] = stand_in
        raise


def is_valid_syntax(term: str, value: str) -> Any:
    """``rfc3987_syntax.is_valid_syntax``, the real one: imported (its parser built) on this first call."""
    return _real().is_valid_syntax(term, value)


class _StandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers ``import rfc3987_syntax`` with a module holding only the deferred ``is_valid_syntax``."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name != DEFERRED:
            return None
        return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: types.ModuleType) -> None:
        module.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]


def install() -> None:
    """Defer the IRI grammar, unless it is imported already or not installed at all (nothing to defer)."""
    if DEFERRED in sys.modules or any(isinstance(f, _StandIn) for f in sys.meta_path):
        return
    if importlib.machinery.PathFinder.find_spec(DEFERRED) is None:
        return
    sys.meta_path.insert(0, _StandIn())
