"""The steps' own decisions, apart from their notebooks: ``carga``'s prediction of a load's time and cost
beside what it measured, and ``dimensionamiento``'s recommendation in plain Spanish."""

from types import SimpleNamespace

import pandas as pd
import pytest

from productizar.core.capacity import CapacityRules
from productizar.dynamo import sizing
from productizar.dynamo.loader import LoadResult
from productizar.steps import carga, dimensionamiento
from tests.support.hu import demo_with

A = sizing.load_assumptions()
WCU_HOUR = A.prices["dynamodb_provisioned_wcu_hour"]


def plan_of(items: int, **load) -> sizing.WritePlan:
    """A write plan of ``items`` 1-KB items for the demo HU's first table, with its ``load`` settings."""
    hu = demo_with(load={"window_hours": 6, "write_share": 0.5} | load)
    return sizing.write_plan(sizing.ItemSizes("r.t", 100, 500.0, 600.0, 700, 1.0, 1.0, 0, 0, 0), items, hu, A)


def step_billed(mode: str) -> SimpleNamespace:
    return SimpleNamespace(hu=demo_with(capacity={"billing_mode": mode, "read": [1, 50], "write": [1, 8000]}))


def test_a_warmed_provisioned_load_is_predicted_at_its_share_and_billed_for_the_capacity_it_held():
    plan = plan_of(400_000)
    measured = LoadResult("r.t", "t", items_written=400_000, duration_s=110.0, consumed_wcu=400_000.0)
    measured.provisioned_wcu_seconds = 8000 * 110.0
    p = carga.predict(plan, measured, 8000, A, CapacityRules(), step_billed("PROVISIONED"))
    assert p.predicted_s == pytest.approx(400_000 / (8000 * 0.5))  # 100 s at half of the warmed 8,000 WCU
    assert p.ratio == pytest.approx(1.1)
    assert p.predicted_usd == pytest.approx(round(400_000 / 0.5 / 3600 * WCU_HOUR, 4))
    assert p.measured_usd == pytest.approx(round(8000 * 110.0 / 3600 * WCU_HOUR, 4))
    assert (p.warmed_to, p.predicted_wcu, p.consumed_wcu) == (8000, 400_000, 400_000.0)


def test_an_on_demand_load_costs_what_it_writes_whatever_its_time():
    plan = plan_of(1_000_000)
    measured = LoadResult("r.t", "t", items_written=1_000_000, duration_s=600.0, consumed_wcu=1_000_010.0)
    p = carga.predict(plan, measured, 0, A, CapacityRules(), step_billed("PAY_PER_REQUEST"))
    unit = A.prices["dynamodb_on_demand_write_million"] / 1e6
    assert p.predicted_usd == pytest.approx(round(1_000_000 * unit, 4))
    assert p.measured_usd == pytest.approx(round(1_000_010 * unit, 4))


def test_a_compressed_clock_shortens_the_predicted_wait_for_autoscaling_not_the_rate():
    plan = plan_of(100_000, write_share=0.9, warm="never")  # above the 60 % target: autoscaling raises it
    measured = LoadResult("r.t", "t", items_written=100_000, duration_s=50.0)
    real = carga.predict(plan, measured, 0, A, CapacityRules(), step_billed("PROVISIONED"))
    fast = carga.predict(plan, measured, 0, A, CapacityRules(time_scale=10), step_billed("PROVISIONED"))
    assert fast.predicted_s < real.predicted_s
    assert fast.time_scale == 10 and real.time_scale == 1


def samples(rows: int) -> dict[str, pd.DataFrame]:
    """Small rows for each demo table: every key column and one text column."""
    hu = demo_with()
    out = {}
    for t in hu.tables:
        frame = {k: [f"{i:010d}" if t.partition_key.type == "S" else i for i in range(rows)] for k in t.key_names}
        out[t.source] = pd.DataFrame(frame | {"detalle": ["x" * 100] * rows})
    return out


def test_the_recommendation_warms_a_table_that_would_never_grow_and_keeps_the_range_that_fits():
    hu = demo_with()
    counts = {t.source: sizing.Counts(100_000) for t in hu.tables}
    said = dimensionamiento.recommendation(sizing.size(hu, counts, samples(50), A), hu)
    assert said[0].startswith("Escritura: con load.write_share 0,5") and "nunca hace crecer la tabla" in said[0]
    assert said[1].startswith("Calentamiento: para la ventana de carga se eleva la capacidad de escritura a 8000 WCU")
    assert said[2] == "Escritura: mantener 1,8000, dentro de la ventana de 6,0 h."
    assert any(s.startswith("Job de Glue: G.1X") for s in said) and said[-1].startswith("Costo mensual estimado")


def test_the_recommendation_names_a_hot_partition_that_no_capacity_can_speed_up():
    hu = demo_with(load={"window_hours": 1, "write_share": 0.5})
    counts = {t.source: sizing.Counts(5_000_000, max_rows_per_partition_key=4_000_000) for t in hu.tables}
    said = dimensionamiento.recommendation(sizing.size(hu, counts, samples(50), A), hu)
    hot = next(s for s in said if "clave de partición más repetida" in s)
    assert "ninguna capacidad la acelera" in hot and "ventana de 1,0 h" in hot
