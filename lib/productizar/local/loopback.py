"""Servers the tool runs on loopback and leaves running between kernels: moto and the reference API.

Each is a child process in its own session, on a free port, found again through a small JSON state file
and recognised by its command line (a pid alone may have been reused). One copy of the start, find and
stop mechanics; ``localenv`` and ``localapi`` only say which command, which health URL and which marker.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from productizar.core.files import write_text

HOST = "127.0.0.1"
T = TypeVar("T")


def free_port() -> int:
    """A loopback port nobody holds now (the caller binds it at once, and retries if it lost the race)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def answers(url: str, timeout: float = 1.0) -> bool:
    """True when ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200
    except OSError:
        return False


def responds(url: str, timeout: float = 1.0) -> bool:
    """True when ``url`` answers HTTP at all (a 404 or a 500 is an answer: the server is up)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def tail(log: Path, lines: int = 25) -> str:
    """The last lines of a server's or an installer's output, to quote in an error."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    last = "\n".join(text.rstrip().splitlines()[-lines:])
    return f"últimas líneas de {log}:\n{last}" if last else f"{log} quedó vacío"


def runs(pid: int, marker: str) -> bool:
    """True while ``pid`` is a live process whose command line contains ``marker`` (a zombie's is empty)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return marker.encode() in cmdline


def listening_groups(port: int) -> set[int] | None:
    """The process groups holding a socket that listens on TCP ``port`` (Linux's /proc), or None where the
    kernel's tables cannot be read: a server that answers on a port is not proven to be the one started."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        return None
    inodes: set[str] = set()
    for table in tables:
        try:
            rows = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            # local address is hex "ADDR:PORT"; state 0A is LISTEN; the ninth column is the socket's inode
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    groups: set[int] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                groups.add(os.getpgid(int(proc.name)))
        except OSError:  # another user's process, or one that ended while it was read
            continue
    return groups


def owns(pid: int, port: int) -> bool:
    """Whether the process group led by ``pid`` listens on ``port`` (True where that cannot be known)."""
    groups = listening_groups(port)
    return groups is None or pid in groups


def read_state(path: Path, kind: Callable[..., T]) -> T | None:
    """The state recorded at ``path``, or None when there is none (or it is unreadable)."""
    try:
        return kind(**json.loads(path.read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def write_state(path: Path, state: Any) -> None:
    """Record a dataclass ``state`` whole or not at all."""
    write_text(path, json.dumps(asdict(state)))


def spawn(
    argv: Callable[[int], list[str]],
    health: Callable[[int], str],
    log: Path,
    wait_s: float,
    answered: Callable[[str, float], bool] = answers,
    **popen: Any,
) -> tuple[int, int] | None:
    """Start ``argv(port)`` on a free port until ``health(port)`` is ``answered``; its (pid, port), or None.

    The process gets its own session, so it outlives the command that started it and ``stop`` can end
    its whole group. A port found free can be taken before the server binds it: then whoever took it may be
    the one answering, so an answer counts only from the started process's group, and three ports are tried.
    """
    for _ in range(3):
        port = free_port()
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                argv(port),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                **popen,
            )
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and proc.poll() is None:
            if answered(health(port), 0.5):
                if owns(proc.pid, port):
                    return proc.pid, port
                break  # another process holds the port: ours cannot bind it
            time.sleep(0.1)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return None


def group_members(pgid: int) -> list[int]:
    """The live processes of process group ``pgid`` (Linux's /proc; zombies, already ended, are left out)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def stop(pid: int, marker: str, grace_s: float = 5.0) -> bool:
    """End the process group of ``pid`` if ``pid`` is still the server marked ``marker``; True if it was.

    Returns once every process of the group has ended, not only its leader: a server's leader may exit at
    once and leave a child still serving (Django's runserver serves from its autoreloader's child)."""
    if not runs(pid, marker):
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + grace_s
    while group_members(pid):  # the leader too, while it lives
        if time.monotonic() > deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _wait_until(lambda: not group_members(pid), 2.0)  # SIGKILL is not refused, only not instant
            break
        time.sleep(0.05)
    return True


def _wait_until(done: Callable[[], bool], within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not done() and time.monotonic() < deadline:
        time.sleep(0.05)
