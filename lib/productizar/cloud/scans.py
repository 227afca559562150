"""The pipeline's ``Code Scan IaC`` stage, run before anything is deployed: cfn-lint and checkov.

Both run as their own commands (as the pipeline does) on the template file. A clean scan has no cfn-lint
finding and no failed checkov check; checks skipped in the template must carry a written reason.

A scan's result is kept under the cache folder, keyed by the template's bytes and by every package
installed beside each scanner (their versions and rules): the same template scanned by the same tools is
answered from it, and says so; any other byte, version or configuration file scans again.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from productizar.core import paths
from productizar.core.errors import ProductizarError
from productizar.core.files import write_json


@dataclass(frozen=True)
class Finding:
    tool: str
    rule: str
    severity: str
    resource: str
    line: int | None
    message: str
    fix: str


@dataclass
class ScanResult:
    findings: list[Finding]
    skipped: list[Finding]
    checkov_passed: int
    # when the result was answered from an identical earlier scan (same bytes, same tools): that scan's time
    reused_from: str | None = field(default=None, compare=False)

    @property
    def clean(self) -> bool:
        return not self.findings and all(s.fix for s in self.skipped)

    def table(self) -> pd.DataFrame:
        rows = [asdict(f) | {"estado": "hallazgo"} for f in self.findings]
        rows += [asdict(s) | {"estado": "omitido con justificación"} for s in self.skipped]
        columns = {
            "tool": "Herramienta",
            "rule": "Regla",
            "severity": "Severidad",
            "resource": "Recurso",
            "line": "Línea",
            "message": "Hallazgo",
            "fix": "Corrección o justificación",
            "estado": "Estado",
        }
        return pd.DataFrame(rows, columns=list(columns)).rename(columns=columns)


#: the scanners' own environments (created by the set-up: ``make``), each pinned in ``tools/<name>.txt``
TOOLS_DIR = ".tools"


def _tool(name: str) -> str:
    """Where a scanner lives: ``$PRODUCTIZAR_<NAME>``, else its own environment under ``.tools/`` (a tool with
    heavy pins, such as checkov, never shares the project's), else beside this interpreter, else on PATH."""
    chosen = os.environ.get(f"PRODUCTIZAR_{name.upper().replace('-', '_')}")
    if chosen:
        return chosen
    for candidate in (paths.project_root() / TOOLS_DIR / name / "bin" / name, Path(sys.executable).parent / name):
        if candidate.exists():
            return str(candidate)
    return name


def _run(cmd: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
    # checkov asks the package index for a newer release on every run unless told not to: offline, that is a
    # silent wait per scan
    env = os.environ | {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "1"}
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except FileNotFoundError:
        raise ProductizarError(f"No se encontró {cmd[0]}: instale las dependencias del proyecto (make demo).") from None


def cfn_lint(*templates: Path) -> dict[Path, list[Finding]]:
    """cfn-lint's findings per template (one process for all of them)."""
    out: dict[Path, list[Finding]] = {t: [] for t in templates}
    proc = _run([_tool("cfn-lint"), "--format", "json", *map(str, templates)])
    try:
        items = json.loads(proc.stdout or "[]")
    except json.JSONDecodeError:
        names = ", ".join(t.name for t in templates)
        raise ProductizarError(f"cfn-lint no pudo revisar {names}: {proc.stderr.strip()[:500]}") from None
    by_name = {str(t): t for t in templates}
    for i in items:
        template = by_name.get(i.get("Filename", ""), templates[0])
        out[template].append(
            Finding(
                tool="cfn-lint",
                rule=i["Rule"]["Id"],
                severity=i["Level"],
                resource="/".join(str(p) for p in i["Location"]["Path"][:2]),
                line=i["Location"]["Start"]["LineNumber"],
                message=i["Message"],
                fix=f"{i['Rule']['Description']} ({i['Rule']['Source']})",
            )
        )
    return out


@dataclass
class _Checkov:
    failed: list[Finding]
    skipped: list[Finding]
    passed: int


def checkov(*templates: Path) -> dict[Path, _Checkov]:
    """Failed and skipped checks, and how many passed, per template (one process). Offline: ``--skip-download``."""
    args = [a for t in templates for a in ("-f", str(t))]
    proc = _run([_tool("checkov"), *args, "--framework", "cloudformation", "--skip-download", "--output", "json"])
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        names = ", ".join(t.name for t in templates)
        raise ProductizarError(f"checkov no pudo revisar {names}: {proc.stderr.strip()[:500]}") from None
    if isinstance(report, list):  # one report per framework when several apply
        report = next(r for r in report if r.get("check_type") == "cloudformation")
    results = report.get("results", {}) if isinstance(report, dict) else {}
    out = {t: _Checkov([], [], 0) for t in templates}
    resolved = {t.resolve(): t for t in templates}

    def owner(c: dict) -> Path:
        path = Path(c.get("file_abs_path") or c.get("file_path") or "").resolve()
        return resolved.get(path, templates[0])

    def finding(c: dict, fix: str) -> Finding:
        lines = c.get("file_line_range") or [None]
        return Finding(
            "checkov", c["check_id"], "Error", c["resource"].split(".", 1)[-1], lines[0], c["check_name"], fix
        )

    for c in results.get("failed_checks", []):
        out[owner(c)].failed.append(finding(c, c.get("guideline") or f"Corregir en la plantilla: {c['check_name']}"))
    for c in results.get("skipped_checks", []):
        out[owner(c)].skipped.append(finding(c, (c.get("check_result") or {}).get("suppress_comment") or ""))
    for c in results.get("passed_checks", []):
        out[owner(c)].passed += 1
    return out


#: the scanners' configuration files, read from the folder they run in: a change scans again
CONFIG_FILES = (".cfnlintrc", ".cfnlintrc.yaml", ".checkov.yaml", ".checkov.yml")


def _tool_identity(name: str) -> str | None:
    """Every package installed beside a scanner (name and version), or None for a scanner outside an
    environment of its own, whose version cannot be read without running it: its results are not kept."""
    home = Path(_tool(name)).resolve().parent.parent
    installed = sorted(p.name for p in home.glob("lib/python*/site-packages/*.dist-info"))
    return "\n".join(installed) if installed else None


def _scanners_identity() -> str | None:
    """The scanners' packages and configuration files, read once per scan; None: results are not kept."""
    tools = [_tool_identity(n) for n in ("cfn-lint", "checkov")]
    if None in tools:
        return None
    configs = [(Path.cwd() / c).read_bytes().hex() for c in CONFIG_FILES if (Path.cwd() / c).is_file()]
    return "\0".join(str(part) for part in [*tools, *configs])


def _cache_key(template: Path, scanners: str) -> str:
    return hashlib.sha256(template.read_bytes() + b"\0" + scanners.encode()).hexdigest()


def _kept(key: str) -> ScanResult | None:
    """The result kept for ``key``, if its record names that key; anything unreadable is scanned again."""
    path = paths.cache_dir() / "scans" / f"{key}.json"
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        if kept["key"] != key:
            return None
        return ScanResult(
            findings=[Finding(**f) for f in kept["findings"]],
            skipped=[Finding(**f) for f in kept["skipped"]],
            checkov_passed=int(kept["checkov_passed"]),
            reused_from=str(kept["scanned_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _keep(key: str, result: ScanResult) -> None:
    record = {
        "key": key,
        "scanned_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "findings": [asdict(f) for f in result.findings],
        "skipped": [asdict(f) for f in result.skipped],
        "checkov_passed": result.checkov_passed,
    }
    try:
        write_json(paths.cache_dir() / "scans" / f"{key}.json", record)
    except (OSError, ProductizarError):  # a cache not written costs the next scan its time, nothing else
        pass


def scan_many(templates: list[Path]) -> dict[Path, ScanResult]:
    """Scan several templates with one run of each tool (the tools' start-up is most of a scan's time); a
    template scanned before with the same bytes and tools is answered from that scan."""
    scanners = _scanners_identity()
    keys = {t: _cache_key(t, scanners) if scanners else None for t in templates}
    out = {t: kept for t, k in keys.items() if k and (kept := _kept(k))}
    fresh = [t for t in templates if t not in out]
    if fresh:
        lint, ckv = cfn_lint(*fresh), checkov(*fresh)
        for t in fresh:
            out[t] = ScanResult(findings=lint[t] + ckv[t].failed, skipped=ckv[t].skipped, checkov_passed=ckv[t].passed)
            key = keys[t]
            if key:
                _keep(key, out[t])
    return {t: out[t] for t in templates}


def scan(template: Path) -> ScanResult:
    return scan_many([template])[template]
