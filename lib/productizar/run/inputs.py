"""What a step's run depends on, one digest per input, and the reason it runs again, said in Spanish.

A step that succeeded is skipped unless one of its own inputs changed: its notebook, the source it runs
(``run/code.py``: its module and what that imports, file by file), the HU file, the environment's
settings, the confirmation, the facts of the steps the registry declares upstream of it, the clones it
commits to, and on the embedded default the server it wrote to and where its tables' rows came from. The
record keeps each digest, so the next run can name the input that changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from productizar.run.records import StepRecord, StepStatus

CODE = "code:"  # one input per source file: code:dynamo/sizing.py
UPSTREAM = "upstream:"  # one per upstream step: upstream:conteo


def digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "big"))
        h.update(p)
    return h.hexdigest()[:16]


def fingerprint(inputs: Mapping[str, str]) -> str:
    """One digest of every input, in a fixed order."""
    return digest(*(f"{k}={v}".encode() for k, v in sorted(inputs.items())))


def _changed_code(before: Mapping[str, str], now: Mapping[str, str]) -> str | None:
    files = sorted({k for k in before.keys() | now.keys() if k.startswith(CODE) and before.get(k) != now.get(k)})
    if not files:
        return None
    first = files[0].removeprefix(CODE)
    more = f" y {len(files) - 1} archivo{'s' if len(files) > 2 else ''} más" if len(files) > 1 else ""
    return f"cambió el código de {first}{more}"


#: each input but the code and the upstream facts, and how its change is said
SAID = {
    "notebook": "cambió el cuaderno",
    "hu": "cambió el archivo de la HU",
    "environment": "cambió la configuración del entorno",
    "confirm": "cambió la confirmación",
    "repositories": "cambiaron los repositorios a los que entrega",
    "server": "el servidor embebido es otro (los datos que escribió ya no están)",
    "origins": "cambió el origen de las filas de sus tablas (local seed)",
}


def why_run(before: Mapping[str, str] | None, now: Mapping[str, str]) -> str:
    """Why a step whose last run succeeded runs again: the first of its inputs that changed, in one Spanish
    phrase ("cambió el código de dynamo/sizing.py", "cambiaron los hechos de conteo"); "" when none did."""
    if before is None:
        return "su registro es de una versión anterior, sin el detalle de sus entradas"
    code = _changed_code(before, now)
    if code:
        return code
    for key, said in SAID.items():
        if before.get(key) != now.get(key):
            return said
    upstream = sorted(k for k in before.keys() | now.keys() if k.startswith(UPSTREAM) and before.get(k) != now.get(k))
    if upstream:
        names = ", ".join(k.removeprefix(UPSTREAM) for k in upstream)
        return f"cambiaron los hechos de {names}"
    return ""


def why(prev: StepRecord, now: Mapping[str, str], force: bool = False) -> str:
    """Why a step runs now, in one Spanish phrase; "" when it is up to date (it succeeded with these inputs)."""
    if force:
        return "--force"
    if prev.status is StepStatus.FAILED:  # a run that died mid-step is recorded failed too
        return "la corrida anterior falló o no terminó"
    if not prev.ok:
        return "primera corrida" if prev.started_at is None else "la vez anterior se omitió"
    if prev.fingerprint == fingerprint(now):
        return ""
    return why_run(prev.inputs or None, now) or "cambiaron sus entradas"
