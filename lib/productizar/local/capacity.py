"""A model of how DynamoDB meters one table's throughput, for the embedded endpoint (moto never throttles).

Per table and dimension (write, read): a token bucket refilled at the provisioned capacity that keeps up to
``burst_s`` of unused capacity; a ceiling per partition key (adaptive capacity isolates a hot key, never
beyond the per-partition limit); on-demand tables up to their warm throughput or double their recent peak,
within the table quota; and target tracking from the table's scalable targets and policies, read from
CloudWatch-like datapoints: up after ``scale_up_delay_s`` above the target, to consumed / target; down after
``scale_down_delay_s`` well below it. A minute's consumption is weighed against the capacity the table had in
that minute (its time average), not the capacity at the moment the minute is read: a load warmed to 8,000
WCU and given back to 1 WCU as it ends used a fraction of what it had. Pure: the caller gives the time and
the table's settings.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from productizar.core.capacity import READ, WRITE, CapacityRules

MAX_PERIODS_AT_ONCE = 64  # datapoints evaluated one by one after a quiet spell; beyond, one idle jump


@dataclass
class Bucket:
    """Tokens refilled at ``rate`` a second up to ``cap``; reads may overdraw (their size is known after)."""

    rate: float
    cap: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.cap, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = max(self.stamp, now)

    def reshape(self, rate: float, cap: float, now: float) -> None:
        self.refill(now)
        self.rate, self.cap = rate, cap
        self.tokens = min(self.tokens, cap)


@dataclass(frozen=True)
class Scaling:
    """A scalable target and its target-tracking policy, as Application Auto Scaling holds them."""

    minimum: float
    maximum: float
    target: float | None  # utilization, 0-1; None: a target without a policy (capacity held in [min, max])


@dataclass(frozen=True)
class Settings:
    """What the table says of itself now (DescribeTable and Application Auto Scaling)."""

    on_demand: bool
    provisioned: dict[str, float]  # dimension -> capacity units (provisioned tables)
    warm: dict[str, float]  # dimension -> WarmThroughput units a second (on-demand tables)
    scaling: dict[str, Scaling]


@dataclass
class Dimension:
    """One dimension of one table: its bucket, hot keys, datapoints and the alarms' state."""

    bucket: Bucket
    keys: dict[object, Bucket] = field(default_factory=dict)
    period_start: float = 0.0
    consumed: float = 0.0  # in the current period
    points: deque[float] = field(default_factory=lambda: deque(maxlen=4096))  # units a second, per period
    above: int = 0
    below: int = 0
    consumed_total: float = 0.0
    throttled_requests: int = 0
    held: float = 0.0  # the provisioned capacity since ``held_since`` (the last settle)
    held_since: float = 0.0
    capacity_s: float = 0.0  # capacity-seconds held in the current period up to ``held_since``


class TableMeter:
    """The throughput of one table over time; ``settle`` first, then ``admit_write``/``admit_read``/``charge``."""

    def __init__(self, rules: CapacityRules, now: float):
        self.rules = rules
        self.dims = {d: Dimension(Bucket(0.0, 0.0, 0.0, now), period_start=now, held_since=now) for d in (WRITE, READ)}
        self.capacity = {WRITE: 0.0, READ: 0.0}
        self.settings: Settings | None = None

    # -------------------------------------------------------------------------------------- settings

    def _limit(self, dim: str, s: Settings) -> float:
        r = self.rules
        quota = r.table_write_quota_wcu if dim == WRITE else r.table_read_quota_rcu
        if not s.on_demand:
            return min(quota, s.provisioned.get(dim, 0.0))
        new = r.on_demand_new_table_wcu if dim == WRITE else r.on_demand_new_table_rcu
        window = max(1, math.ceil(r.on_demand_peak_window_s / r.metric_period_s))
        peak = max(list(self.dims[dim].points)[-window:], default=0.0)
        return min(quota, max(new, s.warm.get(dim, 0.0), 2 * peak))

    def settle(self, s: Settings, now: float) -> dict[str, float]:
        """Bring the meter to ``now`` with the table's settings; returns the provisioned capacities that
        target tracking (or a scalable target's bounds) sets now, for the caller to apply to the table."""
        changes: dict[str, float] = {}
        for dim in (WRITE, READ):
            self._close_periods(dim, s, now, changes)
            scaling = s.scaling.get(dim)
            if not s.on_demand and scaling:  # a target's bounds apply at once
                current = changes.get(dim, s.provisioned.get(dim, 0.0))
                bounded = min(max(current, scaling.minimum), scaling.maximum)
                if bounded != current:
                    changes[dim] = bounded
        effective = Settings(s.on_demand, s.provisioned | changes, s.warm, s.scaling)
        self.settings = effective
        for dim in (WRITE, READ):
            self.dims[dim].held = effective.provisioned.get(dim, 0.0)
        for dim in (WRITE, READ):
            limit = self._limit(dim, effective)
            burst = 1.0 if effective.on_demand else max(1.0, self.rules.real_s(self.rules.burst_s))
            bucket = self.dims[dim].bucket
            if limit != self.capacity[dim] or bucket.cap != limit * burst:
                first = self.capacity[dim] == 0.0 and bucket.tokens == 0.0
                bucket.reshape(limit, limit * burst, now)
                if first:  # a table serves its first second's capacity at once
                    bucket.tokens = limit
                self.capacity[dim] = limit
            bucket.refill(now)
        return changes

    def _close_periods(self, dim: str, s: Settings, now: float, changes: dict[str, float]) -> None:
        """One datapoint per elapsed metric period (the first holds what was consumed, later ones are idle),
        each read by target tracking's alarms as CloudWatch would, against the period's average capacity."""
        d, r = self.dims[dim], self.rules
        period = r.real_s(r.metric_period_s)
        elapsed = math.floor((now - d.period_start) / period)
        for i in range(min(elapsed, MAX_PERIODS_AT_ONCE)):
            end = d.period_start + period
            average = (d.capacity_s + d.held * (end - d.held_since)) / period
            self._datapoint(dim, d.consumed / period if i == 0 else 0.0, average, s, changes)
            d.held = changes.get(dim, d.held)
            d.consumed, d.capacity_s, d.period_start, d.held_since = 0.0, 0.0, end, end
        if elapsed > MAX_PERIODS_AT_ONCE:  # a long idle gap: the same as that many idle datapoints
            idle = elapsed - MAX_PERIODS_AT_ONCE
            d.period_start += idle * period
            d.held_since = d.period_start
            d.below += idle
            self._datapoint(dim, 0.0, d.held, s, changes)
            d.held = changes.get(dim, d.held)
        d.capacity_s += d.held * (now - d.held_since)
        d.held_since = now

    def _datapoint(self, dim: str, rate: float, average: float, s: Settings, changes: dict[str, float]) -> None:
        d, r = self.dims[dim], self.rules
        d.points.append(rate)
        scaling = s.scaling.get(dim)
        if s.on_demand or not scaling or scaling.target is None:
            return
        capacity = changes.get(dim, s.provisioned.get(dim, 0.0))
        utilization = rate / average if average else 0.0
        d.above = d.above + 1 if utilization > scaling.target else 0
        d.below = d.below + 1 if utilization < scaling.target * (1 - r.scale_down_margin) else 0
        wanted = min(scaling.maximum, max(scaling.minimum, math.ceil(rate / scaling.target)))
        if d.above >= max(1, math.ceil(r.scale_up_delay_s / r.metric_period_s)) and wanted > capacity:
            changes[dim], d.above = wanted, 0
        elif d.below >= max(1, math.ceil(r.scale_down_delay_s / r.metric_period_s)) and wanted < capacity:
            changes[dim], d.below = wanted, 0

    # ------------------------------------------------------------------------------------ admission

    def _key_bucket(self, dim: str, key: object, now: float) -> Bucket:
        d = self.dims[dim]
        limit = self.rules.partition_write_limit_wcu if dim == WRITE else self.rules.partition_read_limit_rcu
        bucket = d.keys.get(key)
        if bucket is None:
            if len(d.keys) > 50_000:  # forget keys whose buckets are full again: they hold no state
                for k in [k for k, b in d.keys.items() if b.tokens + (now - b.stamp) * b.rate >= b.cap]:
                    del d.keys[k]
            bucket = d.keys[key] = Bucket(limit, limit, limit, now)
        bucket.refill(now)
        return bucket

    def admit_write(self, units: float, key: object, now: float) -> bool:
        """Take ``units`` for one item write under partition key ``key``; False: throttled (nothing taken)."""
        d = self.dims[WRITE]
        need = min(units, d.bucket.cap) if d.bucket.cap else units
        key_bucket = self._key_bucket(WRITE, key, now)
        if d.bucket.tokens < need or key_bucket.tokens < min(units, key_bucket.cap):
            return False
        d.bucket.tokens -= units
        key_bucket.tokens -= units
        self._consume(WRITE, units)
        return True

    def admit_read(self, key: object | None, now: float) -> bool:
        """Whether a read may start now (its units are charged after, when its size is known)."""
        if self.dims[READ].bucket.tokens <= 0:
            return False
        return key is None or self._key_bucket(READ, key, now).tokens > 0

    def charge_read(self, units: float, key: object | None, now: float) -> None:
        self.dims[READ].bucket.tokens -= units
        if key is not None:
            self._key_bucket(READ, key, now).tokens -= units
        self._consume(READ, units)

    def throttled(self, dim: str) -> None:
        self.dims[dim].throttled_requests += 1

    def _consume(self, dim: str, units: float) -> None:
        self.dims[dim].consumed += units
        self.dims[dim].consumed_total += units
