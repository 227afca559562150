"""A table's profile, on a small DuckDB results zone built here: null and blank keys, repeated keys, the sort
key's range and the busiest partition key counted as DynamoDB will see them; missing tables and key columns
reported all at once with the HU field to fix."""

import pytest
import sqlglot
from sqlglot import exp

from productizar.core import duckfile
from productizar.core.errors import KeyColumnsMissing, TablesMissing
from productizar.core.hu import TableSpec
from productizar.results_zone import profile
from productizar.results_zone.duckdb import DuckDBResultsZone

SCORES = TableSpec(
    source="resultados_x.scores",
    partition_key={"name": "num_documento", "type": "S"},
    sort_key={"name": "fecha_corte", "type": "N"},
)
SEGMENTS = TableSpec(source="resultados_x.segmentos", partition_key={"name": "id_cliente", "type": "N"})


@pytest.fixture
def zone(tmp_path) -> DuckDBResultsZone:
    path = tmp_path / "zona.duckdb"
    with duckfile.connect(path, read_only=False) as con:
        con.execute("CREATE SCHEMA resultados_x")
        con.execute("CREATE TABLE resultados_x.scores (num_documento VARCHAR, fecha_corte INTEGER, valor VARCHAR)")
        con.execute(
            """INSERT INTO resultados_x.scores VALUES
            ('A', 20240101, '1,5'), ('A', 20240201, 'ñ'), ('A', 20240201, 'repetida'), ('A', 20240201, 'otra vez'),
            ('B', 20231201, 'x'), ('C', 20250101, 'y'), ('C', 20250101, 'y'),
            (NULL, 20240101, 'sin clave'), ('  ', 20240101, 'clave en blanco'), ('D', NULL, 'sin orden')"""
        )
        con.execute("CREATE TABLE resultados_x.segmentos (id_cliente BIGINT, segmento VARCHAR)")
        con.execute("INSERT INTO resultados_x.segmentos VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    return DuckDBResultsZone(path, "DuckDB de prueba")


def test_bad_and_repeated_keys_the_sort_range_and_the_busiest_key_are_counted(zone):
    scores, segments = profile.count_tables(zone, [SCORES, SEGMENTS], max_workers=2)
    assert (scores.rows, scores.null_key_rows) == (10, 3)  # a null pk, a blank pk, a null sort key
    assert (scores.duplicate_keys, scores.duplicate_rows) == (2, 3)  # (A, 20240201) ×3 and (C, 20250101) ×2
    assert scores.expected_items == 10 - 3 - 3
    assert (scores.sort_min, scores.sort_max) == (20231201, 20250101)
    assert scores.max_rows_per_partition_key == 4  # A
    assert (segments.rows, segments.expected_items, segments.sort_min) == (3, 3, None)
    assert segments.as_fact()["expected_items"] == 3 and len(segments.sql) == 3


def test_missing_tables_are_named_together_before_anything_is_counted(zone):
    ghost = TableSpec(source="resultados_x.no_existe", partition_key={"name": "id", "type": "S"})
    other = TableSpec(source="otra_zona.tampoco", partition_key={"name": "id", "type": "N"})
    with pytest.raises(TablesMissing) as info:
        profile.count_tables(zone, [SCORES, ghost, other])
    assert info.value.missing == ["resultados_x.no_existe", "otra_zona.tampoco"]


def test_key_columns_the_table_lacks_are_reported_with_their_hu_field_and_the_columns_it_has(zone):
    wrong = TableSpec(
        source="resultados_x.scores",
        partition_key={"name": "documento", "type": "S"},
        sort_key={"name": "FECHA_CORTE", "type": "N"},  # Hive names: any case
    )
    with pytest.raises(KeyColumnsMissing) as info:
        profile.count_tables(zone, [SEGMENTS, wrong])
    assert info.value.problems == [
        ("tables[1].partition_key.name", "resultados_x.scores", "documento", ["num_documento", "fecha_corte", "valor"])
    ]
    assert "corrija el archivo de la HU" in str(info.value)


def test_sql_is_hive_with_every_count_aliased_and_no_positional_group_by():
    for t in (SCORES, SEGMENTS):
        for sql in (profile.profile_sql(t), profile.duplicates_sql(t), profile.hot_key_sql(t)):
            tree = sqlglot.parse_one(sql, read="hive")
            for count in tree.find_all(exp.Count):
                # the outermost count(*) of a select is aliased (engines name it _c0, count(1), count_star())
                if isinstance(count.parent, exp.Select):
                    pytest.fail(f"unaliased count in {sql}")
            for group in tree.find_all(exp.Group):
                assert not any(isinstance(e, exp.Literal) for e in group.expressions), sql
            assert not sql.rstrip().endswith(";")
            assert "`" in sql  # Hive identifiers, transpiled for DuckDB only when run there
