"""The delivered API's zip, checked without running it: planted problems found, the reference stays quiet."""

import io
import zipfile
from pathlib import Path

import pytest

from productizar.api import package as api_package
from productizar.api.package import PackageError
from productizar.core import naming
from productizar.core.errors import StepFailed
from productizar.core.hu import load_hu

DEMO = Path(__file__).resolve().parents[2] / "parameters" / "hu" / "demo.yaml"
HU = load_hu(DEMO)
FAKE_KEY = "AKIA" + "Q" * 16  # the shape of an AWS access key id, built here so no scanner flags this file
FAKE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"


def zip_of(files: dict[str, bytes | str], root: str = "MiApi") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(f"{root}/{name}" if root else name, data)
    return buf.getvalue()


def planted() -> dict[str, bytes | str]:
    """The reference API with the runbook's usual problems planted, one per file and line we know."""
    files = dict(api_package.reference_files(HU))
    files["config.json"] = (
        '{\n  "slug": "alter-ctra-score-delta",\n  "aws_access_key_id": "' + FAKE_KEY + '",\n'
        '  "aws_secret_access_key": "' + FAKE_SECRET + '",\n  "tablas": []\n}\n'
    )
    files["api_productizar/settings.py"] = (
        "import os\nDEBUG = True\nDB_PASSWORD = 'Sup3rSecreta'\nINSTALLED_APPS = ['consultas']\n"
    )
    dynamo = HU.tables[0].names.dynamo_table
    files["consultas/views.py"] = f"import boto3\n\ntabla = boto3.resource('dynamodb').Table('{dynamo}')\n"
    files["Dockerfile"] = 'FROM python:latest\nCOPY . /app\nCMD ["python", "manage.py", "runserver"]\n'
    files["db.sqlite3"] = b"SQLite format 3\x00"
    files["consultas/models.py"] = "from django.db import models\n\n\nclass Cliente(models.Model):\n    pass\n"
    return files


def test_the_reference_api_has_no_findings(tmp_path):
    path = api_package.reference_zip(HU, tmp_path / "ref.zip")
    assert api_package.check(path, HU) == []
    assert api_package.reference_zip(HU, tmp_path / "again.zip").read_bytes() == path.read_bytes()  # reproducible
    assert api_package.verdict([]) == "Paquete en orden: se puede desplegar."


def test_planted_problems_are_found_with_file_line_and_fix(tmp_path):
    path = tmp_path / "entregado.zip"
    path.write_bytes(zip_of(planted()))
    found = {(f.file, f.line, f.rule) for f in api_package.check(path, HU)}
    assert {
        ("config.json", 3, "clave-aws"),
        ("config.json", 3, "credencial-config"),
        ("config.json", 4, "secreto-aws"),
        ("config.json", 4, "credencial-config"),
        ("api_productizar/settings.py", 2, "debug"),
        ("api_productizar/settings.py", 3, "contrasena"),
        ("api_productizar/settings.py", None, "allowed-hosts"),
        ("consultas/views.py", 3, "tabla-fija"),
        ("Dockerfile", 1, "imagen-sin-version"),
        ("Dockerfile", None, "usuario-root"),
        ("db.sqlite3", None, "db-sqlite"),
        ("consultas/models.py", None, "sin-migraciones"),
    } <= found
    findings = api_package.check(path, HU)
    assert all(f.fix for f in findings)
    table_fix = next(
        f.fix for f in findings if f.rule == "tabla-fija" and f.file == "consultas/views.py" and "escrito" in f.problem
    )
    assert naming.api_table_variable("alter_ctra_score_delta") in table_fix
    text = api_package.findings_table(findings).to_string() + str(api_package.facts(path, findings, False))
    assert FAKE_KEY not in text and FAKE_SECRET not in text and "Sup3rSecreta" not in text  # never repeated
    assert len(findings) == 13
    files = r"Dockerfile, api_productizar/settings.py, config.json, consultas/models.py, consultas/views.py, db.sqlite3"
    with pytest.raises(StepFailed, match=rf"^El paquete del API tiene 13 hallazgo\(s\) en {files}: corríjalos"):
        api_package.verdict(findings)


def test_allowed_hosts_open_and_root_user_are_findings(tmp_path):
    files = dict(api_package.reference_files(HU))
    files["api_productizar/settings.py"] = files["api_productizar/settings.py"].replace(
        b"ALLOWED_HOSTS = [", b"ALLOWED_HOSTS = ['*'] or ["
    )
    files["Dockerfile"] = files["Dockerfile"].replace(b"USER api", b"USER root")
    path = tmp_path / "z.zip"
    path.write_bytes(zip_of(files))
    rules = {f.rule for f in api_package.check(path, HU)}
    assert rules == {"allowed-hosts", "usuario-root"}


@pytest.mark.parametrize(
    "content, message",
    [
        (b"esto no es un zip", "no es un zip válido"),
        (zip_of({"README.md": "hola", "app.py": "print(1)"}), "no es un proyecto Django"),
    ],
)
def test_a_corrupt_or_foreign_zip_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "x.zip"
    path.write_bytes(content)
    with pytest.raises(PackageError, match=message):
        api_package.check(path, HU)


def test_a_damaged_member_is_a_clear_error(tmp_path):
    data = bytearray(zip_of({"manage.py": "x" * 5000, "api/settings.py": "DEBUG = False\n"}, root=""))
    i = data.find(b"x" * 100)
    data[i : i + 50] = b"y" * 50  # stored (not compressed): the CRC no longer matches
    path = tmp_path / "roto.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(PackageError, match="dañado"):
        api_package.check(path, HU)
