"""A separate process that reserves consecutives, for the concurrency tests (spawned, so it shares nothing)."""

from __future__ import annotations

import time
from typing import Any

#: how long a worker holds the number it read before claiming it: the race every analyst has (read the last
#: consecutive, then insert), widened so that processes on a busy two-core machine still meet in it
RACE_WINDOW_S = 0.2


def zone_from(spec: tuple[str, Any]):
    from productizar.results_zone.duckdb import DuckDBResultsZone
    from productizar.results_zone.hive import HiveResultsZone

    kind, arg = spec
    if kind == "duckdb":
        base: type = DuckDBResultsZone
        args: tuple = (arg,)
    else:
        from productizar.core.environments import HiveZone

        base, args = HiveResultsZone, (HiveZone(**arg),)

    class Racing(base):  # type: ignore[misc,valid-type]
        def query(self, sql: str):
            result = super().query(sql)
            if "max(consecutivo)" in sql:  # the last claimed number was just read: a rival may read it too
                time.sleep(RACE_WINDOW_S)
            return result

    return Racing(*args)


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
