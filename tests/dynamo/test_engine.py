"""Which engine loads a table: the single machine, or the Glue job's Spark, and the sentence that says why."""

from types import SimpleNamespace

import pytest

from productizar.core.hu import HU
from productizar.dynamo import engine
from tests.support.hu import demo_data, demo_with

DATA = demo_data()


def hu_with(**load) -> HU:
    """The demo HU with these ``load`` settings."""
    return demo_with(load=dict(DATA["load"], **load))


def sizing_facts(items: int, write_units_per_item: float = 1.0, rate: float = 4000) -> dict:
    """Write plans as the sizing step hands them on (only what the choice reads)."""
    hu = hu_with()
    return {
        t.source: SimpleNamespace(items=items, total_write_units=items * write_units_per_item, planned_rate_wcu=rate)
        for t in hu.tables
    }


def test_small_tables_stay_on_one_machine_and_say_why():
    [c, *_] = engine.choose(hu_with(), sizing_facts(100_000), single_machine_wcu=2000)
    assert (
        c.engine == engine.SINGLE
        and c.reason == "100.000 ítems: una máquina (2.000 WCU/s) termina en 0,8 min, dentro de la ventana de 6 h"
    )
    assert c.single_machine_hours == pytest.approx(100_000 / 2000 / 3600)


def test_big_tables_or_a_missed_window_go_to_spark():
    [c, *_] = engine.choose(hu_with(), sizing_facts(5_000_000), single_machine_wcu=2000)
    assert c.engine == engine.SPARK and "load.spark_from_items" in c.reason
    # 3M items of 8 KB: 24M write units at 2,000/s is 3.3 h, more than a 2 h window
    [c, *_] = engine.choose(hu_with(window_hours=2), sizing_facts(3_000_000, 8), single_machine_wcu=2000)
    assert c.engine == engine.SPARK and "más que la ventana de 2 h" in c.reason
    [c, *_] = engine.choose(hu_with(engine="single-machine"), sizing_facts(9_000_000), single_machine_wcu=2000)
    assert c.engine == engine.SINGLE and "la HU fija" in c.reason
