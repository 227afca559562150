"""Remove secrets from evidence before it is written: the evidence is attached to HUs that many people read.

Two nets: patterns that look like credentials wherever they appear (AWS key ids, secret keys and session
tokens next to their names, passwords inside URLs, Authorization headers, ``password=`` pairs), and the
literal values of this process's secret-looking environment variables, whatever their shape.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "«redactado»"

_SECRET_ENV_NAME = re.compile(
    r"(^|_)(SECRET|TOKEN|PASSWORD|PASSWD|PWD|PASS|CREDENTIALS?|PRIVATE_KEY|ACCESS_KEY|API_KEY)(_|$)", re.I
)
_NOT_SECRET = {"PWD", "OLDPWD"}  # the shell's working directories
_MIN_SECRET_LEN = 6

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # AWS access key ids (long-term AKIA, temporary ASIA, and the other documented prefixes)
    (re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])"), REDACTED),
    # secret keys and session tokens next to their names, in env, ini, JSON or Python form
    (
        re.compile(
            r"(?i)((?:aws_?)?(?:secret_?access_?key|session_?token|security_?token)[\"']?\s*[:=]\s*[\"']?)"
            r"[A-Za-z0-9/+=]{16,}"
        ),
        r"\1" + REDACTED,
    ),
    # user:password@ inside any URL
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@\"']+):[^@\s/\"']+@"), r"\1:" + REDACTED + "@"),
    # Authorization headers (Basic, Bearer, AWS4 signatures...) to the end of the value
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n]+"), r"\1" + REDACTED),
    # password=..., pwd: ... pairs
    (
        re.compile(r"(?i)\b((?:password|passwd|pwd)[\"']?\s*[:=]\s*[\"']?)(?!" + REDACTED + r")[^\s\"'&;,]+"),
        r"\1" + REDACTED,
    ),
]


def secret_values(environ: Mapping[str, str] | None = None, extra_names: Iterable[str] = ()) -> list[str]:
    """Values of environment variables whose names say they are secret (plus ``extra_names``), longest first."""
    environ = os.environ if environ is None else environ
    names = set(extra_names)
    values = {
        v
        for k, v in environ.items()
        if ((_SECRET_ENV_NAME.search(k) and k not in _NOT_SECRET) or k in names) and len(v) >= _MIN_SECRET_LEN
    }
    return sorted(values, key=len, reverse=True)


class Scrubber:
    """Callable that redacts one string; built once per run with the secrets known then."""

    def __init__(self, literals: Iterable[str] = ()):
        self.literals = [s for s in literals if s]

    def __call__(self, text: str) -> str:
        for value in self.literals:
            if value in text:
                text = text.replace(value, REDACTED)
        for pattern, repl in _PATTERNS:
            text = pattern.sub(repl, text)
        return text

    def deep(self, obj: Any) -> Any:
        """The same structure (dicts, lists, notebook nodes) with every string scrubbed, in place for dicts."""
        if isinstance(obj, str):
            return self(obj)
        if isinstance(obj, list):
            for i, item in enumerate(obj):
                obj[i] = self.deep(item)
            return obj
        if isinstance(obj, dict):
            for key in list(obj):
                obj[key] = self.deep(obj[key])
            return obj
        return obj


def default_scrubber(extra_names: Iterable[str] = ()) -> Scrubber:
    return Scrubber(secret_values(extra_names=extra_names))
