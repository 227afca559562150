"""A DuckDB file shared by processes: a connection waits out another process's lock instead of failing,
anything else fails at once, and a table's comment is found with Hive's case-insensitive names."""

import subprocess
import sys
import time

import duckdb
import pytest

from productizar.core import duckfile

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def test_a_file_another_process_holds_is_waited_for_then_opened(tmp_path):
    path = tmp_path / "zona.duckdb"
    with duckfile.connect(path, read_only=False) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), "1.0"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout and holder.stdout.readline().strip() == "held"
        with pytest.raises(duckdb.IOException, match="(?i)lock"):  # held: a plain connect fails
            duckdb.connect(str(path), read_only=False)
        started = time.monotonic()
        with duckfile.connect(path, read_only=False) as con:
            assert con.execute("SELECT x FROM t").fetchone() == (1,)
        assert time.monotonic() - started > 0.3  # it waited for the holder to let go
    finally:
        holder.wait(timeout=30)


def test_a_file_that_cannot_be_opened_for_another_reason_fails_at_once(tmp_path):
    started = time.monotonic()
    with pytest.raises(duckdb.IOException):
        with duckfile.connect(tmp_path / "no-existe" / "zona.duckdb", read_only=True):
            pass
    assert time.monotonic() - started < 0.5


def test_a_tables_comment_is_found_whatever_the_case_of_its_names(tmp_path):
    with duckfile.connect(tmp_path / "zona.duckdb", read_only=False) as con:
        con.execute("CREATE SCHEMA resultados_x")
        con.execute("CREATE TABLE resultados_x.mi_tabla (id INTEGER)")
        con.execute("COMMENT ON TABLE resultados_x.mi_tabla IS 'sembrada: demo'")
        con.execute("CREATE TABLE resultados_x.sin_comentario (id INTEGER)")
        assert duckfile.table_comment(con, "Resultados_X", "MI_TABLA") == (True, "sembrada: demo")
        assert duckfile.table_comment(con, "resultados_x", "sin_comentario") == (True, None)
        assert duckfile.table_comment(con, "resultados_x", "otra") == (False, None)
