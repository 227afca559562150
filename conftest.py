"""Test session set-up shared by the unit tests and the nbval notebook regression.

Every test session has its own state and evidence folders in a temporary directory, so tests never touch a
developer's running environment or outputs; the variables are set before any kernel starts, and notebook
kernels inherit them. The session's embedded default (moto server + DuckDB demo data) is started by the
first test that asks for it (the ``embedded`` fixture, which marks the tests that use it ``embedded``; a
notebook's cells, and the ``e2e``, ``spark`` and ``browser`` tests, ask for it too), so the tests that need
no server (``make check``) start none.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="productizar-tests-"))
os.environ["PRODUCTIZAR_STATE_DIR"] = str(_TMP / "state")
os.environ["PRODUCTIZAR_OUTPUT_ROOT"] = str(_TMP / "outputs")
os.environ["PRODUCTIZAR_CACHE_DIR"] = str(_TMP / "cache")  # the session fills its own: no earlier scan is read

from tests.support.notebook_world import World  # noqa: E402  (after the variables it reads)

_WORLD = World()
_NOTEBOOKS: dict[Path, dict] = {}  # the notebook being run: its cells run so far, and whether one failed
_CELLS: dict[Path, int] = {}  # how many cells of each notebook this session selected
_FIRST: dict[Path, str] = {}  # the first of them


_SERVED = {"up": False}  # whether this session started its embedded default
# the markers of tests that use the embedded default without asking for the fixture themselves
_NEEDS_EMBEDDED = ("e2e", "spark", "browser")


def _embedded_up() -> None:
    if not _SERVED["up"]:
        from productizar.local import embedded as localenv

        localenv.up()
        _SERVED["up"] = True


@pytest.fixture(scope="session")
def embedded():
    """The session's embedded default, up: moto on loopback and the demo's DuckDB files."""
    from productizar.local import embedded as localenv

    _embedded_up()
    return localenv.running_state()


@pytest.fixture(autouse=True)
def _embedded_for_marked(request):
    """Tests marked ``e2e``, ``spark`` or ``browser`` run the tool as a person would: on the embedded default."""
    if any(request.node.get_closest_marker(m) for m in _NEEDS_EMBEDDED):
        request.getfixturevalue("embedded")


def pytest_itemcollected(item):
    """A test that asks for the embedded default, itself or through a fixture, is marked ``embedded`` before
    ``-m`` selects (``make check`` leaves those out)."""
    if "embedded" in getattr(item, "fixturenames", ()):
        item.add_marker(pytest.mark.embedded)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """A notebook's cells stay together and in their order, whatever reorders the tests (a notebook is one
    kernel: its cells are not independent tests). In the default order the notebooks come after the other
    tests and in runbook order, so each finds the world the one before it left and nothing is redone; under
    ``--random-order`` they keep the place their first cell was dealt, and ``tests/support/notebook_world``
    brings about what each one needs."""
    from productizar.run.registry import STEPS

    if not _shuffled(config):
        order = {name: i for i, name in enumerate(STEPS)}
        items.sort(key=lambda item: (1, order.get(item.path.stem, len(STEPS))) if _is_cell(item) else (0, 0))
    place: dict[Path, int] = {}
    keys = {}
    for i, item in enumerate(items):
        if _is_cell(item):
            keys[item.nodeid] = (place.setdefault(item.path, i), _cell_index(item))
        else:
            keys[item.nodeid] = (i, 0)
    items.sort(key=lambda item: keys[item.nodeid])
    _CELLS.clear()
    _FIRST.clear()
    for item in items:
        if _is_cell(item):
            _CELLS[item.path] = _CELLS.get(item.path, 0) + 1
            _FIRST.setdefault(item.path, item.nodeid)


def _shuffled(config) -> bool:
    """Whether pytest-random-order (``--random-order``, ``-p random_order``) deals the tests this session."""
    if not config.pluginmanager.hasplugin("random_order"):
        return False
    from random_order.config import Config

    return bool(Config(config).is_enabled)


def _is_cell(item) -> bool:
    return item.path.suffix == ".ipynb"


def _cell_index(item) -> int:
    return int(item.name.rsplit(" ", 1)[-1])


def pytest_runtest_setup(item):
    """Before a notebook's first cell, the world it was recorded on: its upstream steps run, from an empty
    AWS when what is there would change what it sees (``tests/support/notebook_world``)."""
    if _is_cell(item) and _FIRST.get(item.path) == item.nodeid:
        _NOTEBOOKS[item.path] = {"cells": 0, "failed": False}
        _embedded_up()
        _WORLD.prepare(item.path.stem)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Each cell's outcome, for whether its notebook ran whole."""
    outcome = yield
    report = outcome.get_result()
    ran = _NOTEBOOKS.get(item.path) if _is_cell(item) else None
    if ran is not None:
        ran["failed"] = ran["failed"] or report.failed
        ran["cells"] += report.when == "call" and report.passed


def pytest_runtest_teardown(item, nextitem):
    """After a notebook's last cell: the world holds its step when every one of its cells ran and passed."""
    if _is_cell(item) and (nextitem is None or nextitem.path != item.path) and item.path in _NOTEBOOKS:
        ran = _NOTEBOOKS.pop(item.path)
        whole = not ran["failed"] and ran["cells"] == _CELLS[item.path]
        _WORLD.finished(item.path.stem, whole)


def pytest_sessionfinish(session, exitstatus):
    if _SERVED["up"]:
        from productizar.local import embedded as localenv

        localenv.down()
    shutil.rmtree(_TMP, ignore_errors=True)
