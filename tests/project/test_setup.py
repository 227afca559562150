"""What a fresh machine meets: the system packages the set-up installs or names, and the progress that a
person watching JupyterLab sees while the evidence keeps plain lines."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from productizar.dynamo.loader import LoadResult, ProgressPrinter
from productizar.run import progress
from productizar.run.runner import Runner
from tests.support.notebooks import notebook

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "parameters" / "hu" / "demo.yaml"


def _fake_bin(tmp_path: Path, uid: str) -> tuple[Path, Path]:
    """A PATH with none of the system packages, an ``id`` that answers ``uid``, and an apt-get that records
    being called."""
    fake, called = tmp_path / "bin", tmp_path / "apt-get-called"
    fake.mkdir()
    for name, body in (("id", f"echo {uid}"), ("apt-get", f'echo "$@" >> {called}')):
        (fake / name).write_text(f"#!/bin/sh\n{body}\n")
        (fake / name).chmod(0o755)
    return fake, called


def _system_deps(purpose: str, fake: Path) -> subprocess.CompletedProcess:
    """tools/system-deps run with nothing but ``fake`` on its PATH."""
    return subprocess.run(
        [shutil.which("bash"), str(ROOT / "tools" / "system-deps"), purpose],
        env={"PATH": str(fake)},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_without_the_right_to_install_it_says_in_one_line_what_to_install_and_stops(tmp_path):
    fake, called = _fake_bin(tmp_path, "1000")  # not root, and no sudo on this PATH
    proc = _system_deps("test", fake)
    assert proc.returncode == 1 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("make test needs soffice pdftoppm java chromium: install ")
    for package in ("libreoffice-writer-nogui", "poppler-utils", "openjdk-17-jre-headless", "chromium"):
        assert package in line
    assert not called.exists()  # nothing was installed


def test_as_root_it_installs_what_is_missing_through_apt_get(tmp_path):
    fake, called = _fake_bin(tmp_path, "0")
    proc = _system_deps("demo", fake)
    assert proc.returncode == 0, proc.stderr
    calls = called.read_text().splitlines()
    assert calls[0] == "update -qq"
    assert calls[1].startswith("install -y -qq --no-install-recommends libreoffice-writer-nogui")
    assert "openjdk" not in calls[1] and "chromium" not in calls[1]  # the demo needs the previews only


def test_with_everything_there_it_says_nothing():
    proc = subprocess.run([str(ROOT / "tools" / "system-deps"), "test"], capture_output=True, text=True, timeout=30)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


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
