"""Find, in an API's template as it was written, what the patcher must touch: the Glue job, the policies
that grant the API's pods and the Glue job access to the tables, the KMS key of the tables, the tables the
HU names (by logical ID or by table name) and the shape the policies write table ARNs in.

The runbook's names come first; a hand-written template is read by what its resources are (the Glue job by
its type when there is one, the Glue policy through the job's role, the API's through the role the EKS
cluster assumes); when the template alone does not say, the error names the HU field that does.
Pure functions over the ruamel document: nothing here edits it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar

from productizar.core import naming
from productizar.core.errors import ProductizarError
from productizar.core.hu import HU, TableSpec

EKS_POLICY, GLUE_POLICY = "EKSRolePolicyDynamo", "GlueRolePolicy"
KMS_ALIAS = "s3KeyEncriptAlias"
TABLES_SID = "AccesoTablasDynamo"  # the Sid of the statement the patcher writes when a policy has none
POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
ROLE = "AWS::IAM::Role"
TABLE = "AWS::DynamoDB::Table"
GLUE_JOB = "AWS::Glue::Job"

Shape = Literal["getatt", "sub-arn", "sub-name", "long"]


class TemplateError(ProductizarError):
    pass


def scalars(node: Any) -> Iterator[str]:
    """Every string in a YAML value, tags' values included (``!GetAtt T.Arn`` gives ``T.Arn``)."""
    if isinstance(node, TaggedScalar):
        yield str(node.value)
    elif isinstance(node, dict):
        for k, v in node.items():
            yield str(k)
            yield from scalars(v)
    elif isinstance(node, list):
        for v in node:
            yield from scalars(v)
    elif node is not None:
        yield str(node)


def mentions(node: Any, logical_id: str | None, parameter: str | None = None, table_name: str | None = None) -> bool:
    """Whether a value refers to a resource (``!GetAtt X.Arn``, ``${X.Arn}``, ``[X, Arn]``, ``!Ref X``), to a
    parameter inside a ``!Sub`` (``${param}``) or to a literal table name."""
    for text in scalars(node):
        if logical_id and (text == logical_id or text.startswith(f"{logical_id}.") or f"${{{logical_id}" in text):
            return True
        if parameter and (text == parameter or f"${{{parameter}}}" in text):
            return True
        if table_name and (text == table_name or text.endswith(f":table/{table_name}")):
            return True
    return False


def _of_type(resources: CommentedMap, *types: str) -> list[str]:
    return [k for k, v in resources.items() if isinstance(v, dict) and v.get("Type") in types]


def _named(resources: CommentedMap, logical_id: str, types: tuple[str, ...], field: str) -> str:
    res = resources.get(logical_id)
    if not isinstance(res, dict) or res.get("Type") not in types:
        kinds = " o ".join(types)
        raise TemplateError(f"La HU indica {field}: {logical_id}, pero la plantilla no tiene ese recurso ({kinds}).")
    return logical_id


def glue_job(resources: CommentedMap, hu: HU) -> str:
    """The Glue job the tables load through: the HU's choice, the runbook's name, or the only one."""
    if hu.infrastructure.glue_job_resource:
        return _named(resources, hu.infrastructure.glue_job_resource, (GLUE_JOB,), "infrastructure.glue_job_resource")
    derived = naming.glue_job_resource(hu.api.name)
    if isinstance(resources.get(derived), dict) and resources[derived].get("Type") == GLUE_JOB:
        return derived
    jobs = _of_type(resources, GLUE_JOB)
    if len(jobs) == 1:
        return jobs[0]
    if not jobs:
        raise TemplateError("La plantilla no tiene un job de Glue (AWS::Glue::Job) que cargue las tablas.")
    raise TemplateError(
        f"La plantilla tiene {len(jobs)} jobs de Glue ({', '.join(jobs)}): indique en la HU cuál carga las tablas "
        "(infrastructure.glue_job_resource)."
    )


@dataclass(frozen=True)
class PolicySpot:
    """Where a grant is written: the resource that owns the policy document (a policy, or a role with the
    policy inline) and the document itself."""

    owner: str
    resource: CommentedMap
    document: CommentedMap

    def wants_depends_on(self) -> bool:
        """The template's own style: ``DependsOn`` on this resource already, or its cfn-lint metadata
        accepting the redundant ``DependsOn`` (W3005) the runbook asks for."""
        if "DependsOn" in self.resource:
            return True
        ignored = ((self.resource.get("Metadata") or {}).get("cfn-lint") or {}).get("config", {}).get("ignore_checks")
        return "W3005" in (ignored or [])


def _referenced(node: Any) -> str | None:
    """The logical ID a ``!Ref X`` / ``!GetAtt X.Arn`` (short or long form) points at."""
    if isinstance(node, TaggedScalar):
        return str(node.value).split(".")[0]
    if isinstance(node, dict) and len(node) == 1:
        ((fn, value),) = node.items()
        if fn == "Ref":
            return str(value)
        if fn == "Fn::GetAtt":
            return str(value[0] if isinstance(value, list) else str(value).split(".")[0])
    return None


def _dynamo_statements(document: Any) -> bool:
    return any(str(x).startswith("dynamodb:") for x in scalars(document.get("Statement")))


def _policies_of_role(resources: CommentedMap, role: str) -> list[PolicySpot]:
    spots = []
    for pid in _of_type(resources, *POLICY_TYPES):
        props = resources[pid].get("Properties") or {}
        if any(_referenced(r) == role for r in props.get("Roles") or []):
            spots.append(PolicySpot(pid, resources[pid], props["PolicyDocument"]))
    role_props = resources[role].get("Properties") or {}
    for arn in role_props.get("ManagedPolicyArns") or []:
        target = _referenced(arn)
        if target is not None and target in resources and resources[target].get("Type") == "AWS::IAM::ManagedPolicy":
            if all(s.owner != target for s in spots):
                spots.append(PolicySpot(target, resources[target], resources[target]["Properties"]["PolicyDocument"]))
    for inline in role_props.get("Policies") or []:
        spots.append(PolicySpot(role, resources[role], inline["PolicyDocument"]))
    return spots


def _choose(spots: list[PolicySpot], what: str, field: str) -> PolicySpot:
    with_tables = [s for s in spots if _dynamo_statements(s.document)]
    chosen = with_tables or spots
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        raise TemplateError(f"La plantilla no tiene una política para {what}: indique cuál en la HU ({field}).")
    names = ", ".join(s.owner for s in chosen)
    raise TemplateError(f"La plantilla tiene varias políticas para {what} ({names}): indique cuál en la HU ({field}).")


def _spot_named(resources: CommentedMap, logical_id: str, field: str, what: str) -> PolicySpot:
    _named(resources, logical_id, (*POLICY_TYPES, ROLE), field)
    res = resources[logical_id]
    if res["Type"] == ROLE:
        return _choose(_policies_of_role(resources, logical_id), what, field)
    return PolicySpot(logical_id, res, res["Properties"]["PolicyDocument"])


def glue_policy(resources: CommentedMap, hu: HU, job: str) -> PolicySpot:
    """The policy that lets the Glue job write the tables: the HU's choice, the runbook's name, or the
    policy of the job's role."""
    field, what = "infrastructure.glue_policy_resource", "el job de Glue"
    if hu.infrastructure.glue_policy_resource:
        return _spot_named(resources, hu.infrastructure.glue_policy_resource, field, what)
    if isinstance(resources.get(GLUE_POLICY), dict) and resources[GLUE_POLICY].get("Type") in POLICY_TYPES:
        return _spot_named(resources, GLUE_POLICY, field, what)
    role = _referenced((resources[job].get("Properties") or {}).get("Role"))
    if role is None or role not in resources or resources[role].get("Type") != ROLE:
        raise TemplateError(f"El job {job} no toma su rol de la plantilla: indique la política en la HU ({field}).")
    return _choose(_policies_of_role(resources, role), what, field)


def api_policy(resources: CommentedMap, hu: HU) -> PolicySpot:
    """The policy that lets the API's pods read the tables: the HU's choice, the runbook's name, or the
    policy of the role the EKS cluster assumes (``sts:AssumeRoleWithWebIdentity``)."""
    field, what = "infrastructure.api_policy_resource", "los pods del API"
    if hu.infrastructure.api_policy_resource:
        return _spot_named(resources, hu.infrastructure.api_policy_resource, field, what)
    if isinstance(resources.get(EKS_POLICY), dict) and resources[EKS_POLICY].get("Type") in POLICY_TYPES:
        return _spot_named(resources, EKS_POLICY, field, what)

    def trusts_the_cluster(role: str) -> bool:
        trust = (resources[role].get("Properties") or {}).get("AssumeRolePolicyDocument")
        return "sts:AssumeRoleWithWebIdentity" in scalars(trust)

    roles = [r for r in _of_type(resources, ROLE) if trusts_the_cluster(r)]
    if len(roles) != 1:
        found = f"{len(roles)} roles que asume el clúster EKS" + (f" ({', '.join(roles)})" if roles else "")
        raise TemplateError(
            f"La plantilla no tiene {EKS_POLICY} y tiene {found}: indique la política del API en la HU ({field})."
        )
    return _choose(_policies_of_role(resources, roles[0]), what, field)


def kms_key(resources: CommentedMap, hu: HU) -> str:
    """What the new tables' ``KMSMasterKeyId`` refers to: the HU's choice, the runbook's alias, the only
    alias, or the only key."""
    field = "infrastructure.kms_key_resource"
    if hu.infrastructure.kms_key_resource:
        return _named(resources, hu.infrastructure.kms_key_resource, ("AWS::KMS::Alias", "AWS::KMS::Key"), field)
    if isinstance(resources.get(KMS_ALIAS), dict) and resources[KMS_ALIAS].get("Type") == "AWS::KMS::Alias":
        return KMS_ALIAS
    for kind in ("AWS::KMS::Alias", "AWS::KMS::Key"):
        found = _of_type(resources, kind)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise TemplateError(
                f"La plantilla tiene varias llaves KMS ({', '.join(found)}): indique en la HU cuál cifra las tablas "
                f"({field})."
            )
    raise TemplateError(f"La plantilla no tiene una llave KMS para cifrar las tablas: agréguela o indíquela ({field}).")


def existing_table(resources: CommentedMap, t: TableSpec) -> str | None:
    """The template's resource for an HU table: by the runbook's logical ID, or a table whose name is the
    HU's (``!Ref`` of its parameter, or the name written out)."""
    n = t.names
    if isinstance(resources.get(n.table_resource), dict):
        return n.table_resource
    for rid in _of_type(resources, TABLE):
        name = (resources[rid].get("Properties") or {}).get("TableName")
        if name is not None and mentions(name, None, n.table_parameter, n.dynamo_table):
            return rid
    return None


def tables_statement(spot: PolicySpot, tables: list[str]) -> CommentedMap | None:
    """The statement that already grants tables (by the runbook's Sid, or one with DynamoDB actions whose
    resources name a table of the template); None when there is none."""
    statements = spot.document.get("Statement") or []
    for st in statements:
        if isinstance(st, CommentedMap) and st.get("Sid") == TABLES_SID:
            return st
    for st in statements:
        if not isinstance(st, CommentedMap) or st.get("Effect") != "Allow":
            continue
        if any(str(a).startswith("dynamodb:") for a in scalars(st.get("Action"))):
            if any(mentions(st.get("Resource"), t) for t in tables) or any(
                ":table/" in x for x in scalars(st.get("Resource"))
            ):
                return st
    return None


def shape(resource_list: Any) -> tuple[Shape, str]:
    """How a statement writes table ARNs, from its first one; with ``sub-name``, the ARN's prefix
    (``arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}``)."""
    items = resource_list if isinstance(resource_list, list) else [resource_list]
    for item in items:
        if isinstance(item, TaggedScalar):
            value = str(item.value)
            if item.tag.value == "!GetAtt":
                return "getatt", ""
            if ":table/" in value:
                return "sub-name", value.split(":table/")[0]
            if ".Arn}" in value:
                return "sub-arn", ""
        if isinstance(item, dict) and ("Fn::GetAtt" in item or "Fn::Sub" in item):
            return "long", ""
    return "getatt", ""


def table_arns(t: TableSpec, logical_id: str, how: Shape, prefix: str, stream: bool) -> list[Any]:
    """The ARNs of a table (and its indexes, and its streams for the API) in a statement's shape."""
    n = t.names
    suffixes = ["", "/index/*"] + (["/stream/*"] if stream else [])
    if how == "sub-name":
        return [TaggedScalar(value=f"{prefix}:table/${{{n.table_parameter}}}{s}", tag="!Sub") for s in suffixes]
    if how == "long":
        first: Any = CommentedMap([("Fn::GetAtt", CommentedSeq([logical_id, "Arn"]))])
        rest = [CommentedMap([("Fn::Sub", f"${{{logical_id}.Arn}}{s}")]) for s in suffixes[1:]]
        first["Fn::GetAtt"].fa.set_flow_style()
        return [first, *rest]
    head = "!Sub" if how == "sub-arn" else "!GetAtt"
    first_value = f"${{{logical_id}.Arn}}" if how == "sub-arn" else f"{logical_id}.Arn"
    return [TaggedScalar(value=first_value, tag=head)] + [
        TaggedScalar(value=f"${{{logical_id}.Arn}}{s}", tag="!Sub") for s in suffixes[1:]
    ]
