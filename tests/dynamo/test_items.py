"""Rows as DynamoDB items, and item sizes by AWS's documented rules (expected bytes written by hand)."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from productizar.core.hu import TableSpec
from productizar.dynamo.items import BadKey, attribute, item_size, number_size, to_item

SCORE = TableSpec(
    source="r.score",
    partition_key={"name": "num_documento", "type": "S"},
    sort_key={"name": "fecha_corte", "type": "N"},
)


@pytest.mark.parametrize(
    "text, size",
    [
        ("123", 3),  # 3 significant digits -> ceil(3/2) = 2, + 1
        ("1.5", 2),  # "15": 1 + 1
        ("100", 2),  # trailing zeros are not significant: "1" -> 1 + 1
        ("20260430", 5),  # "2026043": 7 digits -> 4 + 1
        ("0.0012", 2),  # leading zeros neither: "12" -> 1 + 1
        ("-0.5043", 4),  # "5043" -> 2 + 1, + 1 for the sign
        ("0", 2),
    ],
)
def test_number_sizes(text, size):
    assert number_size(text) == size


def test_item_size_worked_example():
    item = {
        "num_documento": {"S": "1000140989"},  # 13 + 10
        "fecha_corte": {"N": "20260430"},  # 11 + 5
        "score": {"N": "20.1221"},  # 5 + ("201221": 3 + 1) = 5 + 4
        "segmento": {"S": "Empresas"},  # 8 + 8
        "activo": {"BOOL": True},  # 6 + 1
        "observación": {"S": "día"},  # 12 (ó is 2 bytes) + 4 (í is 2 bytes)
    }
    assert item_size(item) == (13 + 10) + (11 + 5) + (5 + 4) + (8 + 8) + (6 + 1) + (12 + 4)


def test_conversion_keeps_decimals_exact_and_leaves_nulls_out():
    row = {
        "num_documento": "1000140989",
        "fecha_corte": np.int64(20260430),
        "score": Decimal("20.1221"),
        "delta": Decimal("-0.50"),
        "ratio": 0.1,
        "fecha": dt.date(2026, 5, 1),
        "momento": dt.datetime(2026, 5, 17, 10, 36, 13),
        "nota": None,
        "vacio": "",
        "nan": float("nan"),
        "activo": np.bool_(True),
    }
    item = to_item(row, SCORE)
    assert item == {
        "num_documento": {"S": "1000140989"},
        "fecha_corte": {"N": "20260430"},
        "score": {"N": "20.1221"},
        "delta": {"N": "-0.5"},
        "ratio": {"N": "0.1"},
        "fecha": {"S": "2026-05-01"},
        "momento": {"S": "2026-05-17T10:36:13"},
        "vacio": {"S": ""},  # empty strings are allowed outside keys
        "activo": {"BOOL": True},
    }


def test_numeric_keys_are_numbers_and_bad_keys_are_refused():
    seg = TableSpec(source="r.seg", partition_key={"name": "id_cliente", "type": "N"})
    assert to_item({"id_cliente": "10002738"}, seg) == {"id_cliente": {"N": "10002738"}}
    assert to_item({"id_cliente": 10002738.0}, seg) == {"id_cliente": {"N": "10002738"}}
    with pytest.raises(BadKey, match="no es un número"):
        to_item({"id_cliente": "abc"}, seg)
    with pytest.raises(BadKey, match="nula o vacía"):
        to_item({"num_documento": "  ", "fecha_corte": 1}, SCORE)
    with pytest.raises(BadKey):
        to_item({"num_documento": "1", "fecha_corte": None}, SCORE)
    assert attribute(Decimal("1E+3")) == {"N": "1000"}
