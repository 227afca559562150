"""AWS clients for an environment: the profile's credentials against AWS, or an emulator's placeholders.

Credentials come only from the standard chain (profile, environment variables). An emulator that takes any
credentials (the embedded moto server, whose URL the run resolves from ``embedded`` before a step starts)
gets fixed placeholders: there is nothing secret to protect there.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from productizar.core.environments import ACCOUNT_KEY_PREFIX, EMBEDDED, Environment
from productizar.core.errors import ProductizarError

PLACEHOLDER_CREDENTIALS = {"aws_access_key_id": "productizar-local", "aws_secret_access_key": "productizar-local"}
_RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 10})


def endpoint_url(env: Environment) -> str | None:
    """The URL clients talk to; None means AWS's own endpoints."""
    if env.aws.endpoint == EMBEDDED:
        raise ProductizarError(
            "El entorno no está resuelto: abra el paso con productizar.run.start (o ejecútelo con "
            "productizar run), que levanta el predeterminado embebido y resuelve su dirección."
        )
    return env.aws.endpoint


def process_environment(env: Environment) -> dict[str, str]:
    """AWS settings for a child process (the local API, spark-submit) as environment variables: an emulator's
    URL and placeholder credentials; elsewhere the region and the profile (the credentials stay in the
    standard chain, never in a variable set here)."""
    out = {"AWS_DEFAULT_REGION": env.aws.region}
    url = endpoint_url(env)
    if url:
        out["AWS_ENDPOINT_URL"] = url
    if env.aws.placeholder_credentials:
        keys = placeholder_credentials(env)
        out |= {
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": keys["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": keys["aws_secret_access_key"],
        }
    elif env.aws.profile:
        out["AWS_PROFILE"] = env.aws.profile
    return out


def placeholder_credentials(env: Environment) -> dict[str, str]:
    """An emulator's fixed credentials; with ``aws.account_id`` the key names that account."""
    if not env.aws.account_id:
        return PLACEHOLDER_CREDENTIALS
    return PLACEHOLDER_CREDENTIALS | {"aws_access_key_id": ACCOUNT_KEY_PREFIX + env.aws.account_id}


def session(env: Environment) -> boto3.Session:
    if env.aws.placeholder_credentials:
        return boto3.Session(region_name=env.aws.region, **placeholder_credentials(env))
    return boto3.Session(profile_name=env.aws.profile, region_name=env.aws.region)


def client(env: Environment, service: str, max_attempts: int | None = None) -> Any:
    """A client for the environment; ``max_attempts=1`` for callers that retry and count themselves."""
    config = (
        _RETRIES if max_attempts is None else Config(retries={"mode": "standard", "total_max_attempts": max_attempts})
    )
    return session(env).client(service, endpoint_url=endpoint_url(env), config=config)


def clients(env: Environment) -> Any:
    """One client per service, made on first use: creating a boto3 client is not cheap."""
    made: dict[str, Any] = {}

    def get(service: str) -> Any:
        if service not in made:
            made[service] = client(env, service)
        return made[service]

    return get


def error_text(exc: Exception) -> str:
    """The service's own message; moto sometimes answers a JSON error body that botocore cannot parse."""
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Message") or str(exc)
    text = str(exc)
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            return json.loads(text[start : end + 1]).get("message") or text.splitlines()[0]
        except ValueError:
            pass
    return text.splitlines()[0]
