"""Synthetic results-zone tables for any HU: made from the HU's key specs (and its ``columns``, where it
describes them), deterministic, of the size the HU expects, with the defects a real table has.

The embedded default is where an analyst rehearses an HU before DEV, so it must hold that HU's tables even
when nobody exported a sample: every step then has something to show. The defects are the ones the runbook
must catch (a few null and empty keys, repeated keys); the values are text or integers that cast exactly to
the declared Hive types, as in the demo data (``demo_data.DemoTable`` carries and loads them).
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd

from productizar.core.errors import ProductizarError
from productizar.core.hu import DEFAULT_SAMPLE_ROWS, HU, TableSpec
from productizar.local.demo_data import DemoTable, decimal_text

#: the columns a table gets when its HU lists none besides the keys
DEFAULT_COLUMNS = (("valor", "DECIMAL(12,2)"), ("categoria", "STRING"), ("fecha_actualizacion", "TIMESTAMP"))
#: values of every row that share one partition key, when the table has a sort key
SORT_VALUES_PER_KEY = 4
WORDS = np.array(["Personas", "Pyme", "Empresas", "Preferencial", "Emprendedor", "Gestión ñandú", "Oficina"])
INT_RANGES = {"TINYINT": 127, "SMALLINT": 32_767, "INT": 2_147_483_647, "BIGINT": 9_000_000_000_000_000_000}


class SynthesisError(ProductizarError):
    """A table the HU describes cannot be synthesized as asked (say, more distinct keys than its type holds)."""


def seed_of(hu_id: int, source: str) -> int:
    """The random seed of one table: the same HU and table always give the same values."""
    return int(hashlib.sha256(f"{hu_id}:{source.lower()}".encode()).hexdigest()[:8], 16)


def _base(hive_type: str) -> str:
    return hive_type.split("(")[0]


def _scale(hive_type: str) -> tuple[int, int]:
    m = re.match(r"DECIMAL\((\d+),(\d+)\)", hive_type)
    return (int(m.group(1)), int(m.group(2))) if m else (18, 2)


def _distinct(rng: np.random.Generator, n: int, hive_type: str, name: str, source: str) -> pd.Series:
    """``n`` distinct key values of a Hive type, in random order (text that casts exactly, or integers)."""
    base = _base(hive_type)
    if base in INT_RANGES or base in ("FLOAT", "DOUBLE", "DECIMAL"):
        top = INT_RANGES.get(base, 10 ** min(15, _scale(hive_type)[0] - _scale(hive_type)[1]) - 1)
        start = min(10_000_000, top // 4)
        if n > top - start:
            raise SynthesisError(
                f"{source}: la clave {name} es {hive_type}: no caben {n:,} valores distintos; "
                "baje tables[].rows o use un tipo más amplio".replace(",", ".")
            )
        values = start + rng.permutation(min(top - start, max(n * 3, 10)))[:n]
        return pd.Series(values.astype(np.int64), dtype=object)
    if base == "DATE":
        days = rng.permutation(max(n * 2, 10))[:n]
        return pd.Series((np.datetime64("1990-01-01") + days).astype(str), dtype=object)
    if base == "TIMESTAMP":
        seconds = rng.permutation(max(n * 2, 10))[:n]
        stamps = pd.Timestamp("2020-01-01") + pd.to_timedelta(seconds, unit="s")
        return pd.Series(stamps.strftime("%Y-%m-%d %H:%M:%S"), dtype=object)
    # text: document-like numbers for the partition key, short codes fit any VARCHAR(n)
    width = int(m.group(1)) if (m := re.match(r"(?:VAR)?CHAR\((\d+)\)", hive_type)) else 10
    digits = min(width, 10)
    top = 10**digits - 10 ** (digits - 1)
    if n > top:
        raise SynthesisError(f"{source}: la clave {name} ({hive_type}) no admite {n} valores distintos")
    values = 10 ** (digits - 1) + rng.permutation(min(top, max(n * 7, 10)))[:n]
    return pd.Series(values.astype(str), dtype=object)


def _values(rng: np.random.Generator, n: int, hive_type: str) -> pd.Series:
    """``n`` values of a non-key column, about one in ten null (results-zone tables have gaps)."""
    base = _base(hive_type)
    if base in INT_RANGES:
        out = pd.Series(rng.integers(0, min(INT_RANGES[base], 1_000_000), n), dtype=object)
    elif base in ("FLOAT", "DOUBLE"):
        out = pd.Series(np.round(rng.normal(500, 150, n), 4).astype(str), dtype=object)
    elif base == "DECIMAL":
        precision, scale = _scale(hive_type)
        top = 10 ** min(precision, 15)
        out = (
            decimal_text(rng.integers(-top // 10, top, n), scale)
            if scale
            else pd.Series(rng.integers(-top // 10, top, n).astype(str))
        )
    elif base == "DATE":
        out = pd.Series((np.datetime64("2020-01-01") + rng.integers(0, 2_500, n)).astype(str))
    elif base == "TIMESTAMP":
        stamps = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 86_400 * 180, n), unit="s")
        out = pd.Series(stamps.strftime("%Y-%m-%d %H:%M:%S"))
    elif base == "BOOLEAN":
        out = pd.Series(rng.random(n) < 0.8, dtype=object)
    else:
        text = pd.Series(WORDS[rng.integers(0, len(WORDS), n)])
        width = re.match(r"(?:VAR)?CHAR\((\d+)\)", hive_type)
        out = text.str.slice(0, int(width.group(1))) if width else text
    out = out.astype(object)
    return out.where(rng.random(n) >= 0.1, None)


def _plant_defects(frame: pd.DataFrame, t: TableSpec, types: dict[str, str]) -> None:
    """A few rows with a null or empty key and a few repeated keys, as real tables have (in place)."""
    n = len(frame)
    if n < 40:
        return
    pk, sk = t.partition_key.name, t.sort_key.name if t.sort_key else None
    frame.loc[0:1, pk] = None  # null partition keys
    if "CHAR" in types[pk] or types[pk] == "STRING":
        frame.loc[2:3, pk] = ""  # empty partition keys (only a text column can hold one)
    if sk:
        frame.loc[4, sk] = None  # a null sort key
    keys = [pk] + ([sk] if sk else [])
    for dup, orig in zip(range(5, 9), range(n // 2, n // 2 + 4)):  # the same key as another row
        frame.loc[dup, keys] = frame.loc[orig, keys].values


def synthesize(hu: HU, t: TableSpec) -> DemoTable:
    """One HU table as synthetic rows: ``tables[].rows`` of them (10⁴ when absent), keys first."""
    rows = t.rows or DEFAULT_SAMPLE_ROWS
    rng = np.random.default_rng(seed_of(hu.id, t.source))
    columns = t.column_types()
    if not t.columns:
        taken = {c.lower() for c, _ in columns}
        columns += [c for c in DEFAULT_COLUMNS if c[0] not in taken]
    types = dict(columns)
    data: dict[str, pd.Series] = {}
    pk = t.partition_key.name
    if t.sort_key:
        per_key = SORT_VALUES_PER_KEY
        groups = -(-rows // per_key)
        data[pk] = pd.Series(np.repeat(_distinct(rng, groups, types[pk], pk, t.source).to_numpy(), per_key)[:rows])
        sort_values = _distinct(rng, per_key, types[t.sort_key.name], t.sort_key.name, t.source)
        sorted_values = sorted(sort_values.tolist())  # the same few cut-off dates or codes for every key
        data[t.sort_key.name] = pd.Series(np.tile(np.array(sorted_values, dtype=object), groups)[:rows])
    else:
        data[pk] = _distinct(rng, rows, types[pk], pk, t.source)
    for name, hive_type in columns:
        if name not in data:
            data[name] = _values(rng, rows, hive_type)
    frame = pd.DataFrame({name: data[name].reset_index(drop=True) for name, _ in columns}, dtype=object)
    _plant_defects(frame, t, types)
    return DemoTable(t.source, tuple(columns), frame)
