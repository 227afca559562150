"""Step ``infraestructura``: patch the API's template, scan it as the pipeline does, deploy it, prove it.

The patched template, its diff, the params files and ``azure.yaml`` are written under
``outputs/HU<id>/<env>/infraestructura/<ApiName>/``, laid out as in the cloud repository, so the analyst
copies that folder into the branch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from productizar.cloud import aws, inspection, pipeline, scans, stack, template
from productizar.cloud.scans import ScanResult
from productizar.core import checks, naming
from productizar.core.checks import Check
from productizar.core.environments import load_environments
from productizar.core.errors import ProductizarError, StepFailed
from productizar.core.files import write_text
from productizar.core.hu import hu_file
from productizar.run import headline
from productizar.run.step import Step
from productizar.steps import dimensionamiento


@dataclass
class Plan:
    folder: Path
    template_path: Path
    source: str
    patch: template.PatchResult
    pipeline: pipeline.PipelinePlan


def prepare(step: Step) -> Plan:
    """Patch the HU's template (an existing API's, or the base one for a new API) and write the files."""
    hu = step.hu
    if hu.infrastructure.template:
        source_path = hu_file(step.hu_path, hu.infrastructure.template, "infrastructure.template")
        text, source = source_path.read_text(encoding="utf-8"), str(source_path)
    else:
        text, source = template.new_api_template(hu), f"plantilla base ({template.BASE_TEMPLATE.name})"
    sized = dimensionamiento.read_facts_if_any(step)  # sizing has not run: the HU's values or the defaults
    recommended = sized.glue.model_dump() if sized else None
    glue = template.glue_settings(hu, recommended)
    result = template.patch(text, hu, name=f"{hu.api.name}/template.yaml", glue=glue)
    if result.conflicts:
        raise ProductizarError("La plantilla contradice la HU:\n" + "\n".join(result.conflicts))
    folder = step.output_dir / "infraestructura" / hu.api.name
    path = write_text(folder / "template.yaml", result.text)
    write_text(folder.parent / "template.diff", result.diff or "(sin cambios: la plantilla ya tenía todo)\n")
    plan = pipeline.PipelinePlan(first_deployment=not hu.infrastructure.template)
    envs = load_environments()
    for env_name in pipeline.ENVIRONMENTS:
        arn = envs[env_name].infrastructure.eks_oidc_provider_arn
        write_text(folder / "params" / f"{env_name}.json", pipeline.params_file(hu, env_name, arn))
    write_text(folder / "azure.yaml", pipeline.azure_pipeline(hu, plan))
    return Plan(folder, path, source, result, plan)


def changes_table(plan: Plan) -> pd.DataFrame:
    p = plan.patch
    rows = [{"Elemento": i, "Cambio": "agregado"} for i in p.added]
    rows += [{"Elemento": i, "Cambio": "ya estaba (sin cambios)"} for i in p.already_present]
    rows += [{"Elemento": i, "Cambio": "en la plantilla pero no en la HU (se conserva)"} for i in p.not_in_hu]
    origin = ", ".join(f"{k} de {v}" for k, v in p.glue["source"].items())
    rows += [
        {
            "Elemento": p.glue["resource"],
            "Cambio": f"job de Glue: {p.glue['WorkerType']}, "
            f"{p.glue['NumberOfWorkers']} workers, {p.glue['MaxConcurrentRuns']} ejecuciones concurrentes ({origin})",
        }
    ]
    return pd.DataFrame(rows)


def summary(plan: Plan) -> str:
    p = plan.patch
    tables = sum(1 for i in p.added if i.startswith("Dynamo") and i.endswith("api"))
    text = (
        f"Plantilla de partida: {plan.source}. Se agregan {len(p.added)} elementos ({tables} tablas nuevas); "
        f"{len(p.already_present)} tablas ya estaban."
    )
    if p.not_in_hu:
        text += f" Tablas en la plantilla que la HU no lista (no se borran): {', '.join(p.not_in_hu)}."
    return text


def diff_text(plan: Plan) -> str:
    return plan.patch.diff or "Sin cambios: la plantilla ya tenía todo lo que pide la HU."


def scan(plan: Plan) -> ScanResult:
    """cfn-lint and checkov on the patched template, as the pipeline's Code Scan IaC stage runs them."""
    return scans.scan(plan.template_path)


def scan_table(result: ScanResult) -> pd.DataFrame:
    return result.table()


def scan_verdict(result: ScanResult) -> str:
    """A sentence for a clean scan; the step fails on anything else."""
    if not result.clean:
        unexplained = [s.rule for s in result.skipped if not s.fix]
        raise StepFailed(
            f"El escaneo tiene {len(result.findings)} hallazgos"
            + (f" y omisiones sin justificación ({', '.join(unexplained)})" if unexplained else "")
            + ": corríjalos en la plantilla o justifíquelos en su Metadata antes de desplegar."
        )
    return (
        f"Escaneo limpio: cfn-lint sin hallazgos; checkov {result.checkov_passed} verificaciones aprobadas, "
        f"{len(result.skipped)} omitidas con justificación escrita en la plantilla."
    )


def vsts_variables(step: Step) -> pd.DataFrame:
    """The VSTS library variables the params files name, with the HU's capacities."""
    return pipeline.vsts_variables(step.hu)


def names_table(step: Step, plan: Plan) -> pd.DataFrame:
    """Branch, pipeline name and folder, PR title and tags."""
    return pipeline.names_table(step.hu, plan.pipeline)


def deploy(step: Step, plan: Plan, progress: Callable[[str], None] = print) -> stack.Deployment | None:
    """Deploy in the step's environment, or say why not (a dry run without the HU confirmation)."""
    mode = step.write_mode
    if mode.dry_run:
        progress(f"No se despliega: {mode.reason}. El escaneo y los archivos de arriba son el plan.")
        return None
    cfn = aws.client(step.env, "cloudformation")
    return stack.deploy(
        cfn,
        naming.stack_name(step.hu.api.slug),
        plan.patch.text,
        stack.parameters(step.hu, step.env_name, step.env),
        timeout_s=step.env.infrastructure.stack_timeout_s,
        progress=progress,
    )


def resources_table(deployment: stack.Deployment | None) -> pd.DataFrame | None:
    """The stack's resources and their state (nothing when there was no deployment)."""
    return deployment.resources if deployment else None


def verify(step: Step, plan: Plan, deployment: stack.Deployment | None) -> list[Check]:
    if deployment is None:
        return []
    return inspection.inspect(step.hu, step.env, aws.clients(step.env), plan.patch.glue)


def checks_table(found: list[Check]) -> pd.DataFrame:
    return checks.table(found)


def verdict(found: list[Check]) -> str:
    """A sentence when every check passes (or is not checkable here); ``StepFailed`` naming each failure."""
    return checks.verdict(found, "Sin despliegue no hay nada que verificar (simulación).")


def facts(
    step: Step, plan: Plan, scanned: ScanResult, deployment: stack.Deployment | None, found: list[Check]
) -> dict[str, Any]:
    hu = step.hu
    said, figures = headline.checks(c.status for c in found)
    figures["hallazgos del escaneo"] = len(scanned.findings)
    if deployment:
        text = f"stack {deployment.status} · comprobaciones: {said}"
    else:
        text = f"plantilla y escaneo ({len(scanned.findings)} hallazgos), sin desplegar"
    return {
        "headline": headline.written(text, step.write_mode, figures).as_fact(),
        "stack": naming.stack_name(hu.api.slug),
        "deployed": deployment is not None,
        "dry_run_reason": None if deployment else step.write_mode.reason,
        "stack_status": deployment.status if deployment else None,
        "template": str(plan.template_path.relative_to(step.output_dir)),
        "tables": {t.source: t.names.dynamo_table for t in hu.tables},
        "added": plan.patch.added,
        "not_in_hu": plan.patch.not_in_hu,
        "glue": plan.patch.glue,
        "scan": {
            "findings": len(scanned.findings),
            "skipped": [s.rule for s in scanned.skipped],
            "checkov_passed": scanned.checkov_passed,
        },
        "pipeline": {
            "stages": plan.pipeline.stages(),
            "pr_title": naming.pr_title(hu.id, hu.hu.title),
            "pr_tags": plan.pipeline.tags(),
        },
        "checks": [c.as_fact() for c in found],
    }
