"""Progress of long work, as the reader sees it: a live bar in JupyterLab, plain lines in the evidence.

A kernel that a Jupyter server started for an open notebook has ``JPY_SESSION_NAME`` in its environment
(jupyter_server sets it; papermill, nbclient and nbval do not): there, with ipywidgets, the loader's
progress is a tqdm notebook bar per table. A batch run (papermill) and the golden notebooks keep the
loader's own lines, which the evidence can show and compare.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from productizar.dynamo.loader import LoadResult, ProgressPrinter

Progress = Callable[[LoadResult, int | None, bool], None]


def interactive() -> bool:
    """Whether this process is a kernel a person is looking at through JupyterLab (or Notebook)."""
    if not os.environ.get("JPY_SESSION_NAME"):
        return False
    try:
        import ipywidgets  # noqa: F401  (tqdm's notebook bar is an ipywidget)
    except ImportError:
        return False
    return True


class NotebookBar:
    """The loader's progress as one tqdm notebook bar per table: rows read of the rows expected, items/s."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def __call__(self, r: LoadResult, expected_rows: int | None, done: bool = False) -> None:
        from tqdm.notebook import tqdm

        bar = self.bars.get(r.source)
        if bar is None:
            bar = self.bars[r.source] = tqdm(total=expected_rows or None, desc=r.source, unit=" filas")
        bar.n = r.rows_read
        bar.set_postfix_str(f"{r.rate:,.0f} ítems/s".replace(",", "."), refresh=False)
        bar.refresh()
        if done:
            bar.close()


def for_loads(out: Callable[[str], None] = print) -> Progress:
    """A live bar where a person watches, the loader's lines everywhere else."""
    return NotebookBar() if interactive() else ProgressPrinter(out=out)
