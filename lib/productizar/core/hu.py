"""The HU parameter file (``parameters/hu/*.yaml``): schema, validation and loading.

The names follow the contract in ``docs/hu-file.md``. Loading reports every problem at once, each with file,
line and field path, because a hand-written YAML file rarely has just one mistake.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from productizar.core import naming
from productizar.core.errors import ProductizarError
from productizar.core.problem import Loc
from productizar.core.problems import load_yaml_model, show_value

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

# Files an HU points at live in the HU's own folder (the evidence attaches or reads them: an HU must not be
# able to pull ~/.aws/credentials into an e-mail), and have the type their use needs
ZIP_MAGIC, OLE_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FILE_KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "api.package": ((".zip",), "the delivered Django project as a zip"),
    "infrastructure.template": ((".yaml", ".yml", ".json", ".template"), "a CloudFormation template (YAML or JSON)"),
    "documents.ahp_matrix": ((".xlsx", ".xlsm", ".xls"), "the AHP matrix as an Excel workbook"),
}


KIND_ES = {
    "api.package": "el proyecto Django entregado en un zip",
    "infrastructure.template": "una plantilla de CloudFormation (YAML o JSON)",
    "documents.ahp_matrix": "la matriz AHP en un libro de Excel",
}


def _relative_file(value: str | None, field: str) -> str | None:
    """A path written in an HU: relative to the HU's folder, never absolute or climbing out, of its kind."""
    if value is None:
        return None
    suffixes, what = FILE_KINDS[field]
    parts = Path(value.replace("\\", "/")).parts
    if value.startswith(("/", "~", "\\")) or re.match(r"^[A-Za-z]:", value):
        raise ValueError(f'must be a path relative to the HU file\'s folder, got "{value}"')
    if ".." in parts:
        raise ValueError(f'must stay inside the HU file\'s folder (no ".."), got "{value}"')
    if not value.lower().endswith(suffixes):
        raise ValueError(f'must be {what} ({", ".join(suffixes)}), got "{value}"')
    return value


def _looks_like(path: Path, suffix: str) -> bool:
    """Whether the file's first bytes are those of its kind (a zip, an OLE workbook, UTF-8 text)."""
    with path.open("rb") as fh:
        head = fh.read(65536)
    if suffix in (".zip", ".xlsx", ".xlsm"):
        return head.startswith(ZIP_MAGIC)
    if suffix == ".xls":
        return head == OLE_MAGIC
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not a character cut at the end of what was read
            return False
    return b"\0" not in head


class HUFileError(ProductizarError):
    """A file the HU names cannot be used: missing, outside the HU's folder, or of the wrong kind."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Key(_Strict):
    name: Annotated[str, Field(pattern=IDENTIFIER)]
    type: Literal["S", "N"]


class Traffic(_Strict):
    """What the API will ask of a table at its busiest: sizes the read capacity."""

    peak_rps: Annotated[float, Field(ge=0)] = 10
    consistency: Literal["eventual", "strong"] = "eventual"
    items_per_request: Annotated[int, Field(ge=1, le=100)] = 1


#: Hive column types an HU may describe (what the results zone, the loader and the synthesizer all handle)
COLUMN_TYPE = (
    r"^(STRING|VARCHAR\(\d{1,5}\)|CHAR\(\d{1,3}\)|TINYINT|SMALLINT|INT|BIGINT|FLOAT|DOUBLE"
    r"|DECIMAL\(\d{1,2},\d{1,2}\)|DATE|TIMESTAMP|BOOLEAN)$"
)
NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INT", "BIGINT", "FLOAT", "DOUBLE", "DECIMAL")
#: rows ``productizar local seed`` synthesizes for a table that does not say
DEFAULT_SAMPLE_ROWS = 10_000


class Column(_Strict):
    """One results-zone column of a table, as Hive declares it (``DECIMAL(12,2)``, ``DATE``...)."""

    name: Annotated[str, Field(pattern=IDENTIFIER)]
    type: Annotated[str, Field(pattern=COLUMN_TYPE)]

    @field_validator("type", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.strip().upper().replace(" ", "") if isinstance(v, str) else v

    @property
    def numeric(self) -> bool:
        return self.type.split("(")[0] in NUMERIC_TYPES


class TableSpec(_Strict):
    source: str
    name_style: Literal["camel", "lower"] = "camel"
    partition_key: Key
    sort_key: Key | None = None
    dynamo_table: str | None = None
    traffic: Traffic = Traffic()
    # the rows the table holds (or is expected to): what `productizar local seed` synthesizes
    rows: Annotated[int | None, Field(ge=1, le=10_000_000)] = None
    # the table's other columns (keys may be listed too): what the synthesizer makes besides the keys
    columns: tuple[Column, ...] | None = None  # a tuple: a table spec is hashable (a dict key)

    def column_types(self) -> list[tuple[str, str]]:
        """Every column with its Hive type: the keys first (typed from the HU's S/N unless listed), then the
        listed ones in their order."""
        listed = {c.name.lower(): c for c in self.columns or []}
        keys = [self.partition_key] + ([self.sort_key] if self.sort_key else [])
        implied = {"S": "STRING", "N": "BIGINT"}
        out = [(k.name, listed[k.name.lower()].type if k.name.lower() in listed else implied[k.type]) for k in keys]
        names = {k.name.lower() for k in keys}
        return out + [(c.name, c.type) for c in self.columns or [] if c.name.lower() not in names]

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        _, table = naming.split_source(v)
        token = naming.table_token(table, "camel")
        if not token or not naming.LOGICAL_ID_RE.match(f"Dynamo{token}apiWriteScalableTarget"):
            raise ValueError(
                f'table name "{table}" cannot form CloudFormation logical IDs (letters and digits, 255 at most)'
            )
        return v

    @field_validator("dynamo_table")
    @classmethod
    def _dynamo_table(cls, v: str | None) -> str | None:
        if v is not None and not naming.DYNAMO_TABLE_RE.match(v):
            raise ValueError(f'not a valid DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), got "{v}"')
        return v

    @property
    def names(self) -> naming.TableNames:
        return naming.table_names(self.source, self.name_style, self.dynamo_table)

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.partition_key.name,) + ((self.sort_key.name,) if self.sort_key else ())


class HUInfo(_Strict):
    id: Annotated[int, Field(gt=0, strict=True)]
    title: Annotated[str, Field(min_length=3)]
    slug: Annotated[str, Field(pattern=r"^[a-z0-9]+(_[a-z0-9]+)*$")]
    requested_by: Annotated[str, Field(pattern=EMAIL)]
    # the project's own regression HU (parameters/hu/regresion.yaml): the board does not show it as work
    regression: bool = False


class ApiInfo(_Strict):
    name: Annotated[str, Field(pattern=r"^[A-Z][A-Za-z0-9]*$", max_length=100)]
    slug: Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    # the delivered Django project (zip), relative to the HU file; absent: the reference API, packed for the HU
    package: str | None = None

    @field_validator("package")
    @classmethod
    def _package(cls, v: str | None) -> str | None:
        return _relative_file(v, "api.package")

    @field_validator("name")
    @classmethod
    def _glue_ids_differ(cls, v: str) -> str:
        if naming.glue_job_parameter(v) == naming.glue_job_resource(v):
            raise ValueError(
                f'"{v}" gives the same CloudFormation ID to the Glue job parameter and resource '
                f"({naming.glue_job_parameter(v)}): use at least two CamelCase words"
            )
        return v


class Team(_Strict):
    celula: Annotated[str, Field(min_length=1)]
    dependencia: Annotated[str, Field(min_length=1)]


class Coordinator(_Strict):
    periodicity: Annotated[str, Field(pattern=r"^[A-Z]{1,4}$")]
    aplicativo: Annotated[str, Field(pattern=r"^[A-Z0-9]{2,8}$")]
    execution_day: Annotated[str, Field(min_length=1)]
    execution_hour: str
    prerequisite: str = ""

    @field_validator("execution_day", mode="before")
    @classmethod
    def _day(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("execution_hour", mode="before")
    @classmethod
    def _hour(cls, v: Any) -> Any:
        if isinstance(v, int):  # YAML 1.1 reads an unquoted 06:00 as the number 360
            raise ValueError(f'write the hour in quotes, as "HH:MM" (YAML read it as the number {v})')
        if not isinstance(v, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
            raise ValueError(f'must be "HH:MM" (24 h), got {show_value(v)}')
        return v


CapacityRange = tuple[int, int]


class Capacity(_Strict):
    billing_mode: Literal["PROVISIONED", "PAY_PER_REQUEST"] = "PROVISIONED"
    read: CapacityRange = (1, 50)
    write: CapacityRange = (1, 8000)

    @field_validator("read", "write")
    @classmethod
    def _range(cls, v: CapacityRange) -> CapacityRange:
        lo, hi = v
        if lo < 1:
            raise ValueError(f"the autoscaling minimum must be at least 1, got {lo}")
        if lo > hi:
            raise ValueError(f"the autoscaling minimum {lo} is above the maximum {hi}")
        return v


class GlueSettings(_Strict):
    """The Glue job that loads the tables (``glueJob<Apiname>``). Absent values are taken from the sizing
    step's recommendation; written values override it."""

    worker_type: Literal["G.1X", "G.2X", "G.4X", "G.8X"] | None = None
    number_of_workers: Annotated[int | None, Field(ge=2, le=299)] = None
    # coordinators (tables) loading at once; absent: one per table
    max_concurrent_runs: Annotated[int | None, Field(ge=1, le=1000)] = None


class Load(_Strict):
    """The full load into DynamoDB."""

    window_hours: Annotated[float, Field(gt=0, le=168)] = 6
    # share of the table's write capacity the loader may use (Glue's dynamodb.throughput.write.percent)
    write_share: Annotated[float, Field(gt=0, le=1.5)] = 0.5
    # auto: the single-machine loader unless a table reaches spark_from_items or one machine would not fit
    # the window (engine.choose); or force one engine
    engine: Literal["auto", "single-machine", "spark"] = "auto"
    spark_from_items: Annotated[int, Field(ge=1)] = 5_000_000
    # raise the table's write capacity for the load and give it back after (the scalable target's minimum,
    # or WarmThroughput on demand): auto when the load from the autoscaling minimum would not fit the window
    warm: Literal["auto", "always", "never"] = "auto"


LOGICAL_ID = r"^[A-Za-z0-9]+$"


class Infrastructure(_Strict):
    # the API's current CloudFormation template, relative to the HU file; absent: a new API, built from
    # templates/cloudformation/base.yaml (a clone of the cloud repository with the API's template wins)
    template: str | None = None
    # a hand-written template's own logical IDs, when the runbook's names are not there and the template's
    # resources do not say it alone (several Glue jobs, several roles): the Glue job the tables load through,
    # the policies that grant the API's pods and the Glue job access to the tables, the KMS key or alias of
    # the tables' encryption
    glue_job_resource: Annotated[str | None, Field(pattern=LOGICAL_ID)] = None
    api_policy_resource: Annotated[str | None, Field(pattern=LOGICAL_ID)] = None
    glue_policy_resource: Annotated[str | None, Field(pattern=LOGICAL_ID)] = None
    kms_key_resource: Annotated[str | None, Field(pattern=LOGICAL_ID)] = None

    @field_validator("template")
    @classmethod
    def _template(cls, v: str | None) -> str | None:
        return _relative_file(v, "infrastructure.template")


class Nfr(_Strict):
    """The API's non-functional requirements: monitoring thresholds and load-test assertions."""

    # requests per second the API must sustain; absent: the sum of the tables' traffic.peak_rps
    target_tps: Annotated[float | None, Field(gt=0)] = None
    p95_ms: Annotated[int | None, Field(gt=0, le=60_000)] = None
    error_rate_pct: Annotated[float, Field(ge=0, le=100)] = 1.0
    availability_pct: Annotated[float, Field(gt=0, le=100)] = 99.5
    # seconds of the Locust run against an API on loopback (local only; the pipeline runs DEV/QA/PRD's plan)
    local_load_s: Annotated[int, Field(ge=3, le=600)] = 15


class Person(_Strict):
    name: Annotated[str, Field(min_length=3)]
    email: Annotated[str, Field(pattern=EMAIL)]


class Contact(Person):
    role: Annotated[str, Field(min_length=2)]
    phone: Annotated[str, Field(pattern=r"^\+?[0-9][0-9 ()-]{5,20}$")] | None = None


class Documents(_Strict):
    """What the PRD paperwork needs beyond the rest of the HU (all checked by the ``documentos`` step)."""

    ha: Annotated[int | None, Field(gt=0, strict=True)] = None  # the HA number of the monitoring request
    sender: Person | None = None  # who signs and sends the emails
    manager: Person | None = None  # approves the E2E exception
    monitoring_to: list[Annotated[str, Field(pattern=EMAIL)]] = []
    contacts: list[Contact] = []
    monitoring_hours: Annotated[str, Field(min_length=3)] = "24x7"
    # the AHP matrix attached to the E2E exception request, relative to the HU file
    ahp_matrix: str | None = None

    @field_validator("ahp_matrix")
    @classmethod
    def _ahp_matrix(cls, v: str | None) -> str | None:
        return _relative_file(v, "documents.ahp_matrix")


#: what an optional section holds, for the sentence of a step that cannot run without it
SECTION_FIELDS = {
    "documents": "ha, sender, manager, monitoring_to, contacts, ahp_matrix",
    "nfr": "p95_ms, error_rate_pct, availability_pct y, si aplica, target_tps",
}


def missing_section(hu_path: Path, section: str, purpose: str) -> str:
    """The Spanish sentence of a step skipped for a section its HU does not write: what is missing, what to add."""
    return (
        f"Falta la sección «{section}» en {hu_path.name}: agréguela ({SECTION_FIELDS.get(section, section)}; "
        f"vea el ejemplo de parameters/hu/demo.yaml) para {purpose}."
    )


class HU(_Strict):
    hu: HUInfo
    api: ApiInfo
    team: Team
    coordinator: Coordinator
    capacity: Capacity = Capacity()
    glue: GlueSettings = GlueSettings()
    load: Load = Load()
    infrastructure: Infrastructure = Infrastructure()
    nfr: Nfr = Nfr()
    documents: Documents = Documents()
    tables: Annotated[list[TableSpec], Field(min_length=1)]

    @property
    def id(self) -> int:
        return self.hu.id

    def has_section(self, name: str) -> bool:
        """Whether the file writes this optional section (``documents``, ``nfr``), not only its defaults."""
        return name in self.model_fields_set

    def promotion_fingerprint(self) -> str:
        """What a promotion carries from one environment to the next: the API, each table with its keys,
        and the capacities; not the file's bytes (a comment, the paperwork or the load window may differ)."""
        what = {
            "hu": self.id,
            "api": self.api.name,
            "capacity": self.capacity.model_dump(mode="json"),
            "tables": [
                {
                    "source": t.source,
                    "table": t.names.dynamo_table,
                    "partition_key": t.partition_key.model_dump(),
                    "sort_key": t.sort_key.model_dump() if t.sort_key else None,
                }
                for t in self.tables
            ],
        }
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- loading


def _column_checks(i: int, t: dict[str, Any]) -> list[tuple[Loc, str]]:
    """A table's ``columns``: each name once, and a key listed there typed as the key is (N: a number)."""
    out: list[tuple[Loc, str]] = []
    columns = t.get("columns")
    if not isinstance(columns, list):
        return out
    keys = {
        str(k.get("name", "")).lower(): k.get("type")
        for k in (t.get("partition_key"), t.get("sort_key"))
        if isinstance(k, dict)
    }
    seen: dict[str, int] = {}
    for j, c in enumerate(columns):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
            continue
        name = c["name"].lower()
        if name in seen:
            where = ("tables", i, "columns", j, "name")
            out.append((where, f'"{c["name"]}" is already listed at columns[{seen[name]}]'))
        seen[name] = j
        kind = str(c.get("type", "")).strip().upper().split("(")[0]
        if keys.get(name) == "N" and kind and kind not in NUMERIC_TYPES:
            out.append(
                (
                    ("tables", i, "columns", j, "type"),
                    f'"{c["name"]}" is a key of type N: its column must be numeric ({", ".join(NUMERIC_TYPES)}), '
                    f'got "{c.get("type")}"',
                )
            )
    return out


def _cross_checks(raw: Any) -> list[tuple[Loc, str]]:
    """Checks that span several fields, run on the raw data so they are reported with everything else."""
    out: list[tuple[Loc, str]] = []
    tables = raw.get("tables") if isinstance(raw, dict) else None
    if not isinstance(tables, list):
        return out
    sources: dict[str, int] = {}
    tokens: dict[str, int] = {}
    dynamo: dict[str, int] = {}
    for i, t in enumerate(tables):
        if not isinstance(t, dict):
            continue
        pk, sk = t.get("partition_key"), t.get("sort_key")
        if isinstance(pk, dict) and isinstance(sk, dict) and pk.get("name") and pk.get("name") == sk.get("name"):
            out.append(
                (("tables", i, "sort_key", "name"), f'must differ from the partition key, both are "{pk["name"]}"')
            )
        out += _column_checks(i, t)
        source = t.get("source")
        if not isinstance(source, str):
            continue
        if source.lower() in sources:
            out.append((("tables", i, "source"), f'"{source}" is already listed at tables[{sources[source.lower()]}]'))
            continue
        sources[source.lower()] = i
        try:
            style = t.get("name_style", "camel")
            names = naming.table_names(source, style if style in ("camel", "lower") else "camel", t.get("dynamo_table"))
        except ValueError:
            continue
        if names.token.lower() in tokens:
            j = tokens[names.token.lower()]
            out.append(
                (
                    ("tables", i, "source"),
                    f"its CloudFormation IDs ({names.table_resource}) collide with those of tables[{j}]",
                )
            )
        tokens[names.token.lower()] = i
        if names.dynamo_table in dynamo:
            out.append(
                (
                    ("tables", i, "dynamo_table"),
                    f'DynamoDB table "{names.dynamo_table}" is already used by tables[{dynamo[names.dynamo_table]}]',
                )
            )
        dynamo[names.dynamo_table] = i
    return out


def hu_file(hu_path: Path, rel: str, field: str) -> Path:
    """A file the HU names (``field``), resolved in the HU's folder: it must exist, stay inside the folder
    once links are followed, and be of the kind its use needs."""
    folder = hu_path.parent.resolve()
    path = (folder / rel).resolve()
    if not path.is_relative_to(folder):
        raise HUFileError(
            f"{hu_path}: {field}: {rel} lleva fuera de la carpeta de la HU ({path}); copie el archivo junto a la HU"
        )
    if not path.is_file():
        raise HUFileError(f"{hu_path}: {field}: no existe el archivo {path}")
    suffixes, what = FILE_KINDS[field]
    if not _looks_like(path, path.suffix.lower()):
        raise HUFileError(
            f"{hu_path}: {field}: {path.name} no es {KIND_ES[field]}: su contenido no corresponde a ese tipo de archivo"
        )
    return path


def load_hu(path: str | Path) -> HU:
    """Read and validate an HU file; raises InputFileError listing every problem it has."""
    return load_yaml_model(path, HU, _cross_checks)
