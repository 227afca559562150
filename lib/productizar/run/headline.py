"""A step's headline: one Spanish line for the board, the figures compared run to run, and whether it wrote.

Each step's facts carry one (``facts["headline"]``); the runner copies it into the step's record, so
``summary.json``, each HU's ``index.html`` and the board (``productizar status``) read the same words, and
"what changed since the previous run" compares the same figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from productizar.core.checks import CheckStatus
from productizar.core.environments import WriteMode

Figure = int | float | str


def n(value: float) -> str:
    """A figure as Spanish text writes it: 299.988, 4,32."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"{int(value):,}".replace(",", ".")


@dataclass(frozen=True)
class Headline:
    text: str
    # what "changed since the previous run" compares: label -> value (counts, checks, capacities)
    figures: dict[str, Figure] = field(default_factory=dict)
    # a writing step that did not write: the board says "simulación" with the reason
    dry_run: bool = False
    reason: str | None = None

    def as_fact(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_fact(cls, data: Any) -> Headline | None:
        if not isinstance(data, Mapping) or not isinstance(data.get("text"), str):
            return None
        raw = data.get("figures")
        figures: dict[str, Figure] = dict(raw) if isinstance(raw, Mapping) else {}
        return cls(data["text"], figures, bool(data.get("dry_run")), data.get("reason"))


def written(text: str, mode: WriteMode, figures: Mapping[str, Figure] | None = None) -> Headline:
    """The headline of a writing step: "simulación: ..." first when it ran dry."""
    if mode.dry_run:
        return Headline(f"simulación: {text}", dict(figures or {}), True, mode.reason)
    return Headline(text, dict(figures or {}))


def checks(statuses: Iterable[str | CheckStatus]) -> tuple[str, dict[str, Figure]]:
    """ "12 pasan · 3 no verificables aquí · 0 fallan", and the same three figures."""
    c = Counter(CheckStatus(s) for s in statuses)
    figures: dict[str, Figure] = {
        "comprobaciones que pasan": c[CheckStatus.PASS],
        "comprobaciones no verificables aquí": c[CheckStatus.NOT_CHECKABLE],
        "comprobaciones que fallan": c[CheckStatus.FAIL],
    }
    text = (
        f"{c[CheckStatus.PASS]} pasan · {c[CheckStatus.NOT_CHECKABLE]} no verificables aquí · "
        f"{c[CheckStatus.FAIL]} fallan"
    )
    return text, figures


def short(source: str) -> str:
    """A results-zone table as the board names it: ``resultados_riesgos.alter_x`` -> ``alter_x``."""
    return source.rsplit(".", 1)[-1]


def change_text(c: Mapping[str, Any]) -> str:
    """A change between two runs as the evidence says it: "carga · ítems cargados · x: 99.991 → 105.988"."""

    def show(v: Any) -> str:
        if v is None:
            return "—"
        return n(v) if isinstance(v, int | float) and not isinstance(v, bool) else str(v)

    return f"{c['step']} · {c['figure']}: {show(c['before'])} → {show(c['after'])}"
