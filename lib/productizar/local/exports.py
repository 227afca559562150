"""Files exported from Hue or Hive (``<schema>.<table>.csv`` or ``.parquet``), read as results-zone tables.

A CSV is read as Hue and Excel write them: a header row (Hue prefixes each name with ``<table>.``), the
separator found in the header (``,`` ``;`` tab ``|``), UTF-8 with or without BOM, UTF-16, or Windows-1252,
``NULL`` or ``\\N`` for a null, decimal commas (``1.234,56``) and ``dd/mm/yyyy`` dates. Each column's Hive
type is inferred from its values (or taken from the HU's ``columns``); a key of type S stays text (leading
zeros kept). What cannot be read is refused with file, line and column. A Parquet file carries its types.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from productizar.core.errors import BadInput
from productizar.core.hu import NUMERIC_TYPES, TableSpec

SUFFIXES = (".csv", ".parquet")
NULLS = {"NULL", "\\N"}
SEPARATORS = (",", ";", "\t", "|")
SEPARATOR_NAMES = {",": "coma", ";": "punto y coma", "\t": "tabulador", "|": "barra vertical"}
MAX_DECIMAL_PRECISION = 38

_INT = re.compile(r"^[+-]?\d+$")
_DOT_DECIMAL = re.compile(r"^[+-]?\d*\.\d+$")
_COMMA_DECIMAL = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")
_SCIENTIFIC = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DMY_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$")


class ExportRefused(BadInput):
    """Exported files that cannot be loaded as they are: each problem with file, line and column."""

    def __init__(self, folder: Path, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{folder}: {len(problems)} problema(s); nada se cargó:\n{lines}")


@dataclass(frozen=True)
class Header:
    """What a file says before its rows are read: its columns, and how it is written."""

    path: Path
    columns: tuple[str, ...]
    encoding: str = ""
    separator: str = ""
    digest: str = ""  # of the file's bytes: what the seeded table's origin names
    text: str = field(default="", repr=False, compare=False)  # a CSV's decoded text, read once for its rows

    @property
    def how(self) -> str:
        if self.path.suffix.lower() == ".parquet":
            return "Parquet"
        return f"CSV {self.encoding}, separador {SEPARATOR_NAMES[self.separator]}"


@dataclass(frozen=True)
class ExportTable:
    """One file read: the table's Hive columns (inferred or declared), its rows as text that casts exactly
    (CSV) or the file itself (Parquet), and how each column's type was decided."""

    source: str
    header: Header
    columns: tuple[tuple[str, str], ...]
    frame: pd.DataFrame | None  # None: a Parquet file, loaded by the engine itself
    decided: tuple[str, ...]  # per column: "inferred", "from the HU", "S key: kept as text", "from the Parquet"
    rows: int


def find(folder: Path, tables: list[TableSpec]) -> tuple[dict[str, Path], list[str]]:
    """Each HU table's file in ``folder`` (``<schema>.<table>.csv`` or ``.parquet``, any case), and the
    problems: a table without a file, or with both."""
    by_name: dict[str, list[Path]] = {}
    for p in sorted(folder.iterdir()) if folder.is_dir() else []:
        if p.is_file() and p.suffix.lower() in SUFFIXES:
            by_name.setdefault(p.name[: -len(p.suffix)].lower(), []).append(p)
    found: dict[str, Path] = {}
    problems = []
    for i, t in enumerate(tables):
        candidates = by_name.get(t.source.lower(), [])
        if not candidates:
            problems.append(f"tables[{i}] {t.source}: falta el archivo {t.source}.csv o {t.source}.parquet en {folder}")
        elif len(candidates) > 1:
            names = ", ".join(c.name for c in candidates)
            problems.append(f"tables[{i}] {t.source}: hay dos archivos ({names}); deje uno")
        else:
            found[t.source] = candidates[0]
    return found, problems


# ---------------------------------------------------------------------------------------------- CSV text


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _decode(data: bytes) -> tuple[str, str]:
    """A file's text and the encoding it was read with (what Hue, Excel and Windows write)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "UTF-8 con BOM"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _separator(first_line: str) -> str:
    """The separator of a header line: the candidate that splits it most, outside quotes."""
    outside = re.sub(r'"[^"]*"', "", first_line)
    counts = {s: outside.count(s) for s in SEPARATORS}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _names(raw: list[str]) -> tuple[str, ...]:
    """Header names as Hive spells columns: trimmed, lower case, without Hue's ``<table>.`` prefix."""
    names = [c.strip().strip("\ufeff") for c in raw]
    prefixes = {n.split(".", 1)[0] for n in names if "." in n}
    if len(prefixes) == 1 and all("." in n for n in names):
        names = [n.split(".", 1)[1] for n in names]
    return tuple(n.lower() for n in names)


def _reader(text: str, separator: str) -> Any:
    """A CSV reader over the text (``line_num`` is the physical line of the row just read)."""
    return csv.reader(io.StringIO(text, newline=""), delimiter=separator, quotechar='"', doublequote=True)


def header(path: Path) -> Header:
    """The columns of an exported file and how it is written; a CSV's text is decoded here, once, and kept
    for ``read_csv``."""
    if path.suffix.lower() == ".parquet":
        try:
            with duckdb.connect() as con:
                cols = con.execute("SELECT * FROM read_parquet(?) LIMIT 0", [str(path)]).description
        except duckdb.Error as exc:
            raise ExportRefused(path.parent, [f"{path.name}: no es un Parquet legible ({exc})"]) from None
        return Header(path, tuple(str(c[0]).lower() for c in cols), digest=_digest(path.read_bytes()))
    data = path.read_bytes()
    text, encoding = _decode(data)
    first = text.split("\n", 1)[0]
    separator = _separator(first)
    row = next(_reader(text, separator), None)
    if not row or not any(c.strip() for c in row):
        raise ExportRefused(path.parent, [f"{path.name}:1: el archivo no tiene fila de encabezado"])
    return Header(path, _names(row), encoding, separator, _digest(data), text)


# ---------------------------------------------------------------------------------------------- values


def _canonical(value: str, hive_type: str) -> object:
    """One non-null CSV value as text (or int, bool) that casts exactly to ``hive_type``; ValueError if not."""
    base = hive_type.split("(")[0]
    v = value.strip()
    if base in ("TINYINT", "SMALLINT", "INT", "BIGINT"):
        if _INT.match(v):
            return int(v)
        raise ValueError("no es un número entero")
    if base in ("DECIMAL", "FLOAT", "DOUBLE"):
        text = v.replace(".", "").replace(",", ".") if _COMMA_DECIMAL.match(v) else v
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError("no es un número") from None
        if not number.is_finite():
            raise ValueError("no es un número finito")
        if base == "DECIMAL":
            precision, scale = (int(x) for x in re.findall(r"\d+", hive_type))
            exponent = number.as_tuple().exponent
            digits = len(number.as_tuple().digits)
            if isinstance(exponent, int) and (-exponent > scale or digits + min(exponent, 0) + scale > precision):
                raise ValueError(f"no cabe en {hive_type}")
        return format(number, "f")
    if base == "DATE":
        try:
            if _DMY_DATE.match(v):
                return datetime.strptime(v, "%d/%m/%Y").date().isoformat()
            return date.fromisoformat(v).isoformat()
        except ValueError:
            raise ValueError("no es una fecha (aaaa-mm-dd o dd/mm/aaaa)") from None
    if base == "TIMESTAMP":
        try:
            return datetime.fromisoformat(v.replace("T", " ")).isoformat(sep=" ")
        except ValueError:
            raise ValueError("no es una fecha y hora (aaaa-mm-dd hh:mm:ss)") from None
    if base == "BOOLEAN":
        if v.lower() in ("true", "false"):
            return v.lower() == "true"
        raise ValueError("no es true ni false")
    return value


def infer(values: list[str]) -> str:
    """The Hive type a CSV column's non-null values fit: integer, decimal (point or comma), date, timestamp,
    boolean; text otherwise (and always for numbers with leading zeros: codes and documents keep them)."""
    vs = [v.strip() for v in values if v.strip()]
    if not vs:
        return "STRING"
    if all(_INT.match(v) for v in vs):
        if any(len(v.lstrip("+-")) > 1 and v.lstrip("+-").startswith("0") for v in vs):
            return "STRING"
        return "BIGINT" if max(len(v.lstrip("+-")) for v in vs) <= 18 else "DECIMAL(38,0)"
    if all(_INT.match(v) or _DOT_DECIMAL.match(v) for v in vs) or all(
        _INT.match(v) or _COMMA_DECIMAL.match(v) for v in vs
    ):
        numbers = [Decimal(v.replace(".", "").replace(",", ".") if "," in v else v) for v in vs]
        scale = max(-int(n.as_tuple().exponent) for n in numbers)
        whole = max(len(n.as_tuple().digits) + int(n.as_tuple().exponent) for n in numbers)
        precision = max(whole, 1) + scale
        return f"DECIMAL({precision},{scale})" if precision <= MAX_DECIMAL_PRECISION else "DOUBLE"
    if all(_SCIENTIFIC.match(v) or _INT.match(v) or _DOT_DECIMAL.match(v) for v in vs):
        return "DOUBLE"
    for pattern, kind in ((_ISO_DATE, "DATE"), (_DMY_DATE, "DATE"), (_TIMESTAMP, "TIMESTAMP")):
        if all(pattern.match(v) for v in vs):
            try:
                [_canonical(v, kind) for v in vs]
            except ValueError:
                break
            return kind
    if all(v.lower() in ("true", "false") for v in vs):
        return "BOOLEAN"
    return "STRING"


def _key_type(t: TableSpec, column: str) -> str | None:
    for key in (t.partition_key, t.sort_key):
        if key is not None and key.name.lower() == column:
            return key.type
    return None


def read_csv(t: TableSpec, head: Header) -> ExportTable:
    """Every row of a CSV export as text that casts to its column's type; ``ExportRefused`` listing the
    lines and columns that cannot be read (the first 20)."""
    reader = _reader(head.text, head.separator)
    next(reader)
    width = len(head.columns)
    raw: list[list[str]] = []
    lines: list[int] = []
    problems: list[str] = []
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # a blank line (Excel ends files with one)
        if len(row) != width:
            problems.append(
                f"{head.path.name}:{reader.line_num}: tiene {len(row)} campos y el encabezado {width}"
                f" (¿separador {SEPARATOR_NAMES[head.separator]} dentro de un valor sin comillas?)"
            )
            continue
        raw.append(row)
        lines.append(reader.line_num)
    declared = {c.name.lower(): c.type for c in t.columns or []}
    columns: list[tuple[str, str]] = []
    decided: list[str] = []
    values: dict[str, list[object]] = {}
    for j, name in enumerate(head.columns):
        cells = [r[j] for r in raw]
        key = _key_type(t, name)
        if name in declared:
            kind, how = declared[name], "from the HU"
        elif key == "S":
            kind, how = "STRING", "S key: kept as text"
        else:
            kind = infer([c for c in cells if c.strip() not in NULLS])
            how = "inferred"
            if key == "N" and kind.split("(")[0] not in NUMERIC_TYPES:
                kind, how = "DECIMAL(38,0)", "N key"  # every value is checked below, line by line
        out: list[object] = []
        for line, cell in zip(lines, cells):
            stripped = cell.strip()
            if stripped in NULLS or (stripped == "" and kind != "STRING"):
                out.append(None)
                continue
            try:
                out.append(_canonical(cell, kind))
            except ValueError as exc:
                if len(problems) < 20:
                    problems.append(f"{head.path.name}:{line}: columna {name} ({kind}): «{cell}» {exc}")
                out.append(None)
        if key == "N" and kind == "DECIMAL(38,0)" and all(v is None or _INT.match(str(v)) for v in out):
            kind = "BIGINT"
        columns.append((name, kind))
        decided.append(how)
        values[name] = out
    if problems:
        raise ExportRefused(head.path.parent, problems)
    frame = pd.DataFrame({n: pd.Series(v, dtype=object) for n, v in values.items()}, dtype=object)
    return ExportTable(t.source, head, tuple(columns), frame, tuple(decided), len(raw))


def read_parquet(t: TableSpec, head: Header) -> ExportTable:
    """A Parquet export: its own types; a key of type N must hold numbers (the first row that does not is
    named)."""
    with duckdb.connect() as con:
        rel = con.execute("SELECT * FROM read_parquet(?) LIMIT 0", [str(head.path)])
        types = [str(d[1]).upper() for d in rel.description]
        counted = con.execute("SELECT count(*) FROM read_parquet(?)", [str(head.path)]).fetchone()
        rows = int(counted[0]) if counted else 0
        for name, kind in zip(head.columns, types):
            if _key_type(t, name) != "N" or kind.split("(")[0] in NUMERIC_TYPES + ("HUGEINT", "UBIGINT", "UINTEGER"):
                continue
            bad = con.execute(
                f'SELECT n, v FROM (SELECT row_number() OVER () AS n, CAST("{name}" AS VARCHAR) AS v '
                "FROM read_parquet(?)) WHERE v IS NOT NULL AND TRY_CAST(v AS DECIMAL(38,10)) IS NULL LIMIT 1",
                [str(head.path)],
            ).fetchone()
            if bad:
                raise ExportRefused(
                    head.path.parent,
                    [f"{head.path.name}: fila {bad[0]}: columna {name} (clave N, {kind}): «{bad[1]}» no es un número"],
                )
    columns = tuple((n, _hive_type(k)) for n, k in zip(head.columns, types))
    return ExportTable(t.source, head, columns, None, tuple("from the Parquet" for _ in columns), rows)


def _hive_type(duckdb_type: str) -> str:
    """A Parquet column's DuckDB type as Hive names it (what the evidence shows)."""
    base = duckdb_type.split("(")[0]
    names = {
        "VARCHAR": "STRING",
        "INTEGER": "INT",
        "HUGEINT": "DECIMAL(38,0)",
        "UBIGINT": "DECIMAL(20,0)",
        "UINTEGER": "BIGINT",
        "REAL": "FLOAT",
        "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
        "TIMESTAMP_NS": "TIMESTAMP",
        "TIMESTAMP_MS": "TIMESTAMP",
    }
    return duckdb_type if base in ("DECIMAL",) else names.get(duckdb_type, names.get(base, duckdb_type))


def read(folder: Path, tables: list[TableSpec]) -> list[ExportTable]:
    """Every HU table's file in ``folder``, checked before any is read whole: a missing file or a key column
    missing from a file is named first, all at once; then each file is read, refused with file, line and
    column where a value cannot be read."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ExportRefused(folder, [f"{folder}: no existe la carpeta con los archivos exportados"])
    found, problems = find(folder, tables)
    heads: dict[str, Header] = {}
    for i, t in enumerate(tables):
        if t.source not in found:
            continue
        try:
            heads[t.source] = h = header(found[t.source])
        except ExportRefused as exc:
            problems += exc.problems
            continue
        for role, key in (("partition_key", t.partition_key), ("sort_key", t.sort_key)):
            if key is not None and key.name.lower() not in h.columns:
                problems.append(
                    f"{h.path.name}:1: falta la columna {key.name} (tables[{i}].{role} de la HU); "
                    f"el archivo trae: {', '.join(h.columns)}"
                )
        duplicated = sorted({c for c in h.columns if h.columns.count(c) > 1})
        if duplicated:
            problems.append(f"{h.path.name}:1: columnas repetidas en el encabezado: {', '.join(duplicated)}")
    if problems:
        raise ExportRefused(folder, problems)
    out = []
    for t in tables:
        h = heads[t.source]
        out.append(read_parquet(t, h) if h.path.suffix.lower() == ".parquet" else read_csv(t, h))
    return out
