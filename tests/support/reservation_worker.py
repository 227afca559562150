"""A separate process that reserves consecutives, for the concurrency tests (spawned, so it shares nothing)."""

from __future__ import annotations

import time
from typing import Any


def zone_from(spec: tuple[str, Any]):
    from productizar.results_zone.duckdb import DuckDBResultsZone
    from productizar.results_zone.hive import HiveResultsZone

    kind, arg = spec
    if kind == "duckdb":
        return DuckDBResultsZone(arg)
    from productizar.core.environments import HiveZone

    return HiveResultsZone(HiveZone(**arg))


def reserve(
    zone_spec: tuple[str, Any], hu_data: dict, tables: tuple[str, str], start_at: float
) -> list[tuple[str, int, str, int]]:
    """Wait for the common start, reserve every table of the HU, return (source, consecutive, status, attempts)."""
    from productizar.core.hu import HU
    from productizar.results_zone import reservation

    zone = zone_from(zone_spec)
    hu = HU.model_validate(hu_data)
    time.sleep(max(0.0, start_at - time.time()))
    entries = reservation.reserve(
        zone, hu, "/opt/prd", reservation.Tables(*tables), out=lambda s: None, backoff_s=0.05, max_backoff_s=1.0
    )
    return [(e.source, e.consecutive, e.status.value, e.attempts) for e in entries]
