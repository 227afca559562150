"""Step ``pruebas``: the specialized load tests. Key CSVs read from DynamoDB, the JMeter plan the pipeline
runs in every environment, and, against an API on loopback, the same scenario run here with Locust."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from productizar.api import loadtest
from productizar.api.loadtest import LoadRun
from productizar.core import naming
from productizar.core.files import write_text
from productizar.run import headline
from productizar.run.step import Step


@dataclass
class Prepared:
    folder: Path
    csvs: dict[str, Path]
    plan: Path
    locustfile: Path


def prepare(step: Step, per_table: int = 200) -> Prepared:
    """Key CSVs, the JMeter plan and the Locust scenario under ``pruebas/`` in the evidence folder."""
    hu = step.hu
    folder = step.output_dir / "pruebas"
    csvs = loadtest.write_key_csvs(hu, step.client("dynamodb"), folder, per_table)
    plan = write_text(folder / f"pruebas_{naming.api_snake(hu.api.name)}.jmx", loadtest.jmx(hu))
    scenario = write_text(folder / "locustfile.py", loadtest.locustfile(hu))
    return Prepared(folder, csvs, plan, scenario)


def files_table(p: Prepared) -> pd.DataFrame:
    rows: list[dict[str, Any]] = [
        {"Archivo": f"{p.folder.name}/{f.name}", "Filas": sum(1 for _ in f.open(encoding="utf-8")) - 1}
        for f in p.csvs.values()
    ]
    rows += [{"Archivo": f"{p.folder.name}/{f.name}", "Filas": "—"} for f in (p.plan, p.locustfile)]
    return pd.DataFrame(rows)


def plan_table(step: Step) -> pd.DataFrame:
    """What the .jmx holds, one row per thread group."""
    hu = step.hu
    tps = loadtest.query_tps(hu)
    return pd.DataFrame(
        [
            {
                "Grupo de hilos": q.name,
                "Solicitud": f"GET {q.path(hu.api.slug)}",
                "Datos": loadtest.csv_name(q.spec),
                "TPS objetivo": round(tps[q], 2),
                "Aserciones": "código 200" + (f", ≤ {hu.nfr.p95_ms} ms" if hu.nfr.p95_ms else ""),
            }
            for q in loadtest.queries(hu)
        ]
    )


def run_local(step: Step, prepared: Prepared, **options: Any) -> LoadRun | None:
    """The Locust run against the environment's API when it is on loopback; None (and the reason printed)
    against a shared environment, whose load test the pipeline runs."""
    base_url = step.api_url()
    if urllib.parse.urlparse(base_url).hostname not in loadtest.LOOPBACK:
        print(
            f"En {step.env_name} la prueba de carga la corre el pipeline con {prepared.plan.name}; aquí no se lanza "
            "carga contra un ambiente compartido."
        )
        return None
    options.setdefault("run_time_s", step.hu.nfr.local_load_s)
    run = loadtest.run_locust(prepared.folder, base_url, **options)
    write_text(prepared.folder / "resultados_locust.csv", loadtest.results(run).to_csv(index=False))  # the table, whole
    return run


def summary(run: LoadRun | None, step: Step) -> str:
    return "\n".join(loadtest.summary_lines(run, step.hu))


def plot(run: LoadRun | None, step: Step) -> Any:
    return loadtest.plot(run, step.hu)


def facts(prepared: Prepared, run: LoadRun | None, step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {
        "plan": str(prepared.plan.relative_to(step.output_dir)),
        "key_csvs": {s: str(p.relative_to(step.output_dir)) for s, p in prepared.csvs.items()},
        "target_tps": loadtest.target_tps(step.hu),
        "p95_limit_ms": step.hu.nfr.p95_ms,
    }
    if run is not None:
        results = loadtest.results(run)
        total = results.set_index("Endpoint").loc["Aggregated"]
        out["local_run"] = {
            "users": run.users,
            "run_time_s": run.run_time_s,
            "table": str((prepared.folder / "resultados_locust.csv").relative_to(step.output_dir)),
            "endpoints": results.to_dict("records"),
            "p95_within_limit": bool(step.hu.nfr.p95_ms and total["p95 ms"] <= step.hu.nfr.p95_ms),
        }
    text = f"plan {prepared.plan.name} para {headline.n(out['target_tps'])} TPS"
    if run is not None:
        within = "dentro" if out["local_run"]["p95_within_limit"] else "fuera"
        text += f" · corrida local de {run.run_time_s} s: p95 {within} del límite de {step.hu.nfr.p95_ms} ms"
    out["headline"] = headline.Headline(text, {"TPS objetivo": out["target_tps"]}).as_fact()
    return out
