"""One run per HU and environment at a time: a lock in the evidence folder that says who holds it.

Two runs of the same HU in the same environment would write the same summary, the same facts and the same
tables; the second is refused with the first one's pid, start time and command line. The lock is an
``flock`` on ``.run.lock``: the system releases it when the holder ends, however it ends (a killed run
leaves no stale lock behind).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from productizar.core.errors import BadInput
from productizar.run.evidence import LOCK_NAME as LOCK


class RunInProgress(BadInput):
    """Another run of the same HU and environment holds the lock: nothing was run."""


def _holder(fh: TextIO) -> str:
    """Who holds the lock, as the holder wrote it into the lock file."""
    try:
        fh.seek(0)
        data = json.loads(fh.read() or "{}")
    except (OSError, ValueError):
        data = {}
    if not data:
        return "another run (it has not said who it is yet)"
    return f"pid {data.get('pid')} on {data.get('host')}, since {data.get('since')}: {data.get('command')}"


@contextlib.contextmanager
def hold(out: Path, what: str) -> Iterator[None]:
    """Hold the run lock of the evidence folder ``out`` for the block, or refuse at once naming its holder."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / LOCK, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInProgress(
                f"{what} is already being run by {_holder(fh)}. Wait for it to end (or stop it) and run again; "
                "nothing was run."
            ) from None
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(
                json.dumps(
                    {
                        "pid": os.getpid(),
                        "host": socket.gethostname(),
                        "since": datetime.now(UTC).isoformat(timespec="seconds"),
                        "command": " ".join(sys.argv),
                    }
                )
            )
            fh.flush()
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
