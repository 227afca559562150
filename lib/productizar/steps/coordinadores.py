"""Step ``coordinadores``: one coordinator config per table, laid out as the coordinators repository expects
(``cloud.coordinators``), the commands to run them per environment, and the Glue job's script and package
uploaded where the template's job points."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pandas as pd

from productizar.cloud import coordinators, glue, repository
from productizar.core import naming
from productizar.core.errors import ProductizarError
from productizar.run import headline
from productizar.run.step import Step


def write(step: Step) -> coordinators.Written:
    """Every config validated against the schema, then written under ``coordinadores/`` in the evidence."""
    return coordinators.write_all(step.hu, step.output_dir)


def where(step: Step) -> str:
    return coordinators.where(step.hu)


def deliver(step: Step, written: coordinators.Written) -> repository.Delivery | None:
    """Commit the configs on the coordinators' branch of the repository's clone (``--coordinators-repo``);
    None without a clone (the evidence folder is what goes to the branch)."""
    _, target = step.repositories()
    if not target.active:
        return None
    clone = repository.open_clone(target, naming.coordinators_branch(step.hu.id))
    files = {str(f.relative_to(written.folder)): f.read_text(encoding="utf-8") for f in written.files}
    hu = step.hu
    message = (
        f"Feature HU{hu.id}: coordinadores de {hu.api.name}\n\n"
        f"{len(hu.tables)} configuraciones de coordinador de la HU {hu.id} y la carpeta de logs."
    )
    return repository.commit(clone, files, message, push=target.push)


def delivery_text(step: Step, delivered: repository.Delivery | None) -> str:
    if delivered:
        return delivered.sentence()
    return (
        f"Sin clon del repositorio (--coordinators-repo): copie la carpeta coordinadores/ de la evidencia en la rama "
        f"{naming.coordinators_branch(step.hu.id)} de {naming.COORDINATORS_REPO}."
    )


def files_table(written: coordinators.Written) -> pd.DataFrame:
    return coordinators.files_table(written)


def example(written: coordinators.Written) -> str:
    """The first table's config, as the repository will hold it."""
    return written.files[0].read_text(encoding="utf-8")


def commands(step: Step) -> pd.DataFrame:
    return coordinators.commands(step.hu)


def publish(step: Step, out: Callable[[str], None] = print) -> glue.Upload | None:
    """Upload the Glue job's script and package and point the job at them (a dry run says so)."""
    mode = step.write_mode
    if mode.dry_run:
        out(f"No se sube el script del job de Glue: {mode.reason}.")
        return None
    bucket = glue.scripts_bucket(step.client("cloudformation"), step.hu)
    up = glue.upload(step.client("s3"), step.client("glue"), bucket, step.hu)
    out(f"Script del job: {up.script}\nPaquete productizar (--extra-py-files): {up.package}")
    if up.job_updated:
        out(f"El job {up.job} apunta ahora a ese script y ese paquete.")
    elif "glue_job" in step.env.known_gaps:
        out(
            f"El job {up.job} no existe en este entorno: el emulador no crea jobs de Glue desde CloudFormation "
            "(no verificable aquí)."
        )
    else:
        raise ProductizarError(f"El job {up.job} no existe en {step.env_name}: revise el despliegue del stack.")
    return up


def facts(
    step: Step,
    written: coordinators.Written,
    upload: glue.Upload | None,
    delivered: repository.Delivery | None = None,
) -> dict[str, Any]:
    found = coordinators.facts(step.hu, written, upload)
    found["repository"] = asdict(delivered) if delivered else None
    n = len(found["configs"])
    text = f"{n} coordinador{'es' if n != 1 else ''} en {found['branch']}" + (
        " · script del job de Glue subido" if upload else ""
    )
    mode = step.write_mode
    found["dry_run"], found["dry_run_reason"] = mode.dry_run, mode.reason if mode.dry_run else None
    found["headline"] = headline.written(text, mode, {"coordinadores": n}).as_fact()
    return found
