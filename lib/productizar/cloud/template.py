"""Patch an API's CloudFormation template with the HU's tables, as the runbook's "Infraestructura" says.

Per table: parameters ``dynamo<tablename>api``, ``Dy<TableName>ApiRead/WriteCapacityUnits``; the table
(SSE with the KMS alias, PITR, billing mode by condition, keys from the HU, the eight ``bancolombia:*``
tags, ``DeletionPolicy``/``UpdateReplacePolicy: Retain``); read and write scalable targets and
target-tracking policies (80 and 60); its ARNs in ``EKSRolePolicyDynamo`` and ``GlueRolePolicy`` with
their ``DependsOn``. And the Glue job's workers and concurrency.

YAML is round-tripped with ruamel (comments, key order and short-form tags kept); nothing the patcher does
not own is touched; applying the same HU twice gives the same bytes; a table is never removed.

A hand-written template is taken as it is (``cloud.discovery`` finds its Glue job, policies and KMS key by
what they are when they do not carry the runbook's names) and patched in its own style: ARNs in the shape
its statements already use, ``DependsOn`` only where the template writes them, so a template that scanned
clean before scans clean after.
"""

from __future__ import annotations

import copy
import difflib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.util import load_yaml_guess_indent

from productizar.cloud import discovery
from productizar.cloud.discovery import PolicySpot, TemplateError
from productizar.core import naming, paths
from productizar.core.hu import HU, TableSpec

BASE_TEMPLATE = paths.project_root() / "templates" / "cloudformation" / "base.yaml"
BASE_API_NAME, BASE_API_SLUG = "ApiBase", "api-base"

EKS_POLICY, GLUE_POLICY, TABLES_SID = discovery.EKS_POLICY, discovery.GLUE_POLICY, discovery.TABLES_SID
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


def _resources_yaml(t: TableSpec, kms: str = "s3KeyEncriptAlias") -> str:
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
      KMSMasterKeyId: !Ref {kms}
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


def _grant(
    spot: PolicySpot, t: TableSpec, logical_id: str, actions: list[str], stream: bool, tables: list[str]
) -> bool:
    """Grant one table in a policy, in the shape its statement already writes ARNs; nothing when the
    statement names the table already (in any form) or grants every resource."""
    st = discovery.tables_statement(spot, tables)
    if st is None:
        st = CommentedMap(
            [("Sid", TABLES_SID), ("Effect", "Allow"), ("Action", CommentedSeq(actions)), ("Resource", CommentedSeq())]
        )
        spot.document.setdefault("Statement", CommentedSeq()).append(st)
    current = st.get("Resource")
    if current == "*" or discovery.mentions(current, logical_id, t.names.table_parameter, t.names.dynamo_table):
        return False
    how, prefix = discovery.shape(current)
    if not isinstance(current, list):
        st["Resource"] = CommentedSeq([current] if current is not None else [])
    _ensure(st["Resource"], discovery.table_arns(t, logical_id, how, prefix, stream))
    return True


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


BILLING_PARAMETER, BILLING_CONDITION = "DyTablesBillingMode", "IsDyTablesBillingModeProvisioned"


def _billing_mode(doc: CommentedMap, params: CommentedMap, y: YAML) -> list[str]:
    """The billing-mode parameter and condition the new tables use, added when a hand-written template
    has neither."""
    added = []
    if BILLING_PARAMETER not in params:
        params[BILLING_PARAMETER] = y.load(
            "Description: Modo de facturación de las tablas de DynamoDB\nType: String\nDefault: PROVISIONED\n"
            "AllowedValues:\n  - PROVISIONED\n  - PAY_PER_REQUEST\n"
        )
        added.append(BILLING_PARAMETER)
    conditions = doc.get("Conditions")
    if conditions is None:
        keys = list(doc)
        doc.insert(keys.index("Resources"), "Conditions", CommentedMap())
        conditions = doc["Conditions"]
    if BILLING_CONDITION not in conditions:
        conditions[BILLING_CONDITION] = y.load(f"!Equals [!Ref {BILLING_PARAMETER}, PROVISIONED]")
        added.append(BILLING_CONDITION)
    return added


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
    # a flow-style value ([a, b]) is one line: what follows it belongs to its parent
    while isinstance(node, (CommentedMap, CommentedSeq)) and len(node) and not node.fa.flow_style():
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
        token = next((t for t in trailer if t is not None), None)
        # ruamel keeps a sequence item's trailing comment in the first slot, a mapping value's in the third
        slots = [token, None, None, None] if isinstance(container, CommentedSeq) else [None, None, token, None]
        container.ca.items[key] = slots


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

    ``glue`` comes from ``glue_settings``; absent, the HU's values and the defaults are used. A table the
    template has already (under the runbook's logical ID or with the HU's table name) is left as it is,
    apart from its grants when a policy lacks them."""
    glue = glue or glue_settings(hu)
    y = _style(text)
    y.explicit_start = text.lstrip().startswith("---")
    doc = y.load(text)
    if not isinstance(doc, CommentedMap) or not isinstance(doc.get("Resources"), CommentedMap):
        raise TemplateError(f"{name} no parece una plantilla de CloudFormation (falta Resources).")
    result = PatchResult(text=text, changed=False)
    resources = doc["Resources"]
    job_id = discovery.glue_job(resources, hu)
    eks = discovery.api_policy(resources, hu)
    glue_policy = discovery.glue_policy(resources, hu, job_id)
    present = {t.source: discovery.existing_table(resources, t) for t in hu.tables}
    new_tables = [t for t in hu.tables if present[t.source] is None]
    kms = discovery.kms_key(resources, hu) if new_tables else ""
    params = doc.setdefault("Parameters", CommentedMap())
    # the blank line that closes each section stays at its end, after what is added
    owners = {id(x): x for x in (eks.resource, glue_policy.resource, resources[job_id])}
    touched = [params, resources, *owners.values()]
    # (a resource's closing blank line sits on its last value: kept at its end when values are appended)
    trailers = {id(sec): (sec, _detach_trailer(sec)) for sec in touched}
    changed = False

    wanted = {rid for rid in present.values() if rid} | {t.names.table_resource for t in new_tables}
    for logical_id, res in resources.items():
        if isinstance(res, dict) and res.get("Type") == "AWS::DynamoDB::Table" and logical_id not in wanted:
            result.not_in_hu.append(logical_id)
    if new_tables:
        had_conditions = "Conditions" in doc
        billing = _billing_mode(doc, params, y)
        result.added += billing
        changed |= bool(billing)
        if not had_conditions:  # a new section closes with a blank line, as the others do
            trailers[id(doc["Conditions"])] = (doc["Conditions"], copy.deepcopy(trailers[id(params)][1]))

    tables = [rid for rid, v in resources.items() if isinstance(v, dict) and v.get("Type") == "AWS::DynamoDB::Table"]
    for t in hu.tables:
        n = t.names
        logical_id = present[t.source] or n.table_resource
        if present[t.source]:
            result.already_present.append(logical_id)
            expected = [(t.partition_key.name, "HASH", t.partition_key.type)] + (
                [(t.sort_key.name, "RANGE", t.sort_key.type)] if t.sort_key else []
            )
            found = _key_schema(resources[logical_id])
            if found != expected:
                result.conflicts.append(
                    f"{logical_id}: la plantilla tiene las claves {found} y la HU pide {expected}; "
                    "no se cambia (cambiar claves reemplaza la tabla)."
                )
        else:
            for pid, pval in y.load(_parameters_yaml(t)).items():
                if pid not in params:
                    params[pid] = pval
                    result.added.append(pid)
            for rid, rval in y.load(_resources_yaml(t, kms)).items():
                if rid not in resources:
                    resources[rid] = rval
                    result.added.append(rid)
            changed = True
            tables.append(logical_id)
        for spot, actions, stream in ((eks, EKS_ACTIONS, True), (glue_policy, GLUE_ACTIONS, False)):
            if _grant(spot, t, logical_id, actions, stream, tables):
                changed = True
                if spot.wants_depends_on():
                    _depends_on(spot.resource, logical_id)
            elif spot.wants_depends_on() and not present[t.source]:
                changed |= _depends_on(spot.resource, logical_id)

    job = resources[job_id].setdefault("Properties", CommentedMap())
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
    new_ids = {t.names.table_resource for t in new_tables}
    for rid in result.added:  # a blank line before each new table, as between the template's resources
        if rid in new_ids and blank is not None:
            keys = list(resources)
            previous = resources[keys[keys.index(rid) - 1]]
            _attach_trailer(previous, copy.deepcopy(blank))
    for section, trailer in trailers.values():
        _attach_trailer(section, trailer)
    if changed:
        out = io.StringIO()
        y.dump(doc, out)
        result.text = _keep_original_lines(text, out.getvalue(), y)
        result.changed = result.text != text
        result.diff = "".join(
            difflib.unified_diff(text.splitlines(True), result.text.splitlines(True), f"a/{name}", f"b/{name}")
        )
    return result


def _same_line(a: str, b: str) -> bool:
    """Two renderings of one YAML line: ``- x`` and ``-   x`` (ruamel writes one sequence style per file)."""
    return re.sub(r"^(\s*)-\s+", r"\1- ", a) == re.sub(r"^(\s*)-\s+", r"\1- ", b)


def plain(node: Any) -> Any:
    """A YAML document as plain data, each tag kept with its value (to compare documents, not text)."""
    if isinstance(node, TaggedScalar):
        return (node.tag.value, node.value)
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def _keep_original_lines(original: str, dumped: str, y: YAML) -> str:
    """The dumped text with every line it merely re-rendered written as the file had it, so the diff holds
    only what the patch adds. A file that mixes sequence styles would otherwise see unrelated lines
    re-indented; the result must still read as the dumped document, else the dumped text is kept."""
    a, b = original.splitlines(True), dumped.splitlines(True)
    out: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out += a[i1:i2]
        elif tag == "replace" and i2 - i1 == j2 - j1 and all(map(_same_line, a[i1:i2], b[j1:j2])):
            out += a[i1:i2]
        elif tag == "delete" and not "".join(a[i1:i2]).strip():
            out += a[i1:i2]  # a blank line ruamel drops (after a tagged block sequence such as !If)
        else:
            out += b[j1:j2]
    merged = "".join(_blank_lines_as_in(a, out))
    return merged if plain(y.load(merged)) == plain(y.load(dumped)) else dumped


def _blank_lines_as_in(original: list[str], lines: list[str]) -> list[str]:
    """Blank lines in the file's own rhythm: no longer runs than it has, and one before each top-level key
    that had one (ruamel moves some blank lines that follow a flow sequence inside a list)."""

    def runs(seq: list[str]) -> int:
        longest = current = 0
        for line in seq:
            current = current + 1 if not line.strip() else 0
            longest = max(longest, current)
        return longest

    limit = max(runs(original), 1)
    spaced = {line for prev, line in zip(original, original[1:]) if not prev.strip() and line[:1].isalpha()}
    out: list[str] = []
    blanks = 0
    for line in lines:
        if not line.strip():
            blanks += 1
            if blanks <= limit:
                out.append(line)
            continue
        if line in spaced and blanks == 0 and out:
            out.append("\n")
        blanks = 0
        out.append(line)
    return out


def declared_parameters(text: str) -> set[str]:
    """The parameters a template declares (a stack refuses values for any other)."""
    doc = _yaml().load(text)
    return set((doc or {}).get("Parameters") or {})


def template_tables(text: str) -> list[str]:
    """Logical IDs of the DynamoDB tables a template declares."""
    doc = _yaml().load(text)
    return [
        k
        for k, v in doc.get("Resources", {}).items()
        if isinstance(v, dict) and v.get("Type") == "AWS::DynamoDB::Table"
    ]
