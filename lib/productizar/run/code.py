"""The package's own source as a step runs it: the step's module, what every notebook imports first
(``run/step.py``), and every module those import inside ``lib/productizar``, transitively.

A step runs again when that source changes, and only then: a comment in ``run/board.py`` re-runs no step,
one in ``dynamo/sizing.py`` re-runs the steps that import it. Every import counts, inside functions and for
annotations too (more than a step needs is safe; less is not). ``tools/layers.py`` reads the same graph.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

LIB = Path(__file__).resolve().parents[2]  # the folder that holds the package
KERNEL_ENTRY = "productizar.run.step"  # every notebook's first import


def modules(lib: Path = LIB) -> dict[str, Path]:
    """Every module of the package under ``lib``, by dotted name (a package by its own name)."""
    out = {}
    for f in sorted((lib / "productizar").rglob("*.py")):
        parts = f.relative_to(lib).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its source."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            for alias in node.names:
                target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                if target in known and target != name:
                    found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known and a.name != name)
    return found


def graph(lib: Path = LIB) -> dict[str, set[str]]:
    known = modules(lib)
    return {name: imports(name, path, known) for name, path in known.items()}


def reached(g: dict[str, set[str]], roots: list[str]) -> set[str]:
    """``roots`` and every module they import, transitively, with the packages Python imports on the way."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in g:
            continue
        seen.add(name)
        todo.extend(g[name])
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
    return seen


def digests(lib: Path = LIB) -> dict[str, tuple[str, str]]:
    """Each module's file (``dynamo/sizing.py``) and a digest of its bytes: read once per run."""
    return {
        name: (path.relative_to(lib / "productizar").as_posix(), hashlib.sha256(path.read_bytes()).hexdigest()[:16])
        for name, path in modules(lib).items()
    }


def step_sources(step: str, g: dict[str, set[str]], files: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Each source file the step runs and its digest (``files`` from ``digests``)."""
    return dict(files[name] for name in sorted(reached(g, [f"productizar.steps.{step}", KERNEL_ENTRY])))
