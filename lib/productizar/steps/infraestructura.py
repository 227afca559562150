"""Step ``infraestructura``: patch the API's template, scan it as the pipeline does, deliver it, deploy it
(or wait for the pipeline's stack), prove it.

The patched template, its diff, the params files and ``azure.yaml`` are written under
``outputs/HU<id>/<env>/infraestructura/<ApiName>/``, laid out as in the cloud repository. Given a clone of
that repository (``--infra-repo``), the patch starts from the API's template on the HU's branch and the
files are committed there; without one, the analyst copies the folder into the branch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from productizar.cloud import aws, inspection, pipeline, repository, scans, stack, template
from productizar.cloud.scans import ScanResult
from productizar.core import checks, naming
from productizar.core.checks import Check
from productizar.core.environments import counterpart, load_environments
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
    # what goes into the cloud repository, by path inside it; the clone when the run was given one
    files: dict[str, str]
    clone: repository.Clone | None = None


def _starting_template(step: Step, clone: repository.Clone | None) -> tuple[str, str, bool]:
    """The template the patch starts from, where it came from, and whether the API already had one: the
    clone's (on the HU's branch), else the HU's ``infrastructure.template``, else the base one."""
    hu = step.hu
    relative = f"{hu.api.name}/template.yaml"
    in_clone = clone.read(relative) if clone else None
    if clone and in_clone is not None:
        return in_clone, f"{relative} de la rama {clone.branch} ({clone.path.name})", True
    if hu.infrastructure.template:
        source_path = hu_file(step.hu_path, hu.infrastructure.template, "infrastructure.template")
        return source_path.read_text(encoding="utf-8"), str(source_path), True
    return template.new_api_template(hu), f"plantilla base ({template.BASE_TEMPLATE.name})", False


def prepare(step: Step) -> Plan:
    """Patch the HU's template (the clone's, the HU's, or the base one for a new API) and write the files."""
    hu = step.hu
    infra, _ = step.repositories()
    clone = repository.open_clone(infra, naming.feature_branch(hu.id, hu.hu.slug)) if infra.active else None
    text, source, existing = _starting_template(step, clone)
    sized = dimensionamiento.read_facts_if_any(step)  # sizing has not run: the HU's values or the defaults
    recommended = sized.glue.model_dump() if sized else None
    glue = template.glue_settings(hu, recommended)
    result = template.patch(text, hu, name=f"{hu.api.name}/template.yaml", glue=glue)
    if result.conflicts:
        raise ProductizarError("La plantilla contradice la HU:\n" + "\n".join(result.conflicts))
    folder = step.output_dir / "infraestructura" / hu.api.name
    write_text(folder.parent / "template.diff", result.diff or "(sin cambios: la plantilla ya tenía todo)\n")
    plan = pipeline.PipelinePlan(first_deployment=not existing)
    envs = load_environments()
    declared = template.declared_parameters(result.text)
    api = hu.api.name
    files = {f"{api}/template.yaml": result.text}
    for env_name in pipeline.ENVIRONMENTS:
        arn = envs[env_name].infrastructure.eks_oidc_provider_arn
        ours = pipeline.params_file(hu, env_name, arn, declared)
        files[f"{api}/params/{env_name}.json"] = pipeline.merge_params(
            clone.read(f"{api}/params/{env_name}.json") if clone else None, ours
        )
    # an existing API's pipeline file is the team's: only a new API gets one
    current_pipeline = clone.read(f"{api}/azure.yaml") if clone else None
    files[f"{api}/azure.yaml"] = current_pipeline or pipeline.azure_pipeline(hu, plan)
    for relative, body in files.items():  # the evidence holds what goes to the repository, laid out alike
        write_text(folder.parent / relative, body)
    return Plan(folder, folder / "template.yaml", source, result, plan, files, clone)


def deliver(step: Step, plan: Plan, scanned: ScanResult) -> repository.Delivery | None:
    """Commit the files on the HU's branch of the cloud repository's clone (after a clean scan: the
    pipeline would stop at its Code Scan IaC stage otherwise); None without a clone."""
    infra, _ = step.repositories()
    if plan.clone is None:
        return None
    if not scanned.clean:
        raise StepFailed("El escaneo no está limpio: no se hace commit en el repositorio.")
    hu = step.hu
    message = (
        f"{naming.pr_title(hu.id, hu.hu.title)}\n\n"
        f"Infraestructura del API {hu.api.name}: {len(hu.tables)} tablas de la HU {hu.id} "
        f"({', '.join(t.names.dynamo_table for t in hu.tables)})."
    )
    return repository.commit(plan.clone, plan.files, message, push=infra.push)


def delivery_text(step: Step, plan: Plan, delivered: repository.Delivery | None) -> str:
    if delivered:
        return delivered.sentence()
    branch = naming.feature_branch(step.hu.id, step.hu.hu.slug)
    return (
        f"Sin clon del repositorio (--infra-repo): la carpeta infraestructura/{step.hu.api.name}/ de la evidencia "
        f"es lo que va a la rama {branch} de Cloud_nu0044001_productizar."
    )


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
    text = (
        f"Escaneo limpio: cfn-lint sin hallazgos; checkov {result.checkov_passed} verificaciones aprobadas, "
        f"{len(result.skipped)} omitidas con justificación escrita en la plantilla."
    )
    if result.reused_from:
        text += (
            f" Resultado del escaneo idéntico del {result.reused_from} (la misma plantilla, byte a byte, con las "
            "mismas versiones de cfn-lint y checkov)."
        )
    return text


def vsts_variables(step: Step) -> pd.DataFrame:
    """The VSTS library variables the params files name, with the HU's capacities."""
    return pipeline.vsts_variables(step.hu)


def names_table(step: Step, plan: Plan) -> pd.DataFrame:
    """Branch, pipeline name and folder, PR title and tags."""
    return pipeline.names_table(step.hu, plan.pipeline)


def deploy(step: Step, plan: Plan, progress: Callable[[str], None] = print) -> stack.Deployment | None:
    """Deploy in the step's environment (``deploy: direct``), or wait for the stack the team's pipeline
    deploys from the branch and prove it is the branch's (``deploy: pipeline``: the step never creates or
    updates it); or say why not (a dry run without the HU confirmation)."""
    mode = step.write_mode
    name = naming.stack_name(step.hu.api.slug)
    infra = step.env.infrastructure
    if infra.deploy == "pipeline":
        if mode.dry_run:
            progress(f"No se espera el stack del pipeline: {mode.reason}. El escaneo y los archivos son el plan.")
            return None
        cfn = aws.client(step.env, "cloudformation")
        params = plan.files[f"{step.hu.api.name}/params/{counterpart(step.env_name)}.json"]
        progress(
            f"El stack {name} lo despliega el pipeline {naming.pipeline_name(step.hu.api.name)} desde la rama "
            f"{naming.feature_branch(step.hu.id, step.hu.hu.slug)}: se espera hasta {infra.pipeline_timeout_s} s."
        )
        return stack.await_pipeline(
            cfn,
            name,
            plan.patch.text,
            pipeline.resolved_params(params, step.hu),
            timeout_s=infra.pipeline_timeout_s,
            progress=progress,
        )
    if mode.dry_run:
        progress(f"No se despliega: {mode.reason}. El escaneo y los archivos de arriba son el plan.")
        return None
    cfn = aws.client(step.env, "cloudformation")
    declared = template.declared_parameters(plan.patch.text)
    values = {k: v for k, v in stack.parameters(step.hu, step.env_name, step.env).items() if k in declared}
    return stack.deploy(cfn, name, plan.patch.text, values, timeout_s=infra.stack_timeout_s, progress=progress)


def azure_devops(step: Step, plan: Plan) -> str:
    """The Azure DevOps work of the runbook as the exact ``az`` commands (also saved in the evidence)."""
    text = pipeline.az_commands(step.hu, plan.pipeline)
    write_text(plan.folder.parent / "azure-devops.sh", text)
    return text


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
    step: Step,
    plan: Plan,
    scanned: ScanResult,
    deployment: stack.Deployment | None,
    found: list[Check],
    delivered: repository.Delivery | None = None,
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
        "deployed_by": step.env.infrastructure.deploy,
        "repository": asdict(delivered) if delivered else None,
        "template_source": plan.source,
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
