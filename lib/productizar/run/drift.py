"""``productizar drift``: what differs between environments for one HU, read live from each, side by side.

Each environment's snapshot (``cloud.snapshot``: the stack, the tables, the Glue job, the API's answers to
the same sampled keys) plus the coordinator configs its last run delivered; every field that differs is a
row with each environment's value, marked expected (``parameters/drift.yaml`` says why) or drift. An
environment with nothing deployed is reported as such, not compared. Evidence: ``outputs/HU<id>/drift/``
(``drift.json`` and ``index.html``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from productizar.cloud import aws, snapshot
from productizar.cloud.snapshot import Snapshot
from productizar.core import naming, paths
from productizar.core.differences import expected_for, load_expected
from productizar.core.environments import EMBEDDED, Environment, get_environment, uses_embedded
from productizar.core.errors import UsageError
from productizar.core.files import write_text
from productizar.core.hu import HU, load_hu
from productizar.local import embedded
from productizar.run import templates
from productizar.run.endpoints import embedded_api, resolve

MISSING = "(no está)"


@dataclass(frozen=True)
class Row:
    field: str
    values: dict[str, Any]
    expected: bool
    why: str = ""


@dataclass
class Report:
    hu_id: int
    api: str
    environments: list[str]
    not_deployed: dict[str, str]
    rows: list[Row]
    cfn_drift: dict[str, str] = field(default_factory=dict)
    compared_fields: int = 0

    @property
    def drift(self) -> list[Row]:
        return [r for r in self.rows if not r.expected]

    def summary(self) -> str:
        """One Spanish sentence: how many drift and expected differences, over how many fields."""
        drift, expected = len(self.drift), len(self.rows) - len(self.drift)
        plural = {1: ""}
        return (
            f"{drift} diferencia{plural.get(drift, 's')} de deriva, {expected} esperada{plural.get(expected, 's')}, "
            f"{self.compared_fields} campos comparados"
        )

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"drift_rows": len(self.drift), "expected_rows": len(self.rows) - len(self.drift)}


def parse_envs(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if len(names) < 2 or len(set(names)) != len(names):
        raise UsageError(f"--envs needs two or more different environments, comma-separated (got {text!r})")
    return names


def _coordinator_values(hu: HU, env_name: str) -> dict[str, Any]:
    """The coordinator configs the environment's last run delivered (its evidence), field by field."""
    folder = paths.hu_output_dir(hu.id, env_name) / "coordinadores" / hu.api.name / "API" / "cfg"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        return {"coordinadores": "sin evidencia de una corrida de coordinadores en este ambiente"}
    values: dict[str, Any] = {}

    def flat(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                flat(f"{prefix}.{k}", v)
        else:
            values[prefix] = json.dumps(node, ensure_ascii=False) if isinstance(node, list) else node

    for f in files:
        flat(f"coordinadores.{f.stem}", json.loads(f.read_text(encoding="utf-8")))
    return values


def _api_url(hu: HU, hu_path: Path, env_name: str, env: Environment) -> str | None:
    if env.api is None:
        return None
    if env.api.base_url != EMBEDDED:
        return env.api.base_url
    return embedded_api(hu, hu_path, paths.hu_output_dir(hu.id, env_name), env)


def collect(
    hu: HU, hu_path: Path, env_names: list[str], progress: Callable[[str], None] = print, count: bool = True
) -> dict[str, Snapshot]:
    """Every environment's snapshot, then the APIs asked the same keys (present in every deployed one)."""
    settings = {name: get_environment(name) for name in env_names}
    if any(uses_embedded(env) for env in settings.values()) and embedded.running() is None:
        raise UsageError(
            "the embedded default is not up: the local-* environments keep their state only while it runs "
            "(make promotion ARGS=--keep-up, or productizar local up and the runs)"
        )
    resolved = {name: resolve(env) for name, env in settings.items()}
    stack_name = naming.stack_name(hu.api.slug)
    shots: dict[str, Snapshot] = {}
    by_env = {name: aws.clients(env) for name, env in resolved.items()}  # one client per service and environment
    for name, env in resolved.items():
        clients = by_env[name]
        account = env.aws.account_id
        progress(f"{name}: stack {stack_name}…")
        found = snapshot.stack_values(clients("cloudformation"), stack_name, account)
        if found is None:
            shots[name] = Snapshot(name, False, f"no hay stack {stack_name} desplegado")
            progress(f"{name}: sin nada desplegado para la HU {hu.id}.")
            continue
        shot = Snapshot(name, True, values=found)
        for spec in hu.tables:
            progress(f"{name}: tabla {spec.names.dynamo_table}" + (" (conteo por Scan paralelo)…" if count else "…"))
            shot.values |= snapshot.table_values(clients, spec, env, count=count)
        shot.values |= snapshot.glue_values(clients("glue"), hu, env)
        shot.values |= _coordinator_values(hu, name)
        shot.cfn_drift = snapshot.cfn_drift(clients("cloudformation"), stack_name)
        shots[name] = shot
    deployed = [n for n in env_names if shots[n].deployed]
    if len(deployed) >= 2:
        keys = snapshot.common_keys(hu, [by_env[n]("dynamodb") for n in deployed])
        progress(f"API: {sum(map(len, keys.values()))} claves presentes en todos los ambientes, por tabla.")
        for name in deployed:
            endpoint = resolved[name].api
            url = _api_url(hu, hu_path, name, resolved[name])
            if url is None or endpoint is None:
                shots[name].values["api"] = "sin api.base_url en environments.yaml"
                continue
            shots[name].values |= snapshot.api_values(hu, url, endpoint.timeout_s, keys, by_env[name]("dynamodb"))
    return shots


def compare(shots: dict[str, Snapshot], env_names: list[str], hu: HU) -> Report:
    """The rows: every field whose value is not the same in every deployed environment."""
    rules = load_expected()
    deployed = [n for n in env_names if shots[n].deployed]
    fields = sorted({f for n in deployed for f in shots[n].values})
    rows = []
    for name in fields:
        values = {n: shots[n].values.get(name, MISSING) for n in deployed}
        base = values[deployed[0]] if deployed else None
        differing = {n for n, v in values.items() if v != base}
        if not differing:
            continue
        rule = expected_for(rules, name, differing)
        rows.append(Row(name, values, rule is not None, rule.why if rule else ""))
    return Report(
        hu.id,
        hu.api.name,
        env_names,
        {n: shots[n].reason for n in env_names if not shots[n].deployed},
        rows,
        {n: shots[n].cfn_drift for n in deployed},
        len(fields),
    )


def render_text(report: Report) -> str:
    lines = [f"Deriva de la HU {report.hu_id} ({report.api}) entre {', '.join(report.environments)}"]
    for name, reason in report.not_deployed.items():
        lines.append(f"  {name}: sin nada desplegado ({reason}); no se compara")
    compared = [n for n in report.environments if n not in report.not_deployed]
    if len(compared) < 2:
        lines.append("  Menos de dos ambientes con despliegue: no hay nada que comparar.")
    for r in report.rows:
        mark = "esperada" if r.expected else "DERIVA"
        values = " | ".join(f"{n}={r.values.get(n)}" for n in compared)
        lines.append(f"  [{mark}] {r.field}: {values}" + (f"  ({r.why})" if r.why else ""))
    for name, said in report.cfn_drift.items():
        lines.append(f"  detección de deriva de CloudFormation en {name}: {said}")
    lines.append(report.summary() + ".")
    return "\n".join(lines)


def write(report: Report) -> tuple[Path, Path]:
    """``drift.json`` and ``index.html`` under ``outputs/HU<id>/drift/``."""
    folder = paths.output_root() / f"HU{report.hu_id}" / "drift"
    data = write_text(folder / "drift.json", json.dumps(report.as_json(), indent=2, ensure_ascii=False, default=str))
    compared = [n for n in report.environments if n not in report.not_deployed]
    page = templates.get_template("drift.html.j2").render(report=report, compared=compared)
    return data, write_text(folder / "index.html", page)


def run(hu_file: str, envs: str, echo: Callable[[str], None] = print, count: bool = True) -> int:
    """The command: 0 without unexpected drift, 1 with it."""
    names = parse_envs(envs)
    path = Path(hu_file).resolve()
    hu = load_hu(path)
    report = compare(collect(hu, path, names, echo, count), names, hu)
    data, page = write(report)
    echo(render_text(report))
    echo(f"evidencia: {paths.shown(page)} y {paths.shown(data)}")
    return 1 if report.drift else 0
