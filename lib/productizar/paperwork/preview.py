"""What a filled form looks like: its first page rendered by LibreOffice (to PDF) and pdftoppm (to PNG).

Both are Debian packages (``libreoffice-writer-nogui``, ``libreoffice-calc-nogui``, ``poppler-utils``);
without them the documents are still produced and the step says no preview could be made.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from productizar.core.errors import ProductizarError
from productizar.core.files import atomic_path


class PreviewUnavailable(ProductizarError):
    pass


@dataclass(frozen=True)
class Preview:
    source: Path
    pdf: Path
    png: Path


def tools() -> tuple[str, str]:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pdftoppm = shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        raise PreviewUnavailable(
            "No hay vista previa: instale LibreOffice y poppler-utils (apt-get install "
            "libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils)."
        )
    return soffice, pdftoppm


def first_page(document: Path, out_dir: Path, dpi: int = 60, timeout_s: float = 180) -> Preview:
    """``<stem>_<ext>.pdf`` and ``<stem>_<ext>.png`` (first page) of ``document`` in ``out_dir`` (the extension
    is kept in the name: a form's Excel and Word share their stem)."""
    soffice, pdftoppm = tools()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="productizar-lo-") as work:
        work_dir = Path(work)
        # a private LibreOffice profile: runs in parallel do not fight over ~/.config/libreoffice
        cmd = [
            soffice,
            f"-env:UserInstallation=file://{work_dir / 'profile'}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work_dir),
            str(document),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        pdf_tmp = work_dir / f"{document.stem}.pdf"
        if done.returncode != 0 or not pdf_tmp.exists():
            raise ProductizarError(
                f"LibreOffice no pudo convertir {document.name} a PDF: {(done.stderr or done.stdout).strip()[:300]}"
            )
        subprocess.run(
            [
                pdftoppm,
                "-png",
                "-r",
                str(dpi),
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(pdf_tmp),
                str(work_dir / "page"),
            ],
            check=True,
            capture_output=True,
            timeout=timeout_s,
        )
        name = f"{document.stem}_{document.suffix.lstrip('.')}"
        pdf, png = out_dir / f"{name}.pdf", out_dir / f"{name}.png"
        for src, dst in ((pdf_tmp, pdf), (work_dir / "page.png", png)):
            with atomic_path(dst) as tmp:
                shutil.copyfile(src, tmp)
    return Preview(document, pdf, png)


def pdf_text(pdf: Path) -> str:
    """The text of a PDF (pdftotext, from poppler-utils): to check what a rendered page says."""
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
