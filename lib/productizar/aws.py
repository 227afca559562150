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


def session(env: Environment) -> boto3.Session:
    if env.aws.endpoint == EMBEDDED:
        return boto3.Session(region_name=env.aws.region, **_EMBEDDED_CREDENTIALS)
    return boto3.Session(profile_name=env.aws.profile, region_name=env.aws.region)


def client(env: Environment, service: str, max_attempts: int | None = None) -> Any:
    """A client for the environment; ``max_attempts=1`` for callers that retry and count themselves."""
    config = _RETRIES if max_attempts is None else Config(retries={"mode": "standard", "max_attempts": max_attempts})
    return session(env).client(service, endpoint_url=endpoint_url(env), config=config)
