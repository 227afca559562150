"""The results zone ("zona de resultados"): one interface and one module per engine, as sqlglot keeps one
module per dialect (DuckDB for the embedded default, HiveServer2 elsewhere), the Hive SQL every query is
written in, table profiles, and the coordinators' inventory with its reservations."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from productizar.core.environments import EMBEDDED, DuckDBZone, HiveZone
from productizar.core.errors import ProductizarError

if TYPE_CHECKING:
    from productizar.results_zone.base import ResultsZone


def open_zone(settings: DuckDBZone | HiveZone) -> ResultsZone:
    """The results zone an environment names, ready to query (the engine's module is loaded only here)."""
    if isinstance(settings, DuckDBZone):
        from productizar.results_zone.duckdb import DuckDBResultsZone

        if settings.path == EMBEDDED:
            raise ProductizarError(
                "La zona de resultados «embedded» no está resuelta: abra el paso con "
                "productizar.run.start o ejecútelo con productizar run."
            )
        path = Path(settings.path)
        return DuckDBResultsZone(path, settings.label or f"DuckDB {path.name}")
    from productizar.results_zone.hive import HiveResultsZone

    return HiveResultsZone(settings)
