"""The evidence folder ``outputs/HU<id>/<env>/``: executed notebooks, their HTML, index.html, summary.json.

Everything goes through the scrubber on its way to disk, and every file is written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from productizar.core.files import write_text
from productizar.core.scrub import Scrubber, SecretInEvidence, check_clean
from productizar.run import headline, templates

SUMMARY = "summary.json"
INDEX = "index.html"
STATE = ".state"
LOCK_NAME = ".run.lock"
# what the sweep reads whole: evidence is pages, tables and documents; a file larger than this is data (the
# results-zone copy a Spark load reads is kept in ``.state/``), written by the tool, never from a secret
SWEEP_MAX_BYTES = 64 * 1024 * 1024


def state_dir(out: Path, step: str) -> Path:
    """What a step keeps between its runs (a load's checkpoints): not evidence; ``--force`` discards it."""
    return out / STATE / step


if TYPE_CHECKING:
    import nbformat


def save_notebook(nb: nbformat.NotebookNode, path: Path, scrubber: Scrubber) -> tuple[Path, Path]:
    """Scrub an executed notebook, then write it and its HTML rendering side by side. nbformat and nbconvert
    are imported here, by the runner, not by every notebook kernel that opens a step (2 s of imports each)."""
    import nbformat
    from nbconvert import HTMLExporter

    scrubber.deep(nb)
    write_text(path, nbformat.writes(nb), scrubber)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    html_path = path.with_suffix(".html")
    write_text(html_path, body, scrubber)
    return path, html_path


def sweep(out: Path, since: float, scrubber: Scrubber, checked: Collection[Path] = ()) -> list[str]:
    """The last net: every file of the evidence changed since ``since`` (what a step wrote by any means,
    LibreOffice's previews and Spark's logs too) read part by part; a file that holds a known secret is
    removed, and the sentence saying so returned. ``checked``: files just written through ``core.files``."""
    removed = []
    for path in sorted(p for p in out.rglob("*") if p.is_file() and p not in checked):
        try:
            stat = path.stat()
            if stat.st_mtime < since or path.name == LOCK_NAME or stat.st_size > SWEEP_MAX_BYTES:
                continue
            check_clean(path.read_bytes(), str(path.relative_to(out)), scrubber)
        except SecretInEvidence as exc:
            path.unlink(missing_ok=True)
            removed.append(f"{exc} (el archivo se retiró de la evidencia)")
        except OSError:
            continue
    return removed


def save_summary(out: Path, summary: dict[str, Any], scrubber: Scrubber) -> None:
    """The summary and its HTML page; values are scrubbed before the page escapes them (an escaped secret
    no longer looks like itself)."""
    clean = scrubber.deep(json.loads(json.dumps(summary, default=str)))
    write_text(out / SUMMARY, json.dumps(clean, indent=2, ensure_ascii=False) + "\n", scrubber)
    write_text(out / INDEX, render_index(clean), scrubber)


_INDEX = templates.get_template("index.html.j2")

LABELS = {"ok": "correcto", "failed": "falló", "skipped": "omitido", "running": "en ejecución"}


def render_index(summary: dict[str, Any]) -> str:
    return _INDEX.render(s=summary, labels=LABELS, change=headline.change_text)
