"""The package rules: the API the analysts deliver (a Django project in a zip), checked without running it.

The runbook's "Desplegar API" fixes by hand what this finds: keys left in ``config.json`` or anywhere in
the tree, DynamoDB table names written in the code instead of read from the environment, a Dockerfile with
an unpinned base image or running as root, ``DEBUG = True``, no ``ALLOWED_HOSTS``, a ``db.sqlite3`` shipped
or models without migrations. Each finding says file, line and the fix. The zip is read, never extracted.

The repository's ``reference_api/`` is what a clean delivery looks like; ``reference_zip`` packs it for an
HU (its ``config.json`` lists the HU's tables) and is what the demo checks and ``local`` runs.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from productizar.core import naming, paths
from productizar.core.errors import ProductizarError, StepFailed
from productizar.core.files import write_bytes, zip_bytes
from productizar.core.hu import HU, hu_file

REFERENCE = paths.project_root() / "reference_api"
TEXT_SUFFIXES = {
    ".py",
    ".json",
    ".txt",
    ".yaml",
    ".yml",
    ".cfg",
    ".ini",
    ".env",
    ".sh",
    ".toml",
    ".conf",
    ".properties",
}
MAX_TEXT_BYTES = 2_000_000


class PackageError(ProductizarError):
    """The delivered file is not a zip, or not a Django project."""


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    rule: str
    problem: str
    fix: str


# ----------------------------------------------------------------------------------------- the reference


def config_for(hu: HU) -> dict[str, Any]:
    """The reference API's ``config.json`` for an HU: routes and keys, and the variable naming each table."""
    return {
        "api": hu.api.name,
        "slug": hu.api.slug,
        "tablas": [
            {
                "ruta": t.names.table,
                "variable_tabla": naming.api_table_variable(t.names.table),
                "partition_key": t.partition_key.model_dump(),
                "sort_key": t.sort_key.model_dump() if t.sort_key else None,
            }
            for t in hu.tables
        ],
    }


def reference_files(hu: HU) -> dict[str, bytes]:
    """Every file of the reference API, ``config.json`` written for the HU (caches and local files left out)."""
    out: dict[str, bytes] = {}
    for path in sorted(REFERENCE.rglob("*")):
        rel = path.relative_to(REFERENCE).as_posix()
        if path.is_dir() or "__pycache__" in rel or rel.endswith(".pyc"):
            continue
        out[rel] = path.read_bytes()
    out["config.json"] = (json.dumps(config_for(hu), indent=2, ensure_ascii=False) + "\n").encode()
    return out


def reference_zip(hu: HU, out: Path) -> Path:
    """``<ApiName>.zip`` with the project under ``<ApiName>/``, as the analysts deliver it."""
    return write_bytes(out, zip_bytes({f"{hu.api.name}/{rel}": data for rel, data in reference_files(hu).items()}))


# ----------------------------------------------------------------------------------------- reading a zip


def _open(path: Path) -> dict[str, bytes]:
    """Every file of the zip (relative to the project folder), or a PackageError saying why not."""
    if not path.is_file():
        raise PackageError(f"No existe el paquete del API: {path}. Revise api.package en el archivo de la HU.")
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            if bad:
                raise PackageError(f"{path.name} está dañado: el archivo {bad} no se puede leer. Pida el zip de nuevo.")
            files = {
                i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir() and i.file_size <= MAX_TEXT_BYTES * 10
            }
    except zipfile.BadZipFile:
        raise PackageError(
            f"{path.name} no es un zip válido (¿archivo incompleto o de otro tipo?). Pida el zip de nuevo."
        ) from None
    roots = {PurePosixPath(n).parts[0] for n in files if len(PurePosixPath(n).parts) > 1}
    tops = {n for n in files if len(PurePosixPath(n).parts) == 1}
    if len(roots) == 1 and not tops:  # a single project folder inside the zip: paths relative to it
        root = roots.pop()
        files = {n[len(root) + 1 :]: d for n, d in files.items()}
    if "manage.py" not in files or not any(PurePosixPath(n).name == "settings.py" for n in files):
        raise PackageError(
            f"{path.name} no es un proyecto Django: le falta manage.py o settings.py en la raíz del proyecto."
        )
    return files


def _is_text(name: str) -> bool:
    p = PurePosixPath(name)
    return p.suffix in TEXT_SUFFIXES or p.name in ("Dockerfile", ".env") or p.name.startswith("Dockerfile")


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8", errors="replace").splitlines()


# ----------------------------------------------------------------------------------------- the rules

_SECRETS = [
    ("clave-aws", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "una clave de acceso de AWS"),
    (
        "secreto-aws",
        re.compile(r"(?i)aws_secret_access_key[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+=]{40}"),
        "un secreto de AWS",
    ),
    ("clave-privada", re.compile(r"-----BEGIN (RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"), "una clave privada"),
    (
        "contrasena",
        re.compile(r"(?i)\w*(password|passwd|pwd|clave|contrase(n|ñ)a)\w*[\"']?\s*[:=]\s*[\"'][^\"'\s]{3,}[\"']"),
        "una contraseña",
    ),
    (
        "token",
        re.compile(r"(?i)\b\w*(token|secret|api_?key)\w*[\"']?\s*[:=]\s*[\"'][^\"'\s]{8,}[\"']"),
        "un token o secreto",
    ),
]
_SECRET_FIX = (
    "Quítelo del paquete y de la historia del repositorio, rótelo, y léalo del entorno: en AWS, el rol "
    "del pod (IRSA) da las credenciales; otros secretos, desde el gestor de secretos."
)
_CREDENTIAL_KEY = re.compile(r"(?i)(access_?key|secret|password|passwd|token|credential|api_?key)")


def _secret_findings(name: str, lines: list[str]) -> list[Finding]:
    out = []
    for i, line in enumerate(lines, start=1):
        for rule, pattern, what in _SECRETS:
            if pattern.search(line):
                out.append(Finding(name, i, rule, f"contiene {what}", _SECRET_FIX))
                break
    return out


def _config_findings(name: str, data: bytes, lines: list[str]) -> list[Finding]:
    """Keys in config.json whose names say credential and that hold a value."""
    try:
        config = json.loads(data)
    except ValueError as exc:
        return [
            Finding(
                name,
                getattr(exc, "lineno", None),
                "config-json",
                "config.json no es JSON válido",
                "Corrija el JSON (el API no arrancaría).",
            )
        ]
    out = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if _CREDENTIAL_KEY.search(str(k)) and isinstance(v, str) and v.strip():
                    line = next((i for i, t in enumerate(lines, start=1) if f'"{k}"' in t), None)
                    out.append(
                        Finding(
                            name,
                            line,
                            "credencial-config",
                            f'config.json trae la credencial "{k}"',
                            "Borre la entrada: las credenciales vienen del rol del pod, no del paquete.",
                        )
                    )
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(config)
    return out


def _table_name_findings(name: str, lines: list[str], hu: HU) -> list[Finding]:
    out = []
    names = {t.names.dynamo_table: t for t in hu.tables}
    for i, line in enumerate(lines, start=1):
        for dynamo, t in names.items():
            if re.search(rf"[\"']{re.escape(dynamo)}[\"']", line):
                out.append(
                    Finding(
                        name,
                        i,
                        "tabla-fija",
                        f"nombre de tabla DynamoDB escrito en el código ({dynamo})",
                        f'Léalo del entorno: os.environ["{naming.api_table_variable(t.names.table)}"] '
                        "(el release lo define por ambiente).",
                    )
                )
        if name.endswith(".py") and re.search(r"\.Table\(\s*[\"']", line):
            out.append(
                Finding(
                    name,
                    i,
                    "tabla-fija",
                    "Table() recibe un nombre de tabla literal",
                    "Pase el nombre leído de una variable de entorno.",
                )
            )
    return out


def _dockerfile_findings(name: str, lines: list[str]) -> list[Finding]:
    out = []
    user = None
    for i, line in enumerate(lines, start=1):
        text = line.strip()
        m = re.match(r"(?i)^FROM\s+(--platform=\S+\s+)?(?P<image>\S+)", text)
        if m:
            image = m.group("image")
            ref = image.split("/")[-1]
            if "@sha256:" not in image and (":" not in ref or ref.endswith(":latest")):
                out.append(
                    Finding(
                        name,
                        i,
                        "imagen-sin-version",
                        f"imagen base sin versión fija ({image})",
                        "Fije la versión (python:3.11.10-slim-bookworm) o el digest (@sha256:…).",
                    )
                )
        m = re.match(r"(?i)^USER\s+(\S+)", text)
        if m:
            user = (m.group(1), i)
    if user is None or user[0].split(":")[0] in ("root", "0"):
        out.append(
            Finding(
                name,
                user[1] if user else None,
                "usuario-root",
                "el contenedor corre como root",
                "Cree un usuario sin privilegios (useradd --uid 10001 api) y termine con USER api.",
            )
        )
    return out


def _settings_findings(name: str, lines: list[str]) -> list[Finding]:
    out = []
    hosts = None
    for i, line in enumerate(lines, start=1):
        if re.match(r"^\s*DEBUG\s*=\s*True\b", line):
            out.append(
                Finding(
                    name,
                    i,
                    "debug",
                    "DEBUG = True: en un error el API muestra su código y su configuración",
                    'DEBUG = os.environ.get("DJANGO_DEBUG", "false").lower() == "true"',
                )
            )
        if re.match(r"^\s*ALLOWED_HOSTS\s*=", line):
            hosts = (i, line)
    if hosts is None:
        out.append(
            Finding(
                name,
                None,
                "allowed-hosts",
                "no define ALLOWED_HOSTS",
                "ALLOWED_HOSTS leído del entorno (DJANGO_ALLOWED_HOSTS), con el dominio del API.",
            )
        )
    elif re.search(r"=\s*\[\s*\]", hosts[1]) or re.search(r"[\"']\*[\"']", hosts[1]):
        out.append(
            Finding(
                name,
                hosts[0],
                "allowed-hosts",
                "ALLOWED_HOSTS vacío o con «*»",
                "Liste los dominios del API, leídos del entorno (DJANGO_ALLOWED_HOSTS).",
            )
        )
    return out


def _database_findings(files: dict[str, bytes]) -> list[Finding]:
    out = []
    for name in files:
        if PurePosixPath(name).name == "db.sqlite3":
            out.append(
                Finding(
                    name,
                    None,
                    "db-sqlite",
                    "el paquete trae la base de datos local db.sqlite3",
                    "Bórrela y agréguela a .dockerignore: el API solo lee DynamoDB.",
                )
            )
        if PurePosixPath(name).name == ".env":
            out.append(
                Finding(
                    name,
                    None,
                    "archivo-env",
                    "el paquete trae un archivo .env",
                    "Bórrelo: las variables las define el release por ambiente.",
                )
            )
    for name, data in files.items():
        p = PurePosixPath(name)
        if p.name == "models.py" and re.search(rb"class\s+\w+\(\s*(models\.)?Model\s*\)", data):
            migrations = (
                str(p.parent / "migrations" / "__init__.py") if str(p.parent) != "." else "migrations/__init__.py"
            )
            if migrations not in files:
                out.append(
                    Finding(
                        name,
                        None,
                        "sin-migraciones",
                        "hay modelos pero no la carpeta migrations/",
                        "Genere las migraciones (manage.py makemigrations) o quite los modelos si el API solo lee "
                        "DynamoDB.",
                    )
                )
    return out


def check(path: Path, hu: HU) -> list[Finding]:
    """Every finding of the delivered zip, in file order; a PackageError if it is not a Django project."""
    files = _open(path)
    findings: list[Finding] = []
    for name, data in sorted(files.items()):
        if not _is_text(name) or len(data) > MAX_TEXT_BYTES:
            continue
        lines = _lines(data)
        findings += _secret_findings(name, lines)
        if PurePosixPath(name).name == "config.json":
            findings += _config_findings(name, data, lines)
        findings += _table_name_findings(name, lines, hu)
        if PurePosixPath(name).name.startswith("Dockerfile"):
            findings += _dockerfile_findings(name, lines)
        if PurePosixPath(name).name == "settings.py":
            findings += _settings_findings(name, lines)
    if not any(PurePosixPath(n).name.startswith("Dockerfile") for n in files):
        findings.append(
            Finding(
                "Dockerfile",
                None,
                "sin-dockerfile",
                "el paquete no trae Dockerfile",
                "Agregue el Dockerfile (vea reference_api/Dockerfile).",
            )
        )
    findings += _database_findings(files)
    return findings


def findings_table(findings: list[Finding]) -> pd.DataFrame:
    if not findings:
        return pd.DataFrame(
            {
                "Resultado": [
                    "Sin hallazgos: el paquete no trae claves, lee sus tablas del entorno y su "
                    "Dockerfile y settings están en orden."
                ]
            }
        )
    rows = [
        {
            "Archivo": f.file,
            "Línea": f.line if f.line is not None else "—",
            "Regla": f.rule,
            "Problema": f.problem,
            "Corrección": f.fix,
        }
        for f in findings
    ]
    return pd.DataFrame(rows, dtype=object)


def facts(path: Path, findings: list[Finding], reference: bool) -> dict[str, Any]:
    return {
        "package": path.name,
        "reference_api": reference,
        "findings": [asdict(f) for f in findings],
        "verdict": "fail" if findings else "pass",
    }


def package_path(hu: HU, hu_path: Path, output_dir: Path) -> tuple[Path, bool]:
    """The zip to check and run: the HU's ``api.package`` (relative to the HU file), or the reference API
    packed for the HU under ``api/`` in the evidence folder. Second value: whether it is the reference."""
    if hu.api.package:
        return hu_file(hu_path, hu.api.package, "api.package"), False
    return reference_zip(hu, output_dir / "api" / f"{hu.api.name}.zip"), True


def describe(path: Path, reference: bool) -> str:
    return f"Paquete: {path.name}" + (" (API de referencia empaquetado para esta HU)" if reference else "")


def verdict(findings: list[Finding]) -> str:
    """One sentence; ``StepFailed`` when the package must not go on (the batch stops at this step)."""
    if not findings:
        return "Paquete en orden: se puede desplegar."
    files = sorted({f.file for f in findings})
    raise StepFailed(
        f"El paquete del API tiene {len(findings)} hallazgo(s) en {', '.join(files)}: "
        "corríjalos (tabla de arriba) y entregue el zip de nuevo."
    )
