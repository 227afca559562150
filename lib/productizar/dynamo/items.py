"""Results-zone rows as DynamoDB items, and their size by DynamoDB's own rules.

One conversion for every use (sizing now, the loaders later): decimals stay exact (``Decimal``, never
float), dates and timestamps become ISO-8601 strings, null attributes are not written, numeric keys are
numbers. Items are in DynamoDB's low-level form (``{"name": {"N": "12.5"}}``), as BatchWriteItem takes them.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

# DynamoDB's size rules live in core.capacity (the embedded endpoint meters with them too); re-exported here
from productizar.core.capacity import item_size as item_size
from productizar.core.capacity import number_size as number_size
from productizar.core.errors import ProductizarError
from productizar.core.hu import TableSpec

MAX_ITEM_BYTES = 400 * 1024


class RefusedRow(ProductizarError):
    """A row DynamoDB would not take as an item: the load counts it, names it and goes on."""


class BadKey(RefusedRow):
    pass


class ItemTooLarge(RefusedRow):
    pass


def _number_text(value: Any) -> str:
    """A number as DynamoDB receives it: exact decimal text, no exponent, no float noise."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("a boolean is not a number")
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise ValueError(f"DynamoDB has no {value}")
        value = Decimal(repr(float(value)))  # the shortest text that round-trips, never the binary expansion
    elif isinstance(value, (int, np.integer)):
        return str(int(value))
    d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    text = format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_NEVER_NULL = (str, int, bool, Decimal, dt.date, bytes)


def is_null(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if type(value) in _NEVER_NULL:  # the common case, without pandas' slower checks
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def attribute(value: Any) -> dict[str, Any] | None:
    """One value as a DynamoDB attribute; None for a null (the attribute is not written)."""
    if is_null(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return {"BOOL": bool(value)}
    if isinstance(value, (int, float, Decimal, np.integer, np.floating)):
        return {"N": _number_text(value)}
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return {"S": value.isoformat()}
    if isinstance(value, dt.date):
        return {"S": value.isoformat()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"B": bytes(value)}
    return {"S": str(value)}


def key_attribute(value: Any, kind: str, name: str) -> dict[str, Any]:
    """A key value with the type the HU declares: S keys as text, N keys as numbers; never empty."""
    if is_null(value) or (isinstance(value, str) and not value.strip()):
        raise BadKey(f"la clave {name} está nula o vacía")
    if kind == "N":
        try:
            return {"N": _number_text(value)}
        except (InvalidOperation, TypeError, ValueError):
            raise BadKey(f"la clave {name} es de tipo N y el valor «{value}» no es un número") from None
    if isinstance(value, (int, Decimal, np.integer)):
        return {"S": _number_text(value)}
    return {"S": (attribute(value) or {})["S"]}  # not null: checked above


def to_item(row: dict[str, Any], table: TableSpec) -> dict[str, dict[str, Any]]:
    """A results-zone row as an item: keys typed as the HU says, nulls left out."""
    keys = {table.partition_key.name: table.partition_key.type}
    if table.sort_key:
        keys[table.sort_key.name] = table.sort_key.type
    item: dict[str, dict[str, Any]] = {}
    for name, value in row.items():
        attr = key_attribute(value, keys[name], name) if name in keys else attribute(value)
        if attr is not None:
            item[name] = attr
    return item


def sized_item(row: dict[str, Any], table: TableSpec) -> tuple[dict[str, dict[str, Any]], int]:
    """``to_item`` and its size in bytes, refused (``ItemTooLarge``) when DynamoDB's 400 KB limit would reject
    the item: measured here, as each row is converted, so one big row never aborts a batch of good ones (and
    measured once: the loader paces by the size too)."""
    item = to_item(row, table)
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        key = ", ".join(f"{k}={next(iter(item[k].values()))}" for k in table.key_names)
        raise ItemTooLarge(
            f"el ítem ({key}) mide {size / 1024:.1f} KB, más que los 400 KB que DynamoDB admite".replace(".", ",")
        )
    return item, size
