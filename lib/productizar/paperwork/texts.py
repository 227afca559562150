"""The texts of going to PRD: release description, Create OC variables, PR text, the manual gates.

All in Spanish, from the HU and the facts of earlier steps, following "Salida a PRD" in the runbook.
"""

from __future__ import annotations

import pandas as pd

from productizar.core import naming
from productizar.core.gates import load_gates
from productizar.core.hu import HU


def release_description(hu: HU) -> str:
    """The runbook's release template (TITULO, NECESIDAD, SOLUCION, BENEFICIO, IMPACTO)."""
    api = hu.api.name
    return (
        f"TITULO: HU{hu.id} {hu.hu.title}\n"
        f"NECESIDAD: Implementación HU{hu.id} para el despliegue del API {api} en ambientes productivos.\n"
        f"SOLUCION: Desplegar API {api} en ambientes productivos\n"
        f"BENEFICIO: Generar acceso al API {api} para que puedan consumir equipos del banco.\n"
        "IMPACTO: Verificado en las pruebas de performance asociadas en el presente release.\n"
    )


def change_order_variables(hu: HU) -> pd.DataFrame:
    """Variables of the ``Change Order USD`` task of ``Create OC``. The runbook names Team and Dependencia;
    the task's other variables stay as the cloned release has them."""
    rows = [
        ("Team", hu.team.celula, "célula de la HU (team.celula)"),
        ("Dependencia", hu.team.dependencia, "nombre del EVC (team.dependencia)"),
    ]
    return pd.DataFrame(rows, columns=["Variable", "Valor", "Origen"])


def pr_text(hu: HU, template: str | None) -> str:
    """Title and body of the infrastructure PR (Markdown, as Azure DevOps shows it); ``template``: where the
    infrastructure step left the patched template in the evidence, when it ran."""
    tables = "\n".join(f"- `{t.source}` → `{t.names.dynamo_table}`" for t in hu.tables)
    stack = naming.stack_name(hu.api.slug)
    where = f" La plantilla resultante está en la evidencia (`{template}`)." if template else ""
    return (
        f"# {naming.pr_title(hu.id, hu.hu.title)}\n\n"
        f"Rama: `{naming.feature_branch(hu.id, hu.hu.slug)}` → `trunk`\n\n"
        f"## Qué cambia\n\nInfraestructura del API {hu.api.name} (stack `{stack}`): tablas DynamoDB con autoescalado, "
        f"job de Glue `{naming.glue_job_name(hu.api.slug)}` y parámetros por ambiente.{where}\n\n"
        f"## Tablas\n\n{tables}\n\n"
        f"## Evidencia\n\nConteo, dimensionamiento, escaneo (cfn-lint y checkov), despliegue y verificación: carpeta "
        f"`outputs/HU{hu.id}/` adjunta a la HU {hu.id}.\n"
    )


def manual_gates(hu: HU, has_ahp: bool) -> pd.DataFrame:
    """What the tool cannot do for the analyst before PRD, each with what to hand over
    (``parameters/gates.yaml``; ``productizar approve`` records each one's approval)."""
    rows = [g.texts(hu.api.name, hu.id, has_ahp) for g in load_gates()]
    return pd.DataFrame(
        [(i + 1, *r, "pendiente (manual)") for i, r in enumerate(rows)],
        columns=["#", "Compuerta", "Qué hacer", "Qué entregar", "Estado"],
    ).set_index("#")
