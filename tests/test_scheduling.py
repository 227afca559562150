"""How ``make test WORKERS=2`` deals the suite to two pytest-xdist workers (``tests/support/scheduling``):
a notebook runs whole on one worker, and every Hive test shares one HiveServer2."""

import re
import subprocess
import sys
from pathlib import Path

from tests.support.scheduling import unit

ROOT = Path(__file__).resolve().parents[1]


def _pytest(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _collected(*args: str) -> list[str]:
    proc = _pytest("--collect-only", "-q", *args, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line for line in proc.stdout.splitlines() if "::" in line]


def test_every_cell_is_dealt_with_the_notebooks_and_every_hive_test_with_the_hive_tests():
    every = _collected()
    hive = _collected("-m", "hive")
    cells = [nodeid for nodeid in every if ".ipynb::" in nodeid]
    others = [nodeid for nodeid in every if nodeid not in hive and nodeid not in cells]
    assert len(cells) == 99 and len(hive) == 19
    assert {unit(nodeid) for nodeid in cells} == {"notebooks"}
    assert {unit(nodeid) for nodeid in hive} == {"hive"}
    # the other tests go one at a time, but for the quick ones whose name says hive: Hive's SQL text, and this one
    grouped = [nodeid for nodeid in others if unit(nodeid) != nodeid]
    assert {unit(nodeid) for nodeid in grouped} == {"hive"}
    assert {nodeid.split("::")[0] for nodeid in grouped} == {
        "tests/test_conteo.py",
        "tests/test_hivesql.py",
        "tests/test_inventory.py",
        "tests/test_scheduling.py",
    }


def test_two_workers_run_a_notebook_whole_on_one_of_them():
    """Under xdist's ``loadgroup`` and pytest 9 the cells were dealt one by one: a cell on the other worker ran
    in a new kernel and failed with a NameError."""
    proc = _pytest("-n", "2", "-v", "notebooks/conteo.ipynb", "tests/test_naming.py", timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    cells = re.findall(r"\[(gw\d)\] \[\s*\d+%\] PASSED notebooks/conteo\S*::Cell (\d+)", proc.stdout)
    assert sorted(int(cell) for _, cell in cells) == list(range(6))
    assert len({worker for worker, _ in cells}) == 1
    assert "19 passed" in proc.stdout  # the 13 naming tests too, one at a time wherever there was room
