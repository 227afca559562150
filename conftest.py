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
    from productizar import localenv

    localenv.up()


def pytest_runtest_setup(item):
    """Each golden notebook starts from an empty AWS, as it did when its outputs were recorded."""
    if item.path.suffix == ".ipynb" and item.name.endswith("Cell 0"):
        from productizar import localenv

        localenv.reset()


def pytest_sessionfinish(session, exitstatus):
    from productizar import localenv

    localenv.down()
    shutil.rmtree(_TMP, ignore_errors=True)
