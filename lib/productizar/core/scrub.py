"""Remove secrets from evidence before it is written: the evidence is attached to HUs that many people read.

Two nets: patterns that look like credentials wherever they appear (AWS key ids, secret keys and session
tokens next to their names, passwords inside URLs, Authorization, X-Api-Key and bearer tokens, ``password=``
pairs), and the literal values of this process's secret-looking environment variables, whatever their shape
and however a file encodes them (HTML or XML escaped, URL-encoded, JSON-escaped, base64, split across lines).

A last check (``leaks``, ``check_clean``) reads every text part of a file about to be written (zip members
such as the sheets of an ``.xlsx`` or a ``.docx``, every part of an ``.eml``, decoded) and refuses it when a
known secret is still there.
"""

from __future__ import annotations

import base64
import email
import email.policy
import html
import io
import json
import os
import re
import urllib.parse
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from productizar.core.errors import ProductizarError

REDACTED = "«redactado»"

_SECRET_ENV_NAME = re.compile(
    r"(^|_)(SECRETS?|TOKEN|PASSWORD|PASSWD|PWD|PASS|PASSPHRASE|CREDENTIALS?|PRIVATE_KEY|ACCESS_KEY|API_?KEY|PAT)"
    r"(_|$)",
    re.I,
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
    # API keys in headers or settings: X-Api-Key: ..., api_key=..., apikey: ...
    (
        re.compile(r"(?i)\b((?:x-)?api[_-]?key[\"']?\s*[:=]\s*[\"']?)(?!" + REDACTED + r")[^\s\"'&;,<]+"),
        r"\1" + REDACTED,
    ),
    # a bearer token wherever it is written
    (re.compile(r"(?i)\b(bearer\s+)(?!" + REDACTED + r")[A-Za-z0-9\-._~+/]{8,}=*"), r"\1" + REDACTED),
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


# between two characters of a secret, what a file may put when it wraps a line: a newline (with the next
# line's indentation or quoting), a quoted-printable soft break, or a newline escaped inside JSON
_BREAK = r"(?:=?\r?\n[ \t>]*|\\r?\\n)?"
_BREAKS = re.compile(_BREAK[:-1])  # the same, to remove every one at once


def _base64_cores(value: bytes) -> set[str]:
    """The base64 text that ``value`` produces wherever it starts in a stream (three alignments): the
    characters that depend on ``value``'s bytes alone."""
    out = set()
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + value + b"\0\0").decode()
        start, end = -(-8 * k // 6), (8 * (k + len(value))) // 6
        core = enc[start:end]
        if len(core) >= _MIN_SECRET_LEN:
            out.add(core)
    return out


def encodings(value: str) -> set[str]:
    """The forms a secret takes in the files the evidence holds."""
    forms = {
        value,
        html.escape(value, quote=True),
        html.escape(value, quote=False),
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"),
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=True)[1:-1],
    }
    forms |= _base64_cores(value.encode("utf-8"))
    return {f for f in forms if f}


def _literal_pattern(forms: list[str]) -> re.Pattern[str] | None:
    """One pattern for every form of every secret (longest first), each allowed to be split across lines."""
    if not forms:
        return None
    return re.compile("|".join(_BREAK.join(re.escape(c) for c in form) for form in forms))


class Scrubber:
    """Callable that redacts one string; built once per run with the secrets known then."""

    def __init__(self, literals: Iterable[str] = ()):
        self.literals = [s for s in literals if s]
        self._forms = sorted({f for v in self.literals for f in encodings(v)}, key=len, reverse=True)
        self._literal = _literal_pattern(self._forms)

    def _present(self, text: str) -> list[str]:
        """The forms of known secrets in ``text`` once line breaks are taken out (a fast substring search;
        the slower pattern that spans breaks runs only when one is there)."""
        if not self._forms:
            return []
        joined = _BREAKS.sub("", text) if "\n" in text else text
        return [f for f in self._forms if f in joined]

    def __call__(self, text: str) -> str:
        if self._literal is not None and self._present(text):
            text = self._literal.sub(REDACTED, text)
        for pattern, repl in _PATTERNS:
            text = pattern.sub(repl, text)
        return text

    def leaks(self, text: str) -> list[str]:
        """What of the known secrets (in any of their forms) and AWS key ids ``text`` still holds."""
        found = [f"un valor secreto ({len(f)} caracteres)" for f in self._present(text)]
        found += [f"una clave de acceso de AWS ({m.group()[:4]}…)" for m in _PATTERNS[0][0].finditer(text)]
        return found

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


# ------------------------------------------------------------------------------------- the last check


class SecretInEvidence(ProductizarError):
    """A file about to be written still holds a known secret: it is not written."""


_MAX_DEPTH = 4  # an e-mail attaching a workbook whose sheets are XML: three levels; more is not evidence


def text_parts(data: bytes, name: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    """Every text a file holds, as (where, text): a zip's members (``.xlsx``, ``.docx``, packages) and an
    e-mail's parts decoded (base64 and quoted-printable attachments too), recursively; XML also unescaped."""
    if depth > _MAX_DEPTH:
        return
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for info in zf.infolist():
                    if not info.is_dir():
                        yield from text_parts(zf.read(info), f"{name}!{info.filename}", depth + 1)
            return
        except (zipfile.BadZipFile, OSError, RuntimeError, ValueError):
            pass  # not a readable zip after all: read as bytes below
    if name.lower().endswith(".eml") or (depth and data[:200].lower().find(b"mime-version:") >= 0):
        msg = email.message_from_bytes(data, policy=email.policy.default)
        yield f"{name} (cabeceras)", "\n".join(f"{k}: {v}" for k, v in msg.items())
        for i, part in enumerate(msg.walk()):
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=True) or b""
            label = part.get_filename() or f"parte {i} ({part.get_content_type()})"
            yield from text_parts(bytes(payload), f"{name}!{label}", depth + 1)
        return
    text = data.decode("utf-8", errors="replace")
    yield name, text
    if "&" in text:
        yield f"{name} (sin escapes)", html.unescape(text)


def check_clean(data: bytes, name: str, scrubber: Scrubber) -> None:
    """Refuse (``SecretInEvidence``) a file whose any text part still holds a known secret."""
    for where, text in text_parts(data, name):
        found = scrubber.leaks(text)
        if found:
            raise SecretInEvidence(
                f"No se escribe {name}: {where} contiene {found[0]}. Quite el secreto de su origen "
                "(el archivo de la HU, un adjunto, una variable impresa) y ejecute el paso de nuevo."
            )
