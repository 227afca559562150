"""Patch an API's CloudFormation template with the HU's tables, as the runbook's "Infraestructura" says.

Per table: parameters ``dynamo<tablename>api``, ``Dy<TableName>ApiRead/WriteCapacityUnits``; the table
(SSE with the KMS alias, PITR, billing mode by condition, keys from the HU, the eight ``bancolombia:*``
tags, ``DeletionPolicy``/``UpdateReplacePolicy: Retain``); read and write scalable targets and
target-tracking policies (80 and 60); its ARNs in ``EKSRolePolicyDynamo`` and ``GlueRolePolicy`` with
their ``DependsOn``. And the Glue job's workers and concurrency.

YAML is round-tripped with ruamel (comments, key order and short-form tags kept); nothing the patcher does
not own is touched; applying the same HU twice gives the same bytes; a table is never removed.
"""

from __future__ import annotations

import copy
import difflib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.util import load_yaml_guess_indent

from productizar.core import naming, paths
from productizar.core.errors import ProductizarError
from productizar.core.hu import HU, TableSpec

BASE_TEMPLATE = paths.project_root() / "templates" / "cloudformation" / "base.yaml"
BASE_API_NAME, BASE_API_SLUG = "ApiBase", "api-base"

EKS_POLICY, GLUE_POLICY = "EKSRolePolicyDynamo", "GlueRolePolicy"
TABLES_SID = "AccesoTablasDynamo"
EKS_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
]
GLUE_ACTIONS = [
    "dynamodb:BatchWriteItem",
    "dynamodb:PutItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
]

TAGS = {
    "bancolombia:datos-personales": "clientes",
    "bancolombia:dominio-informacion": "productos-canales",
    "bancolombia:cumplimiento": "no",
    "bancolombia:clasificacion-confidencialidad": "confidencial",
    "bancolombia:clasificacion-integridad": "impacto tolerable",
    "bancolombia:clasificacion-disponibilidad": "impacto moderado",
    "bancolombia:bkmensual": "no",
    "bancolombia:bkdiario": "no",
}
READ_TARGET, WRITE_TARGET = 80, 60


class TemplateError(ProductizarError):
    pass


def _yaml(mapping: int = 2, sequence: int = 4, offset: int = 2) -> YAML:
    y = YAML()
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    return y


def new_api_template(hu: HU, base: Path = BASE_TEMPLATE) -> str:
    """The base template copied for a new API: ApiBase / api-base become the HU's API name and slug."""
    text = base.read_text(encoding="utf-8")
    text = text.replace(naming.glue_job_resource(BASE_API_NAME), naming.glue_job_resource(hu.api.name))
    return text.replace(BASE_API_NAME, hu.api.name).replace(BASE_API_SLUG, hu.api.slug)


# ------------------------------------------------------------------------------------- the snippets


def _parameters_yaml(t: TableSpec) -> str:
    n = t.names
    return f"""\
{n.table_parameter}:
  Description: Nombre de tabla de {n.dynamo_table}
  Type: String
{n.read_capacity_parameter}:
  Description: Capacidades de lectura (mínimo,máximo) para la tabla {n.dynamo_table}
  Type: List<Number>
{n.write_capacity_parameter}:
  Description: Capacidades de escritura (mínimo,máximo) para la tabla {n.dynamo_table}
  Type: List<Number>
"""


def _resources_yaml(t: TableSpec) -> str:
    """The table and its four scaling resources. Two corrections to the seed's block, both on purpose:
    ``DeletionPolicy``/``UpdateReplacePolicy: Retain`` (deleting the stack never deletes data), and
    ``ProvisionedThroughput`` omitted with ``AWS::NoValue`` under PAY_PER_REQUEST, which refuses it."""
    n = t.names
    keys = [(t.partition_key, "HASH")] + ([(t.sort_key, "RANGE")] if t.sort_key else [])
    attrs = "".join(f"        - AttributeName: {k.name}\n          AttributeType: {k.type}\n" for k, _ in keys)
    schema = "".join(f"        - AttributeName: {k.name}\n          KeyType: {kind}\n" for k, kind in keys)
    tags = "".join(f"        - Key: '{k}'\n          Value: '{v}'\n" for k, v in TAGS.items())
    role = (
        "!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/"
        "dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
    )

    def scaling(kind: str, param: str, target: int, metric: str) -> str:
        return f"""\
{n.table_resource}{kind}ScalableTarget:
  Type: AWS::ApplicationAutoScaling::ScalableTarget
  Condition: IsDyTablesBillingModeProvisioned
  Properties:
    ResourceId: !Sub table/${{{n.table_resource}}}
    ScalableDimension: dynamodb:table:{kind}CapacityUnits
    MinCapacity: !Select [0, !Ref {param}]
    MaxCapacity: !Select [1, !Ref {param}]
    RoleARN: {role}
    ServiceNamespace: dynamodb
{n.table_resource}{kind}ScalingPolicy:
  Type: AWS::ApplicationAutoScaling::ScalingPolicy
  Condition: IsDyTablesBillingModeProvisioned
  Properties:
    PolicyName: {n.table_resource}{kind}ScalingPolicy
    PolicyType: TargetTrackingScaling
    ScalingTargetId: !Ref {n.table_resource}{kind}ScalableTarget
    TargetTrackingScalingPolicyConfiguration:
      TargetValue: {target}
      PredefinedMetricSpecification:
        PredefinedMetricType: {metric}
"""

    return (
        f"""\
{n.table_resource}:
  Type: AWS::DynamoDB::Table
  DeletionPolicy: Retain
  UpdateReplacePolicy: Retain
  Properties:
    SSESpecification:
      KMSMasterKeyId: !Ref s3KeyEncriptAlias
      SSEEnabled: true
      SSEType: KMS
    PointInTimeRecoverySpecification:
      PointInTimeRecoveryEnabled: true
    TableName: !Ref {n.table_parameter}
    BillingMode: !If [IsDyTablesBillingModeProvisioned, PROVISIONED, PAY_PER_REQUEST]
    AttributeDefinitions:
{attrs}    KeySchema:
{schema}    ProvisionedThroughput: !If
      - IsDyTablesBillingModeProvisioned
      - ReadCapacityUnits: !Select [0, !Ref {n.read_capacity_parameter}]
        WriteCapacityUnits: !Select [0, !Ref {n.write_capacity_parameter}]
      - !Ref AWS::NoValue
    Tags:
{tags}"""
        + scaling("Read", n.read_capacity_parameter, READ_TARGET, "DynamoDBReadCapacityUtilization")
        + scaling("Write", n.write_capacity_parameter, WRITE_TARGET, "DynamoDBWriteCapacityUtilization")
    )


# ---------------------------------------------------------------------------------------- patching


def _key(node: Any) -> str:
    """Compare YAML values with their tag: ``!GetAtt X.Arn`` vs the plain string."""
    if isinstance(node, TaggedScalar):
        return f"{node.tag.value} {node.value}"
    return str(node)


def _tagged(tag: str, value: str) -> TaggedScalar:
    return TaggedScalar(value=value, tag=tag)


@dataclass
class PatchResult:
    text: str
    changed: bool
    added: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    not_in_hu: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    glue: dict[str, Any] = field(default_factory=dict)
    diff: str = ""


def _resource(doc: CommentedMap, logical_id: str, kind: str) -> CommentedMap:
    res = doc.get("Resources", {}).get(logical_id)
    if not isinstance(res, CommentedMap) or res.get("Type") != kind:
        raise TemplateError(f"La plantilla no tiene el recurso {logical_id} ({kind}) que el runbook espera.")
    return res


def _tables_statement(policy: CommentedMap, actions: list[str]) -> CommentedSeq:
    """The policy's statement for the tables (created the first time); returns its Resource list."""
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    for st in statements:
        if st.get("Sid") == TABLES_SID:
            if not isinstance(st.get("Resource"), list):
                st["Resource"] = CommentedSeq([st["Resource"]] if st.get("Resource") else [])
            return st["Resource"]
    st = CommentedMap(
        [("Sid", TABLES_SID), ("Effect", "Allow"), ("Action", CommentedSeq(actions)), ("Resource", CommentedSeq())]
    )
    statements.append(st)
    return st["Resource"]


def _ensure(seq: CommentedSeq, items: list[Any]) -> bool:
    present = {_key(x) for x in seq}
    new = [i for i in items if _key(i) not in present]
    seq.extend(new)
    return bool(new)


def _depends_on(resource: CommentedMap, logical_id: str) -> bool:
    deps = resource.get("DependsOn")
    if deps is None:
        # keep DependsOn right after Type/Metadata, where the team writes it
        resource.insert(min(len(resource), list(resource).index("Properties")), "DependsOn", CommentedSeq())
        deps = resource["DependsOn"]
    elif isinstance(deps, str):
        resource["DependsOn"] = deps = CommentedSeq([deps])
    return _ensure(deps, [logical_id])


def _key_schema(table: CommentedMap) -> list[tuple[str, str, str]]:
    props = table.get("Properties", {})
    types = {a["AttributeName"]: a["AttributeType"] for a in props.get("AttributeDefinitions", [])}
    return [(k["AttributeName"], k["KeyType"], types.get(k["AttributeName"], "?")) for k in props.get("KeySchema", [])]


def _style(text: str) -> YAML:
    """A YAML instance that writes with the indentation the file already uses."""
    _, sequence, offset = load_yaml_guess_indent(text)
    mapping = next(
        (
            len(line) - len(line.lstrip(" "))
            for line in text.splitlines()
            if line.startswith(" ") and not line.lstrip().startswith(("-", "#"))
        ),
        2,
    )
    return _yaml(mapping=mapping, sequence=sequence or mapping, offset=offset or 0)


def _deepest_last(node: Any) -> tuple[Any, Any] | None:
    """The (container, key) of the last scalar of a block: where YAML keeps a trailing blank line."""
    found = None
    while isinstance(node, (CommentedMap, CommentedSeq)) and len(node):
        key = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        found, node = (node, key), node[key]
    return found


def _detach_trailer(section: Any) -> Any:
    spot = _deepest_last(section)
    return spot[0].ca.items.pop(spot[1], None) if spot else None


def _attach_trailer(section: Any, trailer: Any) -> None:
    spot = _deepest_last(section)
    if spot and trailer is not None:
        container, key = spot
        if isinstance(container, CommentedSeq) and len(trailer) == 4:
            trailer = [trailer[2], None]  # a mapping's comment slot, moved onto a sequence item
        elif isinstance(container, CommentedMap) and len(trailer) == 2:
            trailer = [None, None, trailer[0], None]
        container.ca.items[key] = trailer


DEFAULT_GLUE = {"WorkerType": "G.1X", "NumberOfWorkers": 2}


def glue_settings(hu: HU, recommended: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Glue job's figures: what the HU writes wins, then the sizing step's recommendation, then defaults.

    ``recommended`` uses the template's names (WorkerType, NumberOfWorkers, MaxConcurrentRuns); ``source``
    says where each came from, for the evidence.
    """
    recommended = recommended or {}
    written = {
        "WorkerType": hu.glue.worker_type,
        "NumberOfWorkers": hu.glue.number_of_workers,
        "MaxConcurrentRuns": hu.glue.max_concurrent_runs,
    }
    fallback = DEFAULT_GLUE | {"MaxConcurrentRuns": len(hu.tables)}
    out: dict[str, Any] = {"source": {}}
    for key in written:
        if written[key] is not None:
            out[key], out["source"][key] = written[key], "HU"
        elif recommended.get(key) is not None:
            out[key], out["source"][key] = recommended[key], "dimensionamiento"
        else:
            out[key], out["source"][key] = fallback[key], "valor por defecto"
    return out


def patch(text: str, hu: HU, name: str = "template.yaml", glue: dict[str, Any] | None = None) -> PatchResult:
    """Add the HU's tables and Glue settings to ``text``; returns the new text, what changed and a diff.

    ``glue`` comes from ``glue_settings``; absent, the HU's values and the defaults are used."""
    glue = glue or glue_settings(hu)
    y = _style(text)
    doc = y.load(text)
    if not isinstance(doc, CommentedMap) or "Resources" not in doc:
        raise TemplateError(f"{name} no parece una plantilla de CloudFormation (falta Resources).")
    result = PatchResult(text=text, changed=False)
    params = doc.setdefault("Parameters", CommentedMap())
    resources = doc["Resources"]
    # the blank line that closes each section stays at its end, after what is added
    trailers = {id(sec): (sec, _detach_trailer(sec)) for sec in (params, resources)}
    eks = _resource(doc, EKS_POLICY, "AWS::IAM::Policy")
    glue_policy = _resource(doc, GLUE_POLICY, "AWS::IAM::Policy")
    changed = False

    wanted = {t.names.table_resource for t in hu.tables}
    for logical_id, res in resources.items():
        if isinstance(res, dict) and res.get("Type") == "AWS::DynamoDB::Table" and logical_id not in wanted:
            result.not_in_hu.append(logical_id)

    for t in hu.tables:
        n = t.names
        for pid, pval in y.load(_parameters_yaml(t)).items():
            if pid not in params:
                params[pid] = pval
                result.added.append(pid)
                changed = True
        if n.table_resource in resources:
            result.already_present.append(n.table_resource)
            expected = [(t.partition_key.name, "HASH", t.partition_key.type)] + (
                [(t.sort_key.name, "RANGE", t.sort_key.type)] if t.sort_key else []
            )
            found = _key_schema(resources[n.table_resource])
            if found != expected:
                result.conflicts.append(
                    f"{n.table_resource}: la plantilla tiene las claves {found} y la HU pide {expected}; "
                    "no se cambia (cambiar claves reemplaza la tabla)."
                )
        for rid, rval in y.load(_resources_yaml(t)).items():
            if rid not in resources:
                resources[rid] = rval
                result.added.append(rid)
                changed = True
        arn = _tagged("!GetAtt", f"{n.table_resource}.Arn")
        eks_items = [
            arn,
            _tagged("!Sub", f"${{{n.table_resource}.Arn}}/index/*"),
            _tagged("!Sub", f"${{{n.table_resource}.Arn}}/stream/*"),
        ]
        glue_items = [
            _tagged("!GetAtt", f"{n.table_resource}.Arn"),
            _tagged("!Sub", f"${{{n.table_resource}.Arn}}/index/*"),
        ]
        changed |= _ensure(_tables_statement(eks, EKS_ACTIONS), eks_items)
        changed |= _ensure(_tables_statement(glue_policy, GLUE_ACTIONS), glue_items)
        changed |= _depends_on(eks, n.table_resource)
        changed |= _depends_on(glue_policy, n.table_resource)

    job_id = naming.glue_job_resource(hu.api.name)
    job = _resource(doc, job_id, "AWS::Glue::Job")["Properties"]
    for k in ("WorkerType", "NumberOfWorkers"):
        if job.get(k) != glue[k]:
            job[k] = glue[k]
            changed = True
    runs = job.setdefault("ExecutionProperty", CommentedMap())
    if runs.get("MaxConcurrentRuns") != glue["MaxConcurrentRuns"]:
        runs["MaxConcurrentRuns"] = glue["MaxConcurrentRuns"]
        changed = True
    result.glue = {k: glue[k] for k in ("WorkerType", "NumberOfWorkers", "MaxConcurrentRuns")} | {
        "resource": job_id,
        "source": glue.get("source", {}),
    }

    blank = next((tr for _, tr in trailers.values() if tr is not None), None)
    for rid in result.added:  # a blank line before each new table, as between the template's resources
        if rid in wanted and blank is not None:
            keys = list(resources)
            previous = resources[keys[keys.index(rid) - 1]]
            _attach_trailer(previous, copy.deepcopy(blank))
    for section, trailer in trailers.values():
        _attach_trailer(section, trailer)
    if changed:
        out = io.StringIO()
        y.dump(doc, out)
        result.text, result.changed = out.getvalue(), True
        result.diff = "".join(
            difflib.unified_diff(text.splitlines(True), result.text.splitlines(True), f"a/{name}", f"b/{name}")
        )
    return result


def template_tables(text: str) -> list[str]:
    """Logical IDs of the DynamoDB tables a template declares."""
    doc = _yaml().load(text)
    return [
        k
        for k, v in doc.get("Resources", {}).items()
        if isinstance(v, dict) and v.get("Type") == "AWS::DynamoDB::Table"
    ]
