"""Re-execute the step notebooks on the regression HU (embedded default), their parameters cell's default,
and keep their outputs as nbval golden.

Run it after changing a notebook or what it shows (``make golden``), then review the diff of the outputs
like code: nbval fails when a fresh run differs from what is committed. The notebooks run in runbook
order from an empty embedded AWS, as the test session runs them.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def refresh(paths: list[Path], scratch: Path) -> None:
    from productizar.local import embedded as localenv
    from productizar.run.kernels import private_kernel_manager

    localenv.up()
    localenv.reset()  # as nbval runs them: from an empty AWS, each step after the previous ones
    try:
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            NotebookClient(
                nb,
                kernel_name="python3",
                record_timing=False,
                kernel_manager_class=private_kernel_manager(scratch),
                resources={"metadata": {"path": str(path.parent)}},
            ).execute()
            for cell in nb.cells:
                cell.metadata.pop("execution", None)
            nbformat.write(nb, path)
            print(f"refreshed {path.relative_to(ROOT)}")
    finally:
        localenv.down()


def main(argv: list[str]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="productizar-golden-"))
    # the same private set-up as the test session, so golden outputs match what nbval sees
    os.environ["PRODUCTIZAR_STATE_DIR"] = str(tmp / "state")
    os.environ["PRODUCTIZAR_OUTPUT_ROOT"] = str(tmp / "outputs")
    os.environ["PRODUCTIZAR_CACHE_DIR"] = str(tmp / "cache")  # every scan runs: no earlier result is read
    try:
        from productizar.run.registry import STEPS

        # always the whole chain up to the last step asked for: each notebook needs the earlier ones' results
        existing = [s for s in STEPS if (ROOT / "notebooks" / f"{s}.ipynb").exists()]
        last = max((existing.index(n) for n in argv), default=len(existing) - 1)
        targets = [ROOT / "notebooks" / f"{s}.ipynb" for s in existing[: last + 1]]
        refresh(targets, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
