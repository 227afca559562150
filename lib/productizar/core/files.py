"""Writing evidence: atomically (a reader never sees half a file), scrubbed of secrets, and checked: a file
that still holds a known secret in any text part (a zip member, an e-mail attachment) is never written."""

from __future__ import annotations

import fcntl
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from productizar.core.scrub import Scrubber, check_clean, default_scrubber


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (made if missing) for the block: threads and processes
    that lock the same file run their blocks one at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def atomic_path(path: Path, scrubber: Scrubber | None = None, checked: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed onto ``path`` only if the block succeeds and
    the file holds no known secret (``SecretInEvidence`` otherwise, and nothing is written). A library
    that saves to the path (openpyxl, docxtpl) is checked by reading the file back; ``checked`` says the
    caller checked the bytes it writes already."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial" + path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        if not checked:
            check_clean(Path(tmp).read_bytes(), path.name, scrubber or default_scrubber())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_text(path: Path, text: str, scrubber: Scrubber | None = None) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename."""
    scrubber = scrubber or default_scrubber()
    return write_bytes(path, scrubber(text).encode("utf-8"), scrubber)


def write_bytes(path: Path, data: bytes, scrubber: Scrubber | None = None) -> Path:
    """Write a binary file (a form, an email) the same way: whole, checked, or not at all."""
    check_clean(data, path.name, scrubber or default_scrubber())
    with atomic_path(path, checked=True) as tmp:
        tmp.write_bytes(data)
    return path


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    """A zip of ``name -> content``, deflated, every entry with one fixed date: the same files always give the
    same bytes (a package's fingerprint changes only when its content does)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def write_json(path: Path, obj: Any, scrubber: Scrubber | None = None) -> Path:
    scrubber = scrubber or default_scrubber()
    clean = scrubber.deep(json.loads(json.dumps(obj, default=str)))
    return write_text(path, json.dumps(clean, indent=2, ensure_ascii=False) + "\n", scrubber)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
