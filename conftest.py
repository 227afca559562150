"""Test session set-up shared by the unit tests and the nbval notebook regression.

Every test session gets its own embedded default (moto server + DuckDB demo data) and its own evidence
folder, both in a temporary directory, so tests never touch a developer's running environment or outputs.
The variables are set before any kernel starts, and notebook kernels inherit them.
"""

import os
import shutil
import tempfile
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="productizar-tests-"))
os.environ["PRODUCTIZAR_STATE_DIR"] = str(_TMP / "state")
os.environ["PRODUCTIZAR_OUTPUT_ROOT"] = str(_TMP / "outputs")


def pytest_sessionstart(session):
    from productizar.local import embedded as localenv

    localenv.up()


def pytest_collection_modifyitems(session, config, items):
    """Notebooks run in runbook order, after the other tests: each step uses what the earlier ones left
    (facts, the deployed stack, the loaded tables), as in a batch run."""
    from productizar.run.registry import STEPS

    order = {name: i for i, name in enumerate(STEPS)}
    items.sort(key=lambda item: (1, order.get(item.path.stem, len(STEPS))) if item.path.suffix == ".ipynb" else (0, 0))


def pytest_runtest_setup(item):
    """The notebook batch starts from an empty AWS, as it did when the golden outputs were recorded."""
    from productizar.run.registry import STEPS

    if item.path.suffix == ".ipynb" and item.path.stem == STEPS[0] and item.name.endswith("Cell 0"):
        from productizar.local import embedded as localenv

        localenv.reset()


def pytest_sessionfinish(session, exitstatus):
    from productizar.local import embedded as localenv

    localenv.down()
    shutil.rmtree(_TMP, ignore_errors=True)
