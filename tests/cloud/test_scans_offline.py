"""Issue 21, item 8: a scan asks no network. checkov asks the package index for a newer release on every run
unless told not to; on a machine without network that is a silent wait per scan. A loopback proxy records
every connection: the scan makes none, and the same checkov without the setting makes one (the control that
shows the probe would see it)."""

import os
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from productizar.cloud import scans

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "cloudformation" / "base.yaml"


class Proxy:
    """A loopback listener that records the first bytes of every connection made to it."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.seen: list[bytes] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    self.seen.append(conn.recv(200))
                except OSError:
                    self.seen.append(b"")

    def env(self) -> dict[str, str]:
        return {name: self.url for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")}

    def close(self):
        self.server.close()


@pytest.mark.scan
def test_checkov_scans_without_asking_the_package_index(monkeypatch, tmp_path):
    proxy = Proxy()
    try:
        for name, value in proxy.env().items():
            monkeypatch.setenv(name, value)
        # checkov keeps the answer an hour in its user cache: an empty cache, so a call could not hide behind it
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        monkeypatch.delenv("CKV_SKIP_PACKAGE_UPDATE_CHECK", raising=False)
        for name in ("NO_PROXY", "no_proxy"):  # nothing may bypass the probe
            monkeypatch.delenv(name, raising=False)
        result = scans.checkov(TEMPLATE)[TEMPLATE]
        assert result.passed > 0  # it scanned
        assert proxy.seen == []
        # the control: checkov itself, without the setting the scan gives it, does ask
        env = {k: v for k, v in os.environ.items() if k != "CKV_SKIP_PACKAGE_UPDATE_CHECK"}
        cmd = [scans._tool("checkov"), "-f", str(TEMPLATE), "--framework", "cloudformation", "--skip-download"]
        subprocess.run(cmd + ["--output", "json"], env=env, capture_output=True, timeout=300)
        assert [c.split(b"\r\n")[0] for c in proxy.seen] == [b"CONNECT pypi.org:443 HTTP/1.0"]
    finally:
        proxy.close()
