"""Step 1: counts against the demo data, computed here independently with pandas."""

import threading
from pathlib import Path

import pandas as pd
import pytest

from productizar.core.errors import TablesMissing
from productizar.core.hu import TableSpec, load_hu
from productizar.local import demo_data
from productizar.local import embedded as localenv
from productizar.results_zone import profile
from productizar.results_zone.duckdb import DuckDBResultsZone
from productizar.run.step import start
from productizar.steps import conteo

ROOT = Path(__file__).resolve().parents[2]
HU_PATH = ROOT / "parameters" / "hu" / "demo.yaml"
HU = load_hu(HU_PATH)


def expected_counts(table: TableSpec) -> dict:
    """What conteo must find, from the generated frame and plain pandas."""
    frame = next(t.frame for t in demo_data.demo_tables() if t.source == table.source)
    keys = list(table.key_names)
    bad = pd.Series(False, index=frame.index)
    for k in keys:
        bad |= frame[k].isna() | (frame[k].astype(str).str.strip() == "")
    good = frame[~bad]
    sizes = good.groupby(keys).size()
    per_pk = frame[~(frame[keys[0]].isna() | (frame[keys[0]].astype(str).str.strip() == ""))].groupby(keys[0]).size()
    out = {
        "max_rows_per_partition_key": int(per_pk.max()),
        "rows": len(frame),
        "null_key_rows": int(bad.sum()),
        "duplicate_keys": int((sizes > 1).sum()),
        "duplicate_rows": int((sizes[sizes > 1] - 1).sum()),
    }
    if table.sort_key:
        s = frame[table.sort_key.name].dropna()
        out["sort_min"], out["sort_max"] = s.min(), s.max()
    return out


@pytest.fixture(scope="module")
def zone(embedded):
    return DuckDBResultsZone(localenv.duckdb_path())


def test_counts_match_the_demo_data(zone):
    counts = profile.count_tables(zone, HU.tables, max_workers=3)
    assert [c.source for c in counts] == [t.source for t in HU.tables]
    for table, c in zip(HU.tables, counts):
        exp_ = expected_counts(table)
        assert c.rows == exp_["rows"]
        assert c.null_key_rows == exp_["null_key_rows"]
        assert c.duplicate_keys == exp_["duplicate_keys"]
        assert c.duplicate_rows == exp_["duplicate_rows"]
        assert c.max_rows_per_partition_key == exp_["max_rows_per_partition_key"]
        assert c.expected_items == exp_["rows"] - exp_["null_key_rows"] - exp_["duplicate_rows"]
        if table.sort_key:
            assert (c.sort_min, c.sort_max) == (exp_["sort_min"], exp_["sort_max"])
    # the planted defects are found: score table 3 null + 2 empty keys, 4 repeated keys
    assert (counts[0].null_key_rows, counts[0].duplicate_keys) == (5, 4)
    assert (counts[1].null_key_rows, counts[1].duplicate_keys) == (0, 0)


def test_every_missing_table_is_named_before_counting(zone):
    tables = [
        HU.tables[0],
        TableSpec(source="resultados_riesgos.no_existe", partition_key={"name": "id", "type": "S"}),
        TableSpec(source="otra_zona.tampoco", partition_key={"name": "id", "type": "N"}),
    ]
    with pytest.raises(TablesMissing) as info:
        profile.count_tables(zone, tables)
    assert info.value.missing == ["resultados_riesgos.no_existe", "otra_zona.tampoco"]
    assert "resultados_riesgos.no_existe" in str(info.value)


class SlowZone(DuckDBResultsZone):
    """Records how many queries run at once. Each counting query (the pool's; the checks before it run in the
    caller's thread) waits on an event, not a clock, until ``bound`` are running, so a busy machine cannot make
    the count look serial; then it stays a moment more, so a count that lets more through is caught at it."""

    def __init__(self, path, bound: int):
        super().__init__(path)
        self.bound = bound
        self.changed = threading.Condition()
        self.active = self.peak = 0

    def query(self, hive_sql):
        if threading.current_thread() is threading.main_thread():
            return super().query(hive_sql)
        with self.changed:
            self.active += 1
            self.peak = max(self.peak, self.active)
            self.changed.notify_all()
            assert self.changed.wait_for(lambda: self.peak >= self.bound, timeout=60), "the bound was never reached"
            self.changed.wait_for(lambda: self.active > self.bound, timeout=0.3)
        try:
            return super().query(hive_sql)
        finally:
            with self.changed:
                self.active -= 1
                self.changed.notify_all()


@pytest.mark.parametrize("bound", [1, 2])
def test_tables_are_counted_concurrently_within_the_bound(bound, embedded):
    zone = SlowZone(localenv.duckdb_path(), bound)
    profile.count_tables(zone, HU.tables, max_workers=bound)
    assert zone.peak == bound


@pytest.mark.usefixtures("embedded")
def test_observations_say_what_the_load_will_lose(zone):
    counts = profile.count_tables(zone, HU.tables)
    text = conteo.observations(counts).splitlines()
    assert text[0].startswith("resultados_riesgos.alter_ctra_score_delta: 5 filas con la clave")
    assert "4 claves repetidas (4 filas de más)" in text[0] and "99.991 ítems" in text[0]
    assert (
        text[1]
        == "resultados_riesgos.alter_ctra_segmento_cliente: 100.000 filas, claves (id_cliente) completas y únicas."
    )
    assert "1 fila con la clave" in text[2]
    facts = conteo.facts(start("conteo", str(HU_PATH), "local"), counts)
    assert facts.tables["resultados_riesgos.alter_ctra_score_delta"].expected_items == 99_991
    assert facts.results_zone == "DuckDB embebido (entorno local)"
