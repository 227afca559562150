"""The API against its tables: the reference API passes, a wrong or unreachable one is caught; the load-test
artefacts (key CSVs, the JMeter plan, a bounded Locust run) are complete."""

import io
import time
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from productizar.api import loadtest, smoke
from productizar.api import package as api_package
from productizar.cloud import aws
from productizar.core.environments import get_environment
from productizar.core.errors import ProductizarError, StepFailed
from productizar.core.hu import HU
from productizar.local import api as localapi
from productizar.run.endpoints import resolve
from productizar.steps import smoke as smoke_step

DEMO = Path(__file__).resolve().parents[2] / "parameters" / "hu" / "demo.yaml"
DATA = yaml.safe_load(DEMO.read_text(encoding="utf-8"))


def small_hu(suffix: str) -> HU:
    data = dict(DATA, api=dict(DATA["api"], name="PruebaHumo", slug="prueba-humo"))
    data["tables"] = [
        {
            "source": "zona.puntaje",
            "name_style": "lower",
            "partition_key": {"name": "doc", "type": "S"},
            "sort_key": {"name": "fecha", "type": "N"},
            "dynamo_table": f"humo-puntaje-{suffix}",
            "traffic": {"peak_rps": 30},
        },
        {
            "source": "zona.segmento",
            "name_style": "lower",
            "partition_key": {"name": "id", "type": "N"},
            "dynamo_table": f"humo-segmento-{suffix}",
            "traffic": {"peak_rps": 10},
        },
    ]
    return HU.model_validate(data)


@pytest.fixture(scope="module")
def tables(embedded):
    """Two small tables in the session's moto: one with a sort key, decimals and accents in the values."""
    env = resolve(get_environment("local"))
    client = aws.client(env, "dynamodb")
    hu = small_hu(str(int(time.time() * 1000)))
    a, b = hu.tables[0].names.dynamo_table, hu.tables[1].names.dynamo_table
    client.create_table(
        TableName=a,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "doc", "KeyType": "HASH"}, {"AttributeName": "fecha", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "doc", "AttributeType": "S"},
            {"AttributeName": "fecha", "AttributeType": "N"},
        ],
    )
    client.create_table(
        TableName=b,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
    )
    for i in range(15):
        for fecha in (20260131, 20260228):
            client.put_item(
                TableName=a,
                Item={
                    "doc": {"S": f"D{i:03d} ñ"},
                    "fecha": {"N": str(fecha)},
                    "puntaje": {"N": str(Decimal(i) / 7)[:10]},
                    "nombre": {"S": f"Peña {i}"},
                },
            )
        client.put_item(
            TableName=b, Item={"id": {"N": str(1000 + i)}, "segmento": {"S": "ORO"}, "saldo": {"N": "12.50"}}
        )
    return hu, client


def start(hu: HU, tmp_path: Path, patch=None) -> str:
    files = api_package.reference_files(hu)
    if patch:
        files = patch(files)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(f"{hu.api.name}/{name}", data)
    path = tmp_path / "api.zip"
    path.write_bytes(buf.getvalue())
    return localapi.start(hu, path, aws.process_environment(resolve(get_environment("local")))).base_url


@pytest.mark.usefixtures("embedded")
def test_the_reference_api_passes_every_call(tables, tmp_path):
    hu, client = tables
    result = smoke.run(hu, client, smoke.Client(start(hu, tmp_path), 10), per_table=5)
    assert result.ok, smoke.verdict(result)
    by_endpoint = {t.endpoint: t for t in result.tallies}
    assert by_endpoint["/prueba-humo/puntaje/{doc}/{fecha}"].calls == 5
    assert by_endpoint["/prueba-humo/puntaje/{doc}"].passed == 5
    assert [t.statuses for t in result.tallies if t.endpoint.startswith("clave")] == [{404: 1}, {404: 1}]
    assert all(t.percentile(95) is not None for t in result.tallies)
    assert smoke.facts(result)["verdict"] == "pass"


@pytest.mark.usefixtures("embedded")
def test_an_api_that_returns_a_wrong_attribute_is_caught(tables, tmp_path):
    hu, client = tables

    def floats(files):  # decimals as floats: 12.50 arrives as 12.5
        views = files["consultas/views.py"].replace(
            b"return int(v) if v == v.to_integral_value() else str(v)",
            b"return int(v) if v == v.to_integral_value() else float(v)",
        )
        return dict(files, **{"consultas/views.py": views})

    result = smoke.run(hu, client, smoke.Client(start(hu, tmp_path, floats), 10), per_table=5)
    assert not result.ok
    seg = next(t for t in result.tallies if t.endpoint == "/prueba-humo/segmento/{id}")
    assert seg.mismatches == 5 and "saldo: esperado '12.50', llegó 12.5" in seg.examples[0]
    with pytest.raises(StepFailed, match="El smoke test falló"):
        smoke_step.verdict(result)


@pytest.mark.usefixtures("embedded")
def test_an_api_that_cannot_reach_its_table_is_caught(tables, tmp_path):
    hu, client = tables

    def wrong_variable(files):  # the release sets DYNAMO_TABLE_..., the API reads another variable
        cfg = files["config.json"].replace(b"DYNAMO_TABLE_SEGMENTO", b"DYNAMO_TABLE_OTRA")
        return dict(files, **{"config.json": cfg})

    result = smoke.run(hu, client, smoke.Client(start(hu, tmp_path, wrong_variable), 10), per_table=3)
    seg = next(t for t in result.tallies if t.endpoint == "/prueba-humo/segmento/{id}")
    assert seg.statuses == {503: 3} and seg.passed == 0 and not result.ok
    assert "HTTP 503" in smoke.verdict(result)


# ----------------------------------------------------------------------------------------- load tests


def test_the_key_csvs_and_the_jmeter_plan_cover_every_table(tables, tmp_path):
    hu, client = tables
    csvs = loadtest.write_key_csvs(hu, client, tmp_path, per_table=50)
    lines = (tmp_path / "claves_puntaje.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "doc,fecha" and len(lines) == 31 and "D000 ñ,20260131" in lines
    assert (tmp_path / "claves_segmento.csv").read_text(encoding="utf-8").splitlines()[1].startswith("10")
    assert set(csvs) == {"zona.puntaje", "zona.segmento"}

    root = ET.fromstring(loadtest.jmx(hu))  # well-formed
    groups = root.findall(".//ThreadGroup")
    assert [g.get("testname") for g in groups] == [
        "puntaje · por clave",
        "puntaje · por clave y orden",
        "segmento · por clave",
    ]
    for g in groups:
        props = {p.get("name"): p.text for p in g}
        assert props["ThreadGroup.num_threads"] == "${__P(threads,10)}"
        assert props["ThreadGroup.ramp_time"] == "${__P(rampup,10)}"
        assert props["ThreadGroup.duration"] == "${__P(duration,60)}"
    files = [p.text for p in root.findall(".//CSVDataSet/stringProp[@name='filename']")]
    assert sorted(set(files)) == ["claves_puntaje.csv", "claves_segmento.csv"]
    names = [p.text for p in root.findall(".//CSVDataSet/stringProp[@name='variableNames']")]
    assert names == ["doc,fecha", "doc,fecha", "id"]
    defaults = {p.get("name"): p.text for p in root.find(".//ConfigTestElement")}
    assert (
        defaults["HTTPSampler.domain"] == "${__P(host,localhost)}"
        and defaults["HTTPSampler.port"] == "${__P(port,8000)}"
    )
    assert defaults["HTTPSampler.protocol"] == "${__P(protocol,http)}"
    paths = [p.text for p in root.findall(".//HTTPSamplerProxy/stringProp[@name='HTTPSampler.path']")]
    assert paths == [
        "/prueba-humo/puntaje/${__urlencode(${doc})}",
        "/prueba-humo/puntaje/${__urlencode(${doc})}/${__urlencode(${fecha})}",
        "/prueba-humo/segmento/${__urlencode(${id})}",
    ]
    assert [a.text for a in root.findall(".//DurationAssertion/stringProp")] == ["300"] * 3
    assert len(root.findall(".//ResponseAssertion")) == 3
    per_minute = [float(v.text) for v in root.findall(".//ConstantThroughputTimer/doubleProp/value")]
    assert sum(per_minute) == pytest.approx(40 * 60, abs=0.1)  # the HU's TPS (sum of peaks), per minute


@pytest.mark.usefixtures("embedded")
def test_a_locust_run_is_bounded_and_reports_percentiles(tables, tmp_path):
    hu, client = tables
    base = start(hu, tmp_path)
    loadtest.write_key_csvs(hu, client, tmp_path, per_table=20)
    (tmp_path / "locustfile.py").write_text(loadtest.locustfile(hu), encoding="utf-8")
    t0 = time.monotonic()
    run = loadtest.run_locust(tmp_path, base, users=2, spawn_rate=2, run_time_s=4)
    assert time.monotonic() - t0 < 60
    table = loadtest.results(run).set_index("Endpoint")
    assert set(table.index) == {
        "/prueba-humo/puntaje/{doc}",
        "/prueba-humo/puntaje/{doc}/{fecha}",
        "/prueba-humo/segmento/{id}",
        "Aggregated",
    }
    total = table.loc["Aggregated"]
    assert total["Solicitudes"] > 10 and total["Fallas"] == 0
    assert 0 < total["p50 ms"] <= total["p95 ms"] <= total["p99 ms"] and total["req/s"] > 0
    (ax,) = loadtest.plot(run, hu).axes
    assert ax.get_title() == "Prueba de carga local (Locust): percentiles por endpoint"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["límite p95 de la HU (300 ms)", "p50", "p95", "p99"]
    assert len(ax.patches) == 3 * 3  # a bar per percentile for each of the three endpoints
    assert loadtest.plot(None, hu) is None


def test_a_local_load_test_refuses_anything_but_loopback(tmp_path):
    with pytest.raises(ProductizarError, match="solo corre contra loopback"):
        loadtest.run_locust(tmp_path, "https://api-qa.example.internal")


@pytest.mark.server
def test_a_short_run_on_a_slow_api_still_calls_every_endpoint(tmp_path):
    """Each Locust user calls every endpoint once before its weighted tasks, the n-th user from the n-th
    endpoint. With weighted random choice alone, an endpoint of weight 10 against two of 5000 got no request in
    a run this short (about six requests), and its line was missing from the results."""
    import csv
    import http.server
    import threading

    hu = small_hu("lenta")
    hu = hu.model_copy(
        update={
            "tables": [
                hu.tables[0].model_copy(update={"traffic": hu.tables[0].traffic.model_copy(update={"peak_rps": 1000})}),
                hu.tables[1].model_copy(update={"traffic": hu.tables[1].traffic.model_copy(update={"peak_rps": 1})}),
            ]
        }
    )
    assert [round(w * 10) for w in loadtest.query_tps(hu).values()] == [5000, 5000, 10]  # the tasks' weights

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(1)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for spec, row in zip(hu.tables, (["D001", "20260131"], ["7"])):
            with open(tmp_path / loadtest.csv_name(spec), "w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerows([spec.key_names, row])
        (tmp_path / "locustfile.py").write_text(loadtest.locustfile(hu), encoding="utf-8")
        host = f"http://127.0.0.1:{server.server_port}"
        run = loadtest.run_locust(tmp_path, host, users=3, spawn_rate=3, run_time_s=2)
    finally:
        server.shutdown()
    table = loadtest.results(run).set_index("Endpoint")
    assert table.loc["/prueba-humo/segmento/{id}", "Solicitudes"] >= 1
    assert set(table.index) == {
        "/prueba-humo/puntaje/{doc}",
        "/prueba-humo/puntaje/{doc}/{fecha}",
        "/prueba-humo/segmento/{id}",
        "Aggregated",
    }
