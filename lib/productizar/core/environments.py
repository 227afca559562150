"""Environment settings (``parameters/environments.yaml``) and the write-safety rule.

``local`` is the embedded default; ``dev``, ``qa``, ``prd`` point at real AWS accounts (through profiles)
and real Hive. Nothing here holds a secret: passwords are named by environment variable, AWS credentials
come from the standard chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from productizar.core import paths
from productizar.core.errors import UsageError
from productizar.core.problem import Loc
from productizar.core.problems import load_yaml_model

REQUIRED = ("local", "dev", "qa", "prd")
EMBEDDED = "embedded"
# environments whose writes always need the HU id typed back, whatever the file says: the code holds this
# rule, so a file that marks one of them `open` is an error, not a way around the confirmation (the
# embedded rehearsals of QA and PRD keep the safety of their real counterparts)
ALWAYS_CONFIRM = frozenset({"qa", "prd", "local-qa", "local-prd"})
ACCOUNT_ID = r"^[0-9]{12}$"
# an emulator's access key that names an account (``productizar-local-<account>``): the embedded endpoint
# keeps each account's state apart, as AWS does for each environment's credentials
ACCOUNT_KEY_PREFIX = "productizar-local-"
DemoData = Literal["local", "dev", "qa", "prd"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CapacityModel(_Strict):
    """An endpoint that meters DynamoDB with a model of AWS's rules (the embedded moto): where they come
    from and how much faster its clock runs. Set when the run resolves ``embedded``; absent: AWS itself."""

    source: str
    time_scale: Annotated[float, Field(gt=0)] = 1.0


class AwsSettings(_Strict):
    region: str
    profile: str | None = None
    # "embedded": the moto server of `productizar local up`; a URL: any other endpoint; absent: AWS itself
    endpoint: str | None = None
    # an emulator that takes any credentials: fixed placeholders instead of the standard chain (the run sets
    # it when it resolves "embedded")
    placeholder_credentials: bool = False
    capacity_model: CapacityModel | None = None
    # with the embedded endpoint: the account that keeps this environment's state apart from the others'
    # (on AWS the account is the profile's)
    account_id: Annotated[str | None, Field(pattern=ACCOUNT_ID)] = None


class DuckDBZone(_Strict):
    backend: Literal["duckdb"]
    path: str = EMBEDDED
    # how the evidence names it (default: "DuckDB <file name>")
    label: str | None = None
    # with path embedded: which copy of the demo data (environments' copies differ as real ones do)
    demo_data: DemoData = "local"


class HiveZone(_Strict):
    backend: Literal["hive"]
    host: str
    port: Annotated[int, Field(gt=0, lt=65536)] = 10000
    database: str = "default"
    auth: Literal["NONE", "NOSASL", "LDAP", "KERBEROS"] = "NONE"
    username: str | None = None
    password_env: Annotated[str | None, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")] = None
    kerberos_service_name: str | None = None
    query_timeout_s: Annotated[int, Field(gt=0)] = 600

    @model_validator(mode="after")
    def _auth_needs(self) -> HiveZone:
        if self.auth == "LDAP" and not (self.username and self.password_env):
            raise ValueError("auth LDAP needs username and password_env (the variable that holds the password)")
        if self.auth == "KERBEROS" and not self.kerberos_service_name:
            raise ValueError("auth KERBEROS needs kerberos_service_name (usually hive)")
        return self


Gap = Literal["sse", "pitr", "autoscaling", "glue_job"]


class InfraSettings(_Strict):
    # the OIDC provider of the EKS cluster where the API runs (the API role trusts it: IRSA)
    eks_oidc_provider_arn: str
    stack_timeout_s: Annotated[int, Field(gt=0)] = 1800
    # who deploys the stack: the step itself (direct), or the team's Azure DevOps pipeline from the cloud
    # repository (pipeline: the step prepares the branch and waits for the stack, never creates it)
    deploy: Literal["direct", "pipeline"] = "direct"
    # with pipeline: how long the step waits for the pipeline's stack before it fails
    pipeline_timeout_s: Annotated[int, Field(gt=0)] = 3600


class ApiEndpoint(_Strict):
    # "embedded": the reference API that the tool starts on loopback; otherwise the API's base URL there
    base_url: Annotated[str, Field(pattern=r"^(embedded|https?://[^\s/]+(/[^\s]*)?)$")]
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 10


class Environment(_Strict):
    description: str = ""
    safety: Literal["open", "confirm"]
    aws: AwsSettings
    infrastructure: InfraSettings
    # what this environment's AWS endpoint cannot represent: checks on it are "not_checkable", never "pass"
    known_gaps: list[Gap] = []
    results_zone: Annotated[DuckDBZone | HiveZone, Field(discriminator="backend")]
    coordinator_root: str
    api: ApiEndpoint | None = None
    max_concurrent_queries: Annotated[int, Field(ge=1, le=32)] = 4
    # the environment a run here follows: it needs a green run of the same HU there first
    promotes_from: str | None = None
    # the manual gates (ids of parameters/gates.yaml) a run here needs approved first
    gates: list[str] = []


class EnvironmentsFile(RootModel[dict[str, Environment]]):
    pass


REHEARSAL_PREFIX = "local-"


def counterpart(name: str) -> str:
    """The environment a name stands for in templates and pipelines: ``local-qa`` rehearses ``qa``."""
    rest = name.removeprefix(REHEARSAL_PREFIX)
    return rest if rest != name and rest in REQUIRED else name


def uses_embedded(env: Environment) -> bool:
    """Whether the environment names the embedded default (before the run resolves it)."""
    return (
        env.aws.endpoint == EMBEDDED
        or getattr(env.results_zone, "path", None) == EMBEDDED
        or (env.api is not None and env.api.base_url == EMBEDDED)
    )


def _cross_checks(raw: Any) -> list[tuple[Loc, str]]:
    out: list[tuple[Loc, str]] = [((name,), "required environment is missing") for name in REQUIRED if name not in raw]
    if isinstance(raw, dict):
        for name, env in raw.items():
            before = env.get("promotes_from") if isinstance(env, dict) else None
            if before is not None and before not in raw:
                out.append(((name, "promotes_from"), f"names {before!r}, which is not an environment of this file"))
            else:
                seen, at = {name}, before
                while isinstance(at, str) and at in raw and at not in seen:
                    seen.add(at)
                    nxt = raw[at]
                    at = nxt.get("promotes_from") if isinstance(nxt, dict) else None
                if isinstance(at, str) and at in seen:
                    out.append(((name, "promotes_from"), f"the chain of promotes_from comes back to {at!r}"))
    for name in sorted(ALWAYS_CONFIRM):
        env = raw.get(name) if isinstance(raw, dict) else None
        if isinstance(env, dict) and env.get("safety") == "open":
            out.append(
                (
                    (name, "safety"),
                    "must be confirm: writes to " + name + " always need --confirm <HU id>, whatever this file says",
                )
            )
    return out


def load_environments(path: str | Path | None = None) -> dict[str, Environment]:
    return load_yaml_model(path or paths.environments_file(), EnvironmentsFile, _cross_checks).root


def get_environment(name: str, path: str | Path | None = None) -> Environment:
    envs = load_environments(path)
    if name not in envs:
        raise UsageError(f"unknown environment {name!r}; known: {', '.join(envs)}")
    return envs[name]


@dataclass(frozen=True)
class WriteMode:
    """Whether a step that writes to a shared environment may do so, and why."""

    apply: bool
    reason: str

    @property
    def dry_run(self) -> bool:
        return not self.apply


def write_mode(env: Environment, hu_id: int, confirm: str | int | None, name: str = "") -> WriteMode:
    """In a ``confirm`` environment (and always in qa and prd, by ``name``) writing needs the HU id typed
    back; anything else is a dry run."""
    if env.safety == "open" and name not in ALWAYS_CONFIRM:
        return WriteMode(True, "este entorno permite escribir sin confirmación")
    mode = confirmed_mode(hu_id, confirm)
    if mode.apply or confirm:
        return mode
    return WriteMode(False, f"simulación: este entorno exige --confirm {hu_id} para escribir")


def confirmed_mode(hu_id: int, confirm: str | int | None) -> WriteMode:
    """For a write that stays in a shared record (an inventory reservation): the HU id typed back in every
    environment, the embedded default included, so the evidence of a plain run is always a dry run."""
    if str(confirm or "").strip() == str(hu_id):
        return WriteMode(True, f"confirmado con el id de la HU ({hu_id})")
    if confirm:
        return WriteMode(False, f"simulación: la confirmación «{confirm}» no es el id de la HU ({hu_id})")
    return WriteMode(False, f"simulación: reservar exige --confirm {hu_id}")


def check_confirmation(hu_id: int, confirm: str | int | None, hu_file: object) -> None:
    """A confirmation that is not the HU's id is a typing mistake, not a dry run: refuse before anything runs."""
    typed = str(confirm or "").strip()
    if typed and typed != str(hu_id):
        raise UsageError(
            f"--confirm {typed} is not the id of the HU in {hu_file} ({hu_id}): nothing was run; "
            f"type --confirm {hu_id} to write, or leave it out for a dry run"
        )
