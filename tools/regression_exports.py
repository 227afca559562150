"""Write the regression HU's exported files (``parameters/hu/regresion/``): the demo's three tables at a few
thousand rows, as Hue exports them (UTF-8 CSV with BOM, ``<table>.<column>`` headers, ``NULL``) and as
Parquet. They keep the demo's shapes: Spanish text with ñ and accents, exact decimals, timestamps, text and
numeric keys, a table without a sort key, null, empty and repeated keys.

The files are committed; the embedded default seeds them into its results zone (``local.embedded``). Run
this again only when the demo data's shapes change, then refresh the golden notebooks (``make golden``).

    .venv/bin/python tools/regression_exports.py
"""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import duckdb

from productizar.core.hu import load_hu
from productizar.local.demo_data import Variant, shaped_tables

ROOT = Path(__file__).resolve().parents[1]
HU_FILE = ROOT / "parameters" / "hu" / "regresion.yaml"
FOLDER = HU_FILE.with_suffix("")
ROWS = 4_000  # the score table's; the others follow the demo's proportions
PARQUET = {"resultados_riesgos.regresion_segmento_cliente"}  # the others as Hue's CSV


def hue_csv(con: duckdb.DuckDBPyConnection, source: str, path: Path) -> None:
    cur = con.execute(f"SELECT * FROM {source}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f"{source.split('.')[1]}.{d[0]}" for d in cur.description])
    for row in cur.fetchall():
        writer.writerow(["NULL" if v is None else str(v) for v in row])
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))


def main() -> None:
    hu = load_hu(HU_FILE)
    FOLDER.mkdir(exist_ok=True)
    con = duckdb.connect()
    for table, spec in zip(shaped_tables(Variant(ROWS)), hu.tables, strict=True):
        table = dataclasses.replace(table, source=spec.source)
        table.write(con)
        path = FOLDER / f"{spec.source}.{'parquet' if spec.source in PARQUET else 'csv'}"
        if spec.source in PARQUET:
            con.execute(f"COPY (SELECT * FROM {spec.source}) TO '{path}' (FORMAT PARQUET)")
        else:
            hue_csv(con, spec.source, path)
        print(f"{path.relative_to(ROOT)}: {len(table.frame):,} rows")


if __name__ == "__main__":
    main()
