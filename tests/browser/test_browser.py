"""What a person looks at, in a real browser (Debian's Chromium driven by Playwright): a step notebook run
cell by cell in JupyterLab, as analysts use it, and the evidence pages of a run. Screenshots are kept under
``outputs/screenshots/`` (git-ignored) to look at."""

import os
import re
import secrets
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from productizar.local import loopback
from productizar.run.runner import Runner
from tests.support import chromium
from tests.support.chromium import SHOTS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "parameters" / "hu" / "demo.yaml"


@pytest.fixture(scope="module")
def browser():
    with chromium.browser() as launched:
        yield launched


@pytest.fixture
def jupyterlab(tmp_path):
    """JupyterLab on loopback with a token, serving a copy of the notebooks (a run must not change the
    committed ones) beside the real parameters; its kernels reach this session's embedded default."""
    root = tmp_path / "lab"
    (root / "notebooks").mkdir(parents=True)
    nb = nbformat.read(ROOT / "notebooks" / "conteo.ipynb", as_version=4)
    for cell in nb.cells:  # as an analyst opens it fresh: no outputs, so what shows is what this run made
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, root / "notebooks" / "conteo.ipynb")
    (root / "parameters").symlink_to(ROOT / "parameters")
    token, port = secrets.token_hex(16), loopback.free_port()
    settings = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)  # every cell in the page, not only those scrolled into view
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}', encoding="utf-8")
    env = os.environ | {
        "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
    }
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ] + (["--allow-root"] if os.geteuid() == 0 else [])
    log = (tmp_path / "lab.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not loopback.answers(f"{base}/api/status?token={token}"):
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "lab.log").read_text()[-2000:]
            time.sleep(0.3)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_conteo_runs_cell_by_cell_in_jupyterlab(browser, jupyterlab):
    base, token = jupyterlab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/lab/tree/notebooks/conteo.ipynb?token={token}")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    idle = page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
    code_cells = 6  # the parameters, start, and one call per cell after it
    page.wait_for_function(f"() => document.querySelectorAll('.jp-CodeCell').length === {code_cells}")
    # the kernel is connected when the status bar names it idle (the indicator alone shows idle earlier)
    page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle")).wait_for(timeout=90_000)
    assert page.locator(".jp-OutputArea-output").count() == 0
    prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt")

    def started() -> bool:
        return any(p.strip() != "[ ]:" for p in prompts.all_inner_texts())

    for _attempt in range(3):  # a menu clicked while the page still settles can be lost: try it again
        for dialog in page.locator(".jp-Dialog").all():  # e.g. a kernel chooser: keep the proposed kernel
            dialog.locator(".jp-mod-accept").click()
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells").first.click()
        deadline = time.monotonic() + 15
        while not started() and time.monotonic() < deadline:
            time.sleep(0.3)
        if started():
            break
    else:
        page.screenshot(path=str(SHOTS / "jupyterlab-conteo-not-started.png"), full_page=True)
        pytest.fail("Run All Cells never started the notebook (screenshot: jupyterlab-conteo-not-started.png)")

    def done() -> bool:
        texts = prompts.all_inner_texts()
        return len(texts) == code_cells and all(re.fullmatch(r"\[\d+\]:", p.strip()) for p in texts)

    deadline = time.monotonic() + 120
    while not (done() and idle.count() == 1):
        assert time.monotonic() < deadline, prompts.all_inner_texts()
        time.sleep(0.5)
    counts = page.locator(".jp-OutputArea-output table").first
    assert "Ítems esperados en Dynamo" in counts.inner_text()
    assert "resultados_riesgos.regresion_score_delta" in counts.inner_text()  # the notebooks' regression HU
    assert "3.991" in counts.inner_text()  # its score table, planted defects taken away
    assert page.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0
    assert "Traceback" not in page.locator(".jp-Notebook").inner_text()
    counts.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "jupyterlab-conteo.png"), full_page=True)
    assert (SHOTS / "jupyterlab-conteo.png").stat().st_size > 10_000


def _local_links(page) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    return [h for h in hrefs if not h.startswith(("http:", "https:", "mailto:", "#"))]


def test_the_evidence_pages_open_with_every_link_resolved_and_no_traceback(browser, tmp_path, monkeypatch):
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "outputs"))  # its own evidence, no one else's
    result = Runner(DEMO, "local", ["conteo", "dimensionamiento", "documentos"], force=True, echo=lambda _: None).run()
    assert result.exit_code == 0
    index = result.output_dir / "index.html"
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(index.as_uri())
    assert "HU 3575833" in page.locator("h1").inner_text()
    page.screenshot(path=str(SHOTS / "evidencia-index.png"), full_page=True)
    links = _local_links(page)
    step_pages = [h for h in links if h.endswith(".html") and "/" not in h]
    assert sorted(step_pages) == ["conteo.html", "dimensionamiento.html", "documentos.html"]
    assert "../../index.html" in links  # the board of every HU, written at the end of the run
    for link in _local_links(page):
        assert (index.parent / urllib.parse.unquote(link)).is_file(), link
    for name in step_pages:
        step = index.parent / name
        page.goto(step.as_uri())
        text = page.locator("body").inner_text()
        assert "Traceback" not in text and "Error" not in text.split("\n")[0], name
        assert page.locator(".jp-Cell").count() > 3, name  # the notebook rendered, cells and outputs
        for link in _local_links(page):
            target = (step.parent / urllib.parse.unquote(link.split("#")[0])).resolve()
            assert target.exists(), f"{name}: {link}"
        page.screenshot(path=str(SHOTS / f"evidencia-{step.stem}.png"), full_page=True)
