"""Writing evidence: atomically (a reader never sees half a file) and scrubbed of secrets."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .scrub import Scrubber, default_scrubber


def write_text(path: Path, text: str, scrubber: Scrubber | None = None) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename."""
    text = (scrubber or default_scrubber())(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, obj: Any, scrubber: Scrubber | None = None) -> Path:
    scrubber = scrubber or default_scrubber()
    clean = scrubber.deep(json.loads(json.dumps(obj, default=str)))
    return write_text(path, json.dumps(clean, indent=2, ensure_ascii=False) + "\n", scrubber)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
