"""AWS clients for an environment: the profile's credentials against AWS, or the embedded moto server.

Credentials come only from the standard chain (profile, environment variables); the embedded endpoint
takes fixed placeholder credentials because moto accepts any and there is nothing secret to protect.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from . import localenv
from .environments import EMBEDDED, Environment

_EMBEDDED_CREDENTIALS = {"aws_access_key_id": "productizar-local", "aws_secret_access_key": "productizar-local"}
_RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 10})


def endpoint_url(env: Environment) -> str | None:
    """The URL clients talk to; None means AWS's own endpoints."""
    if env.aws.endpoint == EMBEDDED:
        return localenv.moto_endpoint()
    return env.aws.endpoint


def process_environment(env: Environment) -> dict[str, str]:
    """AWS settings for a child process (the local API, spark-submit) as environment variables: on the
    embedded endpoint its URL and placeholder credentials; elsewhere the region and the profile (the
    credentials stay in the standard chain, never in a variable set here)."""
    out = {"AWS_DEFAULT_REGION": env.aws.region}
    if env.aws.endpoint == EMBEDDED:
        out |= {"AWS_ENDPOINT_URL": localenv.moto_endpoint(), "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_ACCESS_KEY_ID": _EMBEDDED_CREDENTIALS["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": _EMBEDDED_CREDENTIALS["aws_secret_access_key"]}
    else:
        if env.aws.endpoint:
            out["AWS_ENDPOINT_URL"] = env.aws.endpoint
        if env.aws.profile:
            out["AWS_PROFILE"] = env.aws.profile
    return out


def session(env: Environment) -> boto3.Session:
    if env.aws.endpoint == EMBEDDED:
        return boto3.Session(region_name=env.aws.region, **_EMBEDDED_CREDENTIALS)
    return boto3.Session(profile_name=env.aws.profile, region_name=env.aws.region)


def client(env: Environment, service: str, max_attempts: int | None = None) -> Any:
    """A client for the environment; ``max_attempts=1`` for callers that retry and count themselves."""
    config = _RETRIES if max_attempts is None else Config(retries={"mode": "standard", "max_attempts": max_attempts})
    return session(env).client(service, endpoint_url=endpoint_url(env), config=config)
