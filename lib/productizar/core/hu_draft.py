"""A new HU file drafted from a few answers (``productizar new``): the HU id, the API and its tables.

Everything else gets the runbook's defaults, and every field is written with a Spanish comment saying what
it is for, so the analyst reviews a complete file instead of copying the demo and guessing. The draft is
checked with the HU loader before it is saved: it passes ``productizar check`` at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

from productizar.core import naming
from productizar.core.hu import DEFAULT_SAMPLE_ROWS, EMAIL

TABLE_FORMAT = "schema.table:partition_key:S|N[:sort_key:S|N][:camel|lower]"
API_NAME = re.compile(r"^[A-Z][a-z0-9]+([A-Z][a-z0-9]*)+$")


@dataclass(frozen=True)
class TableDraft:
    source: str
    partition_key: tuple[str, str]
    sort_key: tuple[str, str] | None = None
    name_style: str = "camel"


@dataclass(frozen=True)
class Draft:
    hu_id: int
    api: str
    tables: tuple[TableDraft, ...]
    title: str = ""
    requested_by: str = "analista@example.com"
    rows: int = DEFAULT_SAMPLE_ROWS


def parse_table(text: str) -> TableDraft:
    """``schema.table:pk:S[:sk:N][:lower]`` as a table; ValueError saying what is wrong with it."""
    parts = [p.strip() for p in text.strip().split(":")]
    style = "camel"
    if parts and parts[-1] in ("camel", "lower"):
        style = parts.pop()
    if len(parts) not in (3, 5):
        raise ValueError(f'"{text}" is not of the form {TABLE_FORMAT}')
    try:
        naming.split_source(parts[0])
    except ValueError as exc:
        raise ValueError(f'"{text}": the table {exc}') from None
    keys = []
    for name, kind in zip(parts[1::2], parts[2::2]):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f'"{text}": "{name}" is not a column name (letters, digits, _)')
        if kind.upper() not in ("S", "N"):
            raise ValueError(f'"{text}": the type of {name} must be S or N, got "{kind}"')
        keys.append((name, kind.upper()))
    return TableDraft(parts[0], keys[0], keys[1] if len(keys) > 1 else None, style)


def check_api(name: str) -> str:
    """The API's name as the runbook writes it (CamelCase, two words at least); ValueError otherwise."""
    if not API_NAME.match(name):
        raise ValueError(f'the API name must be CamelCase with two words at least (ScoreMora), got "{name}"')
    return name


def check_email(value: str) -> str:
    if not re.match(EMAIL, value):
        raise ValueError(f'"{value}" is not an e-mail address')
    return value


def _scalar(value: str) -> str:
    """A free-text value as YAML reads it back unchanged: plain when it is safe, double-quoted otherwise."""
    if re.fullmatch(r"[A-Za-zÁÉÍÓÚÑáéíóúñü0-9][A-Za-zÁÉÍÓÚÑáéíóúñü0-9 ._@()/-]*", value) and not value.endswith(" "):
        return value
    return json.dumps(value, ensure_ascii=False)


def _table(t: TableDraft, rows: int) -> str:
    names = naming.table_names(t.source, "camel" if t.name_style == "camel" else "lower")
    pk = f"{{name: {t.partition_key[0]}, type: {t.partition_key[1]}}}"
    lines = [
        f"  - source: {t.source:<36} # <zona de resultados>.<tabla>, como está en Hive",
        f"    name_style: {t.name_style:<32} # camel | lower: cómo se escribe la tabla en los IDs de CloudFormation",
        f"    partition_key: {pk:<29} # clave de partición: S (texto) o N (número)",
    ]
    if t.sort_key:
        sk = f"{{name: {t.sort_key[0]}, type: {t.sort_key[1]}}}"
        lines.append(f"    sort_key: {sk:<34} # clave de ordenamiento (bórrela si la tabla no tiene)")
    else:
        lines.append("    # sort_key: {name: fecha_corte, type: N}    # clave de ordenamiento, si la tabla la tiene")
    lines += [
        f"    rows: {rows:<38} # filas esperadas: las que `productizar local seed` sintetiza",
        f"    # dynamo_table: {names.dynamo_table:<28} # nombre en DynamoDB (sin él, el de la regla del runbook)",
        "    # traffic: {peak_rps: 10, consistency: eventual, items_per_request: 1}"
        "   # tráfico pico del API a esta tabla: dimensiona la lectura",
        "    # columns:                                  # las demás columnas con su tipo de Hive, para que los",
        "    #   - {name: valor, type: DECIMAL(12,2)}    # datos sintéticos se parezcan a los reales (STRING,",
        "    #   - {name: fecha_actualizacion, type: TIMESTAMP}   # INT, BIGINT, DECIMAL(p,s), DATE, BOOLEAN...)",
    ]
    return "\n".join(lines)


def render(d: Draft, path_shown: str) -> str:
    """The HU file's text: every field the HU can have, with a Spanish comment; optional sections commented."""
    title = _scalar(d.title or f"Despliegue API {d.api}")
    hu_slug, api_slug = naming.api_snake(d.api), naming.api_kebab(d.api)
    tables = "\n".join(_table(t, d.rows) for t in d.tables)
    return f"""\
# HU {d.hu_id}: {title}
# Escrito por `productizar new` el {date.today().isoformat()}. Revise cada campo antes de correrlo; el contrato
# está en docs/hu-file.md. Para ensayarlo en el predeterminado embebido:
#   productizar check {path_shown}
#   productizar local seed {path_shown}        # tablas sintéticas (o --from <carpeta> con lo exportado de Hue)
#   productizar run {path_shown} --env local
hu:
  id: {d.hu_id:<36} # número de la HU (entero)
  title: {title:<33} # título de la HU, como está en el tablero
  slug: {hu_slug:<34} # rama de infraestructura: feature/HU{d.hu_id}_{hu_slug}
  requested_by: {_scalar(d.requested_by):<26} # correo de quien pide: va a inventario_lz.solicita_ingestion
  # regression: true                       # solo la HU de regresión del proyecto: el tablero no la muestra
api:
  name: {d.api:<34} # <ApiName> en CamelCase: carpetas, recursos y job de Glue
  slug: {api_slug:<34} # variables de VSTS dy-<slug>-api-tables-read-cu / -write-cu, nombre del stack
  # package: {d.api}.zip                   # el zip del API de Django entregado, junto a este archivo;
  #                                        # sin él se usa el API de referencia del repositorio
team:
  celula: DAIA15 - DRACARYS                # célula del equipo (tarea Change Order USD del Create OC)
  dependencia: Entorno Otros EVC - EVC Datos Analitica AI Blockchain - Cloudera Data Platform   # dependencia
coordinator:
  periodicity: DI                          # periodicidad en los paquetes del inventario: SQOOP<periodicidad><n>
  aplicativo: CSD                          # aplicativo en el proceso: SQP<periodicidad><n>CRD<aplicativo>
  execution_day: "1"                       # día de ejecución del coordinador en la malla
  execution_hour: "06:00"                  # hora de ejecución, entre comillas (HH:MM, 24 h)
  prerequisite: ""                         # prerrequisito del coordinador, acordado con el usuario
capacity:
  billing_mode: PROVISIONED                # PROVISIONED o PAY_PER_REQUEST
  read: [1, 50]                            # autoescalado de lectura: mínimo, máximo (el "1,50" del runbook)
  write: [1, 8000]                         # autoescalado de escritura: mínimo, máximo (el "1,8000" del runbook)
load:
  window_hours: 6                          # la carga completa debe caber en esta ventana (horas)
  write_share: 0.5                         # fracción de la escritura que usa la carga (throughput.write.percent)
  # engine: auto                           # auto | single-machine | spark: quién carga (auto: lo decide el tamaño)
  # spark_from_items: 5000000              # con auto: desde cuántos ítems carga el job de Glue/Spark
  # warm: auto                             # auto | always | never: subir la escritura para la carga y devolverla;
  #                                        # auto solo si desde el mínimo no cabe en la ventana (con pocas filas
  #                                        # carga a 1 WCU, lento también en local): always para ensayar rápido
# glue:                                    # el job de Glue de la carga; sin esta sección decide el dimensionamiento
#   worker_type: G.1X                      # G.1X | G.2X | G.4X | G.8X
#   number_of_workers: 4                   # workers del job (según el tamaño de los datos en PRD)
#   max_concurrent_runs: 3                 # coordinadores que cargan a la vez (validar con el usuario)
# infrastructure:
#   template: {d.api}.yaml                 # la plantilla actual del API, junto a este archivo (sin ella: una nueva)
#   glue_job_resource: GlueJobMiApi        # en una plantilla escrita a mano, los IDs que no se deducen solos:
#   api_policy_resource: EKSRolePolicyDynamo   # la política de los pods del API,
#   glue_policy_resource: GlueRolePolicy   # la del job de Glue
#   kms_key_resource: s3KeyEncript         # y la llave KMS de las tablas
# Requisitos no funcionales: umbrales del monitoreo y aserciones de las pruebas de carga (paso pruebas; sin
# esta sección el paso se omite y dice qué falta)
nfr:
  p95_ms: 300                              # percentil 95 de la latencia, en milisegundos
  error_rate_pct: 1.0                      # tasa de error máxima (%)
  availability_pct: 99.5                   # disponibilidad (%)
  # target_tps: 80                         # solicitudes por segundo (sin él: la suma de traffic.peak_rps)
  # local_load_s: 15                       # segundos de la corrida de Locust en local (3 a 600)
tables:
{tables}
# Documentos de salida a PRD (paso documentos): sin esta sección el paso se omite y dice qué agregar.
# documents:
#   ha: 3629938                            # número de la HA de monitoreo
#   sender: {{name: Nombre Apellido, email: analista@example.com}}    # quien firma y envía los correos
#   manager: {{name: Nombre del Jefe, email: jefe@example.com}}       # aprueba la excepción de pruebas E2E
#   monitoring_to: [monitoreo@example.com] # a quién va la solicitud de monitoreo
#   monitoring_hours: 24x7                 # horario del monitoreo
#   contacts:                              # contactos del API para el monitoreo
#     - {{role: Analista responsable, name: Nombre Apellido, email: analista@example.com, phone: "+57 300 000 0000"}}
#   ahp_matrix: matriz-ahp.xlsx            # la matriz AHP de la excepción E2E, junto a este archivo
"""
