"""A check's record and its closed set of statuses, shared by the infrastructure checks, the verification,
the evidence and the board.

``key`` is the machine name code and tools compare (``exists``, ``item_count``...); ``check`` is the
Spanish label the analyst reads. No control flow ever matches the label.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from productizar.core.errors import StepFailed


class CheckStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    #: only for what the environment declares it cannot represent (its ``known_gaps``)
    NOT_CHECKABLE = "not_checkable"


@dataclass(frozen=True)
class Check:
    table: str
    check: str
    status: CheckStatus
    expected: str
    found: str
    key: str

    def as_fact(self) -> dict[str, str]:
        return {
            "table": self.table,
            "check": self.check,
            "status": self.status.value,
            "expected": self.expected,
            "found": self.found,
            "key": self.key,
        }

    @property
    def failed(self) -> bool:
        return self.status is CheckStatus.FAIL


LABELS = {CheckStatus.PASS: "✔ pasa", CheckStatus.FAIL: "✘ falla", CheckStatus.NOT_CHECKABLE: "— no verificable aquí"}


def table(checks: list[Check]) -> pd.DataFrame:
    """The checks as the analyst reads them."""
    return pd.DataFrame(
        [
            {
                "Tabla o recurso": c.table,
                "Verificación": c.check,
                "Resultado": LABELS[c.status],
                "Esperado": c.expected,
                "Encontrado": c.found,
            }
            for c in checks
        ]
    )


def verdict(checks: list[Check], none: str) -> str:
    """A sentence when every check passes or is not checkable here; ``StepFailed`` naming each failure.
    ``none``: what to say when there was nothing to check."""
    failed = [c for c in checks if c.failed]
    if failed:
        raise StepFailed(
            "Verificaciones que fallan: "
            + "; ".join(f"{c.table}: {c.check} (se esperaba {c.expected}; hay {c.found})" for c in failed)
        )
    if not checks:
        return none
    gaps = sum(c.status is CheckStatus.NOT_CHECKABLE for c in checks)
    return (
        f"{len(checks) - gaps} verificaciones pasan; {gaps} no son verificables en este entorno "
        "(se verifican en dev, qa y prd)."
        if gaps
        else f"Las {len(checks)} verificaciones pasan."
    )
