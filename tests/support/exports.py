"""Files as Hue, Excel and Hive export them, written from a DuckDB table for the seed tests: a Hue CSV
(UTF-8 with BOM, commas, ``<table>.<column>`` headers, ``NULL``), an Excel CSV from a Spanish locale
(Windows-1252, semicolons, decimal commas, dd/mm/yyyy dates) and Parquet."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import duckdb


def _rows(con: duckdb.DuckDBPyConnection, source: str) -> tuple[list[str], list[tuple]]:
    cur = con.execute(f"SELECT * FROM {source}")
    return [d[0] for d in cur.description], cur.fetchall()


def hue_csv(con: duckdb.DuckDBPyConnection, source: str, folder: Path) -> Path:
    columns, rows = _rows(con, source)
    table = source.split(".")[1]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([f"{table}.{c}" for c in columns])
    for r in rows:
        w.writerow(["NULL" if v is None else str(v) for v in r])
    path = folder / f"{source}.csv"
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    return path


def _excel_es(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, Decimal):
        whole, _, frac = f"{v:f}".partition(".")
        return whole + ("," + frac if frac else "")
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.strftime("%d/%m/%Y")
    return str(v)


def excel_csv(con: duckdb.DuckDBPyConnection, source: str, folder: Path) -> Path:
    columns, rows = _rows(con, source)
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_excel_es(v) for v in r])
    path = folder / f"{source}.csv"
    path.write_bytes(out.getvalue().encode("cp1252"))
    return path


def parquet(con: duckdb.DuckDBPyConnection, source: str, folder: Path) -> Path:
    path = folder / f"{source}.parquet"
    con.execute(f"COPY (SELECT * FROM {source}) TO '{path}' (FORMAT PARQUET)")
    return path
