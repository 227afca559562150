"""Step ``smoke``: the environment's API called with real keys sampled from each DynamoDB table, every
answer compared with its item, and an unknown key that must give 404 (``api.smoke``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from productizar.api import smoke
from productizar.api.smoke import SmokeResult
from productizar.core.errors import StepFailed
from productizar.run import headline
from productizar.run.step import Step


def run(step: Step, per_table: int = 10) -> SmokeResult:
    url = step.api_url()
    print("API bajo prueba:", url)
    timeout = step.env.api.timeout_s if step.env.api else 10
    return smoke.run(step.hu, step.client("dynamodb"), smoke.Client(url, timeout), per_table)


def table(result: SmokeResult) -> pd.DataFrame:
    return smoke.table(result)


def latency(result: SmokeResult) -> str:
    return "\n".join(smoke.latency_lines(result))


def facts(result: SmokeResult) -> dict[str, Any]:
    out = smoke.facts(result)
    passed = sum(1 for t in result.tallies if t.passed == t.calls)
    text = f"{passed} de {len(result.tallies)} endpoints responden lo cargado" + (
        f" · tablas vacías: {', '.join(result.empty_tables)}" if result.empty_tables else ""
    )
    out["headline"] = headline.Headline(text, {"endpoints que pasan": passed}).as_fact()
    return out


def verdict(result: SmokeResult) -> str:
    """The result as sentences; ``StepFailed`` with them when a call did not pass."""
    said = smoke.verdict(result)
    if not result.ok:
        raise StepFailed(said)
    return said
