"""Start, find and stop of the loopback servers: a recorded pid is only acted on while it is still ours."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from productizar.local import loopback


def test_stop_leaves_a_process_that_is_not_the_marked_server_alone():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        # until the child has exec'd, /proc shows the parent's command line: wait for its own (bounded)
        deadline = time.monotonic() + 10
        while not loopback.runs(proc.pid, "time.sleep(60)"):
            assert time.monotonic() < deadline, "the child never showed its command line"
            time.sleep(0.01)
        assert not loopback.stop(proc.pid, "productizar.local.motoserver")  # a reused pid: not ours to kill
        assert proc.poll() is None
        assert loopback.stop(proc.pid, "time.sleep(60)")
        assert proc.wait(timeout=5) == -signal.SIGTERM  # ended by stop's SIGTERM to its group
        assert not loopback.runs(proc.pid, "time.sleep(60)")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_stop_returns_when_the_whole_group_has_ended_not_only_its_leader(tmp_path):
    """A server whose leader ends at once on SIGTERM while its child takes a moment (Django's runserver
    serves from its autoreloader's child): stop returns only when the child has ended too. Before, it
    returned when the leader was gone and the child still ran (seen as a test's leftover process)."""
    ready = tmp_path / "hijo-listo"
    child = (
        "import pathlib, signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *_: (time.sleep(1), sys.exit(0)))\n"
        f"pathlib.Path({str(ready)!r}).touch()\n"
        "time.sleep(60)\n"
    )
    leader = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", leader, "servidor-de-prueba"], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while not (ready.exists() and loopback.runs(proc.pid, "servidor-de-prueba")):
            assert time.monotonic() < deadline, "the child never started"
            time.sleep(0.01)
        members = loopback.group_members(proc.pid)
        assert proc.pid in members and len(members) == 2
        assert loopback.stop(proc.pid, "servidor-de-prueba")
        assert loopback.group_members(proc.pid) == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@dataclass(frozen=True)
class _State:
    pid: int
    port: int


def test_state_is_written_whole_and_unreadable_state_is_none(tmp_path):
    path = tmp_path / "state.json"
    assert loopback.read_state(path, _State) is None
    loopback.write_state(path, _State(12, 34))
    assert loopback.read_state(path, _State) == _State(12, 34)
    path.write_text('{"pid": 1}')  # from another version: a field missing
    assert loopback.read_state(path, _State) is None
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left beside it


def test_spawn_gives_up_on_a_server_that_never_answers(tmp_path):
    log = tmp_path / "never.log"
    started = loopback.spawn(
        lambda port: [sys.executable, "-c", "import time; time.sleep(60)"],
        lambda port: f"http://{loopback.HOST}:{port}/",
        log,
        wait_s=0.5,
    )
    assert started is None


_LINGERING_SERVER = """
import http.server, sys, time
try:
    server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler)
except OSError:
    time.sleep(60)  # like Spark's Thrift server: the bind failed and the process stays up
else:
    server.serve_forever()
"""


def test_spawn_does_not_take_a_port_holders_answer_for_its_own_server(tmp_path, monkeypatch):
    """A port found free and taken before the server binds it: the holder answers, and the server started
    lingers without the port. spawn must see the answer is not its process's and start again elsewhere."""
    holder = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", loopback.HOST, "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        start_new_session=True,
        text=True,
    )
    started = None
    try:
        line = holder.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N (...)"
        taken = int(line.split(" port ")[1].split()[0])
        assert loopback.listening_groups(taken) == {holder.pid}
        ports = iter([taken])
        real = loopback.free_port
        monkeypatch.setattr(loopback, "free_port", lambda: next(ports, None) or real())
        script = tmp_path / "server.py"
        script.write_text(_LINGERING_SERVER)
        started = loopback.spawn(
            lambda port: [sys.executable, str(script), str(port)],
            lambda port: f"http://{loopback.HOST}:{port}/",
            tmp_path / "server.log",
            wait_s=20,
            cwd=tmp_path,
        )
        assert started is not None
        pid, port = started
        assert port != taken and pid != holder.pid
        assert loopback.listening_groups(port) == {pid}
        assert holder.poll() is None  # the holder is not ours: left alone
    finally:
        if started:
            os.killpg(started[0], signal.SIGKILL)
        holder.kill()
        holder.wait()
