"""The Hive SQL traps, removed before any engine sees a statement."""

import pytest

from productizar.results_zone.duckdb import DuckDBResultsZone
from productizar.results_zone.hivesql import prepare, strip_terminator
from tests.support.runbook import SEED_CONSECUTIVE, SEED_LOOKUP


@pytest.mark.parametrize("sql", ["SELECT 1;", "SELECT 1 ;  ", "SELECT 1;;\n", "INSERT INTO t VALUES (1);"])
def test_no_trailing_terminator_is_ever_sent(sql):
    assert not prepare(sql).rstrip().endswith(";")
    assert strip_terminator("SELECT ';' AS x;") == "SELECT ';' AS x"


def test_statements_without_traps_are_sent_as_written():
    assert prepare(SEED_LOOKUP) == SEED_LOOKUP  # '%' inside LIKE untouched
    assert prepare("SELECT count(*) AS n FROM t GROUP BY a") == "SELECT count(*) AS n FROM t GROUP BY a"


def test_positional_group_and_order_by_are_replaced_and_counts_aliased():
    out = prepare(SEED_CONSECUTIVE)
    assert "GROUP BY 1" not in out and "ORDER BY 1" not in out
    assert "GROUP BY CAST(REGEXP_REPLACE(package, '[^0-9]+', '') AS INT), package, proceso" in out
    assert "ORDER BY consecutivo DESC" in out
    assert "COUNT(*) AS _c3" in out


def test_every_unaliased_computed_column_is_named_like_hive_names_it():
    assert prepare("SELECT count(*) FROM t") == "SELECT COUNT(*) AS _c0 FROM t"
    assert prepare("SELECT a, max(b) FROM t GROUP BY a") == "SELECT a, MAX(b) AS _c1 FROM t GROUP BY a"


def test_duckdb_receives_the_transpiled_prepared_statement(tmp_path):
    zone = DuckDBResultsZone(tmp_path / "x.duckdb")
    sent = zone.backend_sql(SEED_CONSECUTIVE)
    assert "REGEXP_REPLACE(package, '[^0-9]+', '', 'g')" in sent  # Hive replaces every match
    assert '""' not in sent and not sent.endswith(";")
