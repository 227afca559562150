"""Sizing plans checked against hand-computed cases; bad inputs give clear errors."""

import json
from pathlib import Path

import pandas as pd
import pytest

from productizar.core.hu import load_hu
from productizar.dynamo import sizing
from productizar.local import embedded as localenv
from productizar.results_zone.duckdb import DuckDBResultsZone
from productizar.steps import dimensionamiento
from tests.support.hu import demo_with

ROOT = Path(__file__).resolve().parents[2]
DEMO = load_hu(ROOT / "parameters" / "hu" / "demo.yaml")
A = sizing.load_assumptions()


def sizes(wcu: float = 1.0, rcu: float = 1.0, source: str = "r.t") -> sizing.ItemSizes:
    return sizing.ItemSizes(source, 100, 500.0, 600.0, 700, wcu, rcu, 0, 0, 0)


def test_scaling_time_hand_computed():
    # start 1, max 10, full share, target 50 %, a step every 10 s:
    # 0-10 s at 1 (10), 10-20 at 2 (30), 20-30 at 4 (70), 30-40 at 8 (150), then 10/s: 850 left -> 85 s
    assert sizing.load_seconds_with_scaling(1000, 1, 10, 1.0, 0.5, 10) == pytest.approx(40 + 85)
    # already above the demand: no scaling, 1000 at 50/s
    assert sizing.load_seconds_with_scaling(1000, 100, 100, 0.5, 0.6, 120) == pytest.approx(20)
    assert sizing.load_seconds_with_scaling(0, 1, 10, 1, 0.5, 10) == 0
    # the loader never writes above its share of the capacity now: at a share not above the target the
    # utilization never crosses it, so target tracking never raises the table (1000 at 0.5 x 1 WCU/s)
    assert sizing.load_seconds_with_scaling(1000, 1, 8000, 0.5, 0.6, 120) == pytest.approx(2000)


def test_write_plan_hand_computed():
    plan = sizing.write_plan(sizes(wcu=2.0), 1_000_000, DEMO, A)
    assert plan.total_write_units == 2_000_000
    assert plan.hours_at_max == pytest.approx(2_000_000 / 8000 / 3600)
    assert plan.hours_at_share == pytest.approx(2_000_000 / 4000 / 3600)
    # the HU's share (0.5) is not above the write target (0.6): from 1 WCU the table never grows
    assert not plan.scales_during_load and plan.hours_with_scaling == pytest.approx(2_000_000 / 0.5 / 3600)
    # so the plan warms it to the maximum for the load window: 2 M units at 4,000 WCU/s
    assert plan.warm and plan.warm_capacity_wcu == 8000 and plan.hours_planned == pytest.approx(500 / 3600)
    assert plan.fits_window and plan.recommended_write_max == 8000 and not plan.quota_limited
    assert plan.planned_rate_wcu == 4000


def test_a_share_above_the_target_rides_autoscaling_and_needs_no_warming():
    hu = demo_with(load={"window_hours": 6, "write_share": 0.9})
    plan = sizing.write_plan(sizes(wcu=2.0), 1_000_000, hu, A)
    assert plan.scales_during_load and not plan.warm and plan.warm_capacity_wcu == 0
    assert plan.hours_planned == plan.hours_with_scaling < 1  # starting at 1 WCU costs extra minutes
    assert plan.hours_with_scaling > 2_000_000 / (0.9 * 8000) / 3600


def test_warming_can_be_forced_or_refused():
    forced = sizing.write_plan(sizes(), 1000, demo_with(load={"write_share": 0.9, "warm": "always"}), A)
    assert forced.warm and forced.warm_capacity_wcu == 8000
    refused = sizing.write_plan(sizes(), 1_000_000, demo_with(load={"write_share": 0.5, "warm": "never"}), A)
    assert not refused.warm and not refused.fits_window  # 1 M units at 0.5 WCU/s


def test_a_load_that_does_not_fit_raises_the_maximum_just_enough():
    hu = demo_with(load={"window_hours": 3, "write_share": 0.5})
    plan = sizing.write_plan(sizes(wcu=3.0), 30_000_000, hu, A)  # 90 M WCU: 6.3 h at 4000 WCU/s
    assert not plan.fits_window and 8000 < plan.recommended_write_max < A.table_write_quota_wcu
    budget_s = 3 * A.window_margin * 3600

    def secs(m):  # warmed to the maximum for the window: the plan's own move
        return sizing.load_seconds(90_000_000, 1, m, 0.5, A.write_target_utilization, A.scale_up_delay_s, True)

    assert secs(plan.recommended_write_max) <= budget_s < secs(plan.recommended_write_max - 1000)
    assert plan.recommended_write_max % 1000 == 0


def test_beyond_the_table_quota_the_plan_says_so():
    hu = demo_with(load={"window_hours": 1, "write_share": 0.5})
    plan = sizing.write_plan(sizes(wcu=10.0), 100_000_000, hu, A)
    assert plan.quota_limited and plan.recommended_write_max == A.table_write_quota_wcu


def test_read_plan_hand_computed():
    hu = demo_with(capacity={"billing_mode": "PROVISIONED", "read": [1, 50], "write": [1, 8000]})
    table = DEMO.tables[0].model_copy(update={"traffic": DEMO.tables[0].traffic.model_copy(update={"peak_rps": 100})})
    plan = sizing.read_plan(sizes(rcu=2.0), table, hu, A)  # 2 RCU strong -> 1 eventual; 100 x 1 x 1
    assert plan.read_units_needed == 100 and plan.provisioned_needed == 125  # 100 / 0.8
    assert not plan.fits_range and plan.recommended_read_max == 125


def test_glue_workers_from_the_planned_rate():
    plans = [sizing.write_plan(sizes(), 100_000, DEMO, A)]
    glue = sizing.glue_plan(plans, DEMO, A)
    # 4000 WCU/s / 500 per task = 8 tasks; G.1X has 4 slots: 2 workers + 1 driver
    assert (glue.worker_type, glue.number_of_workers, glue.task_slots, glue.max_concurrent_runs) == ("G.1X", 3, 8, 3)


def test_cost_hand_computed():
    hu = demo_with(
        tables=[DEMO.tables[1].model_dump()],
        capacity={"billing_mode": "PROVISIONED", "read": [1, 50], "write": [1, 8000]},
    )
    z = sizes(wcu=1.0, rcu=1.0, source=hu.tables[0].source)
    w = sizing.write_plan(z, 1_000_000, hu, A)
    r = sizing.read_plan(z, hu.tables[0], hu, A)  # 15 rps strong x 1 RCU = 15 RCU at peak
    g = sizing.glue_plan([w], hu, A)
    c = sizing.cost([w], [r], [z], g, hu, A)
    p = A.prices
    average = 15 * A.average_to_peak_traffic  # 3.75 RCU on average
    reads_prov = max(1, average / 0.8) * 730 * p["dynamodb_provisioned_rcu_hour"]
    writes_min = 1 * 730 * p["dynamodb_provisioned_wcu_hour"]
    storage = 1_000_000 * 500 / 1024**3 * p["dynamodb_storage_gb_month"]
    assert c.storage_month == pytest.approx(storage)
    assert c.provisioned_month == pytest.approx(reads_prov + writes_min + storage)
    assert c.on_demand_month == pytest.approx(
        average * 730 * 3600 / 1e6 * p["dynamodb_on_demand_read_million"] + storage
    )
    assert c.load_on_demand == pytest.approx(1_000_000 / 1e6 * p["dynamodb_on_demand_write_million"])
    # Glue: 1 M WCU at 4000 WCU/s = 250 s, 3 G.1X workers = 3 DPU
    assert c.glue_per_run == pytest.approx(3 * 250 / 3600 * p["glue_dpu_hour"])


def test_recommendation_follows_the_plan():
    hu = demo_with(load={"window_hours": 3, "write_share": 0.5})
    z = sizes(wcu=3.0, source=hu.tables[0].source)
    s = sizing.Sizing(
        [z],
        [sizing.write_plan(z, 30_000_000, hu, A)],
        [sizing.read_plan(z, hu.tables[0], hu, A)],
        sizing.glue_plan([sizing.write_plan(z, 30_000_000, hu, A)], hu, A),
        None,
        A,
    )
    s.cost = sizing.cost(s.writes, s.reads, s.sizes, s.glue, hu, A)
    text = dimensionamiento.recommendation(s, hu)
    assert text[0].startswith("Escritura: con load.write_share 0,5 (no mayor que el objetivo del autoescalado, 60 %)")
    warm = s.writes[0].recommended_write_max
    assert text[1].startswith(
        f"Calentamiento: para la ventana de carga se eleva la capacidad de escritura a {warm} WCU"
    )
    assert text[2].startswith(f"Escritura: subir el máximo a 1,{s.writes[0].recommended_write_max}")
    assert f"{s.glue.number_of_workers} workers" in text[4]


def test_demo_sizes_from_a_sample_of_the_results_zone(embedded):
    zone = DuckDBResultsZone(localenv.duckdb_path())
    conteo = {t.source: sizing.Counts(expected_items=99_000) for t in DEMO.tables}
    samples = sizing.draw_samples(zone, DEMO, 500)
    assert all(len(df) == 500 for df in samples.values())
    s = sizing.size(DEMO, conteo, samples, A)
    score = s.sizes[0]
    assert 100 < score.mean < 200 and score.max < 1024 and score.write_units_per_item == 1.0
    assert score.nulls_not_written > 0  # nullable columns are not written
    facts = dimensionamiento.facts(s, DEMO)
    assert facts.prices["date"] == A.prices.date and facts.glue.NumberOfWorkers >= 2
    plain = json.loads(facts.model_dump_json())  # facts must be plain JSON, and read back as they were written
    assert plain["write_plans"][score.source]["write_range"] == list(DEMO.capacity.write)
    assert dimensionamiento.Facts.model_validate(plain) == facts


def test_bad_inputs_are_clear(tmp_path, embedded):
    zone = DuckDBResultsZone(localenv.duckdb_path())
    samples = sizing.draw_samples(zone, DEMO, 50)
    with pytest.raises(sizing.SizingError, match="El conteo no tiene las tablas"):
        sizing.size(DEMO, {}, samples, A)
    with pytest.raises(sizing.SizingError, match="0 filas con clave válida"):
        sizing.write_plan(sizes(), 0, DEMO, A)
    prices = tmp_path / "p.yaml"
    prices.write_text("region: x\ndate: '2026-01-01'\nsource: s\nprices: {glue_dpu_hour: 0.44}\n")
    with pytest.raises(sizing.SizingError, match="dynamodb_provisioned_wcu_hour"):
        sizing.load_prices(prices)
    with pytest.raises(sizing.SizingError, match="no tiene filas con clave válida"):
        sizing.item_sizes(pd.DataFrame({"num_documento": [None], "fecha_corte": [1]}), DEMO.tables[0])


def test_a_hot_partition_key_bounds_the_load_whatever_the_capacity():
    hu = demo_with(load={"window_hours": 1, "write_share": 0.5})
    # 5 M rows under one partition key, 1 WCU each: 5 M / 1,000 WCU/s = 5,000 s at best
    plan = sizing.write_plan(sizes(wcu=1.0), 6_000_000, hu, A, max_items_per_key=5_000_000)
    assert plan.hot_key_hours == pytest.approx(5_000_000 / 1000 / 3600)
    assert plan.partition_limited and not plan.fits_window and plan.hours_with_scaling >= plan.hot_key_hours
    z = sizes(source=hu.tables[0].source)
    s = sizing.Sizing([z], [plan], [sizing.read_plan(z, hu.tables[0], hu, A)], sizing.glue_plan([plan], hu, A), None, A)
    s.cost = sizing.cost(s.writes, s.reads, s.sizes, s.glue, hu, A)
    assert any("ninguna capacidad la acelera" in t for t in dimensionamiento.recommendation(s, hu))
