"""What a fresh machine meets: the system packages the set-up installs, or names when it cannot."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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
