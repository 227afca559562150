"""The pipeline's ``Code Scan IaC`` stage, run before anything is deployed: cfn-lint and checkov.

Both run as their own commands (as the pipeline does) on the template file. A clean scan has no cfn-lint
finding and no failed checkov check; checks skipped in the template must carry a written reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from productizar.core.errors import ProductizarError


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


def _tool(name: str) -> str:
    """The command installed beside this interpreter (the project's environment), else on PATH."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def _run(cmd: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise ProductizarError(f"No se encontró {cmd[0]}: instale las dependencias del proyecto (make demo).") from None


def cfn_lint(template: Path) -> list[Finding]:
    proc = _run([_tool("cfn-lint"), "--format", "json", str(template)])
    try:
        items = json.loads(proc.stdout or "[]")
    except json.JSONDecodeError:
        raise ProductizarError(f"cfn-lint no pudo revisar {template.name}: {proc.stderr.strip()[:500]}") from None
    return [
        Finding(
            tool="cfn-lint",
            rule=i["Rule"]["Id"],
            severity=i["Level"],
            resource="/".join(str(p) for p in i["Location"]["Path"][:2]),
            line=i["Location"]["Start"]["LineNumber"],
            message=i["Message"],
            fix=f"{i['Rule']['Description']} ({i['Rule']['Source']})",
        )
        for i in items
    ]


def checkov(template: Path) -> tuple[list[Finding], list[Finding], int]:
    """Failed and skipped checks, and how many passed. Offline: ``--skip-download``."""
    proc = _run(
        [_tool("checkov"), "-f", str(template), "--framework", "cloudformation", "--skip-download", "--output", "json"]
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise ProductizarError(f"checkov no pudo revisar {template.name}: {proc.stderr.strip()[:500]}") from None
    if isinstance(report, list):  # one report per framework when several apply
        report = next(r for r in report if r.get("check_type") == "cloudformation")
    results = report.get("results", {})

    def finding(c: dict, fix: str) -> Finding:
        lines = c.get("file_line_range") or [None]
        return Finding(
            "checkov", c["check_id"], "Error", c["resource"].split(".", 1)[-1], lines[0], c["check_name"], fix
        )

    failed = [
        finding(c, c.get("guideline") or f"Corregir en la plantilla: {c['check_name']}")
        for c in results.get("failed_checks", [])
    ]
    skipped = [
        finding(c, (c.get("check_result") or {}).get("suppress_comment") or "")
        for c in results.get("skipped_checks", [])
    ]
    return failed, skipped, len(results.get("passed_checks", []))


def scan(template: Path) -> ScanResult:
    failed, skipped, passed = checkov(template)
    return ScanResult(findings=cfn_lint(template) + failed, skipped=skipped, checkov_passed=passed)
