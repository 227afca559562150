"""DynamoDB's capacity arithmetic, as AWS documents it, in one place.

Item size, the units a write or a read consumes, and the throughput rules (burst, the per-partition ceiling,
quotas, on-demand limits, target tracking's delays) that the sizing step plans with, the loader respects and
the embedded endpoint enforces. The numbers come from ``parameters/sizing.yaml`` (its ``capacity_model``
section); nothing here talks to AWS.
"""

from __future__ import annotations

import base64
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from productizar.core import paths
from productizar.core.errors import ProductizarError

KB = 1024
WRITE_UNIT_BYTES = KB  # one write unit: one write a second of an item up to 1 KB
READ_UNIT_BYTES = 4 * KB  # one read unit: one strongly consistent read a second of up to 4 KB

# the two dimensions of a table's throughput, and how DynamoDB and Application Auto Scaling name them
WRITE, READ = "write", "read"
CAPACITY_UNITS = {WRITE: "WriteCapacityUnits", READ: "ReadCapacityUnits"}  # ProvisionedThroughput
WARM_UNITS = {WRITE: "WriteUnitsPerSecond", READ: "ReadUnitsPerSecond"}  # WarmThroughput
SCALABLE_DIMENSION = {d: f"dynamodb:table:{u}" for d, u in CAPACITY_UNITS.items()}


def number_size(text: str) -> int:
    """Bytes of a number: 1 per two significant digits, plus 1 (plus 1 more when negative)."""
    digits = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0")
    return math.ceil(max(len(digits), 1) / 2) + 1 + (1 if text.startswith("-") else 0)


def _binary_size(value: Any) -> int:
    if isinstance(value, str):  # on the wire a binary is base64 text
        return len(base64.b64decode(value))
    return len(value)


def value_size(attr: dict[str, Any]) -> int:
    """Bytes of one attribute value in DynamoDB's typed form (``{"S": ...}``, ``{"M": {...}}``, ...)."""
    ((kind, value),) = attr.items()
    if kind == "S":
        return len(value.encode("utf-8"))
    if kind == "N":
        return number_size(value)
    if kind == "B":
        return _binary_size(value)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode("utf-8")) for v in value)
    if kind == "NS":
        return sum(number_size(v) for v in value)
    if kind == "BS":
        return sum(_binary_size(v) for v in value)
    if kind == "M":  # 3 bytes of overhead, plus each name and value
        return 3 + item_size(value)
    if kind == "L":  # 3 bytes of overhead, plus 1 per element
        return 3 + sum(1 + value_size(v) for v in value)
    raise ValueError(f"unsupported attribute type {kind}")


def item_size(item: dict[str, dict[str, Any]]) -> int:
    """Bytes DynamoDB counts for an item: every attribute name plus its value (UTF-8 strings)."""
    return sum(len(name.encode("utf-8")) + value_size(attr) for name, attr in item.items())


def write_units(size: int) -> int:
    """Write units of one item write: 1 per KB, rounded up, at least 1."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, consistent: bool) -> float:
    """Read units of reading ``size`` bytes in one request (a Query or Scan page sums its items first):
    1 per 4 KB rounded up, at least 1; an eventually consistent read costs half."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return units if consistent else units / 2


class CapacityRulesError(ProductizarError):
    pass


@dataclass(frozen=True)
class CapacityRules:
    """How DynamoDB meters throughput (AWS's documentation, ``docs/backends.md`` and the sizing file say
    where each figure comes from). ``time_scale`` divides the durations AWS waits (burst retention, metric periods,
    scaling delays) so that minutes of behaviour take seconds; it never changes a rate."""

    burst_s: float = 300.0
    partition_write_limit_wcu: float = 1000.0
    partition_read_limit_rcu: float = 3000.0
    table_write_quota_wcu: float = 40000.0
    table_read_quota_rcu: float = 40000.0
    on_demand_new_table_wcu: float = 4000.0
    on_demand_new_table_rcu: float = 12000.0
    on_demand_peak_window_s: float = 1800.0
    metric_period_s: float = 60.0
    scale_up_delay_s: float = 120.0
    scale_down_delay_s: float = 900.0
    scale_down_margin: float = 0.2
    time_scale: float = 1.0
    source: str = "parameters/sizing.yaml"

    def real_s(self, aws_seconds: float) -> float:
        """Seconds on this clock of a duration AWS documents (``time_scale`` times faster)."""
        return aws_seconds / self.time_scale

    def as_fact(self) -> dict[str, Any]:
        return asdict(self)


# the keys of the sizing file's top level that the rules share with the sizing step
_SHARED = ("partition_write_limit_wcu", "table_write_quota_wcu", "scale_up_delay_s")


def load_rules(path: Path | None = None, time_scale: float | None = None) -> CapacityRules:
    """The rules of ``parameters/sizing.yaml`` (its ``capacity_model`` and the figures it shares with the
    sizing step), with ``time_scale`` overriding the file's."""
    path = path or paths.project_root() / "parameters" / "sizing.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    section = dict(data.get("capacity_model") or {})
    known = {f.name for f in fields(CapacityRules)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise CapacityRulesError(f"{path}: capacity_model: claves desconocidas: {', '.join(unknown)}")
    values: dict[str, Any] = {k: data[k] for k in _SHARED if k in data} | section
    if time_scale is not None:
        values["time_scale"] = time_scale
    if float(values.get("time_scale", 1.0)) <= 0:
        raise CapacityRulesError(f"{path}: capacity_model.time_scale debe ser mayor que 0")
    try:
        values["source"] = paths.shown(path)
        typed: dict[str, Any] = {k: (v if k == "source" else float(v)) for k, v in values.items()}
        return CapacityRules(**typed)
    except (TypeError, ValueError) as exc:
        raise CapacityRulesError(f"{path}: capacity_model: {exc}") from None
