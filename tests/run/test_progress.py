"""Progress as the analyst sees it: a live bar in a kernel JupyterLab opened, lines in a batch, and a batch
that never passes a Jupyter session on to its kernels."""

import os
from pathlib import Path

import pytest

from productizar.dynamo.loader import LoadResult, ProgressPrinter
from productizar.run import progress
from productizar.run.runner import Runner
from tests.support.notebooks import notebook

DEMO = Path(__file__).resolve().parents[2] / "parameters" / "hu" / "demo.yaml"


def test_a_kernel_that_jupyterlab_opened_gets_a_live_bar_and_a_batch_gets_lines(monkeypatch):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert isinstance(progress.for_loads(), ProgressPrinter)
    monkeypatch.setenv("JPY_SESSION_NAME", "/notebooks/carga.ipynb")
    bar = progress.for_loads()
    assert isinstance(bar, progress.NotebookBar)
    r = LoadResult("resultados.t", "dynamo-t", rows_read=500, items_written=500, duration_s=1.0)
    bar(r, 1000, False)
    assert (bar.bars["resultados.t"].n, bar.bars["resultados.t"].total) == (500, 1000)
    bar(r, 1000, True)


@pytest.mark.usefixtures("embedded")
def test_a_batch_never_passes_the_jupyter_session_to_its_kernels(tmp_path, monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "/somewhere/else.ipynb")  # a run started from inside a kernel
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    notebook(
        nbs / "conteo.ipynb",
        "import os\nfrom productizar.run import step\n"
        "paso = step.start('conteo', hu_path, env, output_dir)\n"
        "print(paso.record({'session': os.environ.get('JPY_SESSION_NAME')}))",
    )
    result = Runner(DEMO, "local", ["conteo"], notebooks=nbs, force=True, echo=lambda _: None).run()
    assert result.exit_code == 0 and result.steps[0].facts == {"session": None}
    assert "JPY_SESSION_NAME" not in os.environ
