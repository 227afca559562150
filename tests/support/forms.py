"""The monitoring request's forms and mapping, copied for a test that edits them."""

import shutil
from pathlib import Path

import yaml

from productizar.core import paths

FORMS = paths.project_root() / "templates" / "documentos"


def mapping_copy(tmp_path: Path, edit=None) -> Path:
    """The default mapping and forms copied to tmp_path, the mapping changed by ``edit``."""
    for f in FORMS.iterdir():
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "solicitud_monitoreo.mapping.yaml"
    if edit:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        edit(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
