"""``tests/`` mirrors the package's rooms: every module of ``lib/productizar`` is imported by a test of its own
room (``productizar.dynamo.loader`` by a file under ``tests/dynamo/``), modules added later included."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lib" / "productizar"
# the rooms' tests, and where the top-level modules (the CLI) are tested
ROOMS = {"core", "results_zone", "dynamo", "cloud", "api", "paperwork", "local", "run", "steps"}
TOP_LEVEL = "project"


def modules() -> dict[str, str]:
    """Each module's dotted name and the tests folder that must import it."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] in ("__init__", "__main__"):
            continue
        found[".".join(parts)] = parts[1] if len(parts) > 2 else TOP_LEVEL
    return found


def imported_by(folder: Path) -> set[str]:
    """Every ``productizar`` module the tests under ``folder`` import, in any form."""
    names: set[str] = set()
    for path in folder.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_the_tests_are_laid_out_like_the_package():
    folders = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and p.name not in ("support", "fixtures")}
    assert ROOMS <= folders
    assert not list((ROOT / "tests").glob("test_*.py")), "a test file outside the rooms' folders"


def test_every_module_is_imported_by_a_test_of_its_room():
    untested = [
        f"{name} (tests/{room}/)" for name, room in modules().items() if name not in imported_by(ROOT / "tests" / room)
    ]
    assert sorted(untested) == []
