"""The load-test builders: key CSVs, the JMeter plan and the Locust scenario, built on real DynamoDB keys.

Three products, as in "Pruebas especializadas" of the runbook:

* ``claves_<table>.csv``: a sample of real keys per table (what the team used to download by hand);
* ``pruebas_<api>.jmx``: the JMeter plan the team's pipeline runs. One thread group per query, a CSV Data
  Set per table, host, port, protocol, threads, ramp-up and duration as ``${__P(...)}`` properties (one plan
  for every environment), assertions on the status and on the HU's p95 limit, and a throughput timer at
  the HU's target TPS, shared by the tables as their peak traffic;
* the same scenario run here with Locust against the local reference API: headless, on loopback only,
  bounded in time and users, reported as p50/p95/p99 and throughput per endpoint with a latency plot.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from productizar.api.smoke import api_json, sample_items
from productizar.core import naming
from productizar.core.errors import ProductizarError
from productizar.core.files import write_text
from productizar.core.hu import HU, TableSpec

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEFAULT_PROPERTIES = {
    "protocol": "http",
    "host": "localhost",
    "port": "8000",
    "threads": "10",
    "rampup": "10",
    "duration": "60",
}


@dataclass(frozen=True)
class Query:
    """One endpoint under test: a table read by partition key, or by partition and sort key."""

    spec: TableSpec
    with_sort_key: bool

    @property
    def label(self) -> str:
        return "por clave y orden" if self.with_sort_key else "por clave"

    @property
    def name(self) -> str:
        return f"{self.spec.names.table} · {self.label}"

    def path(self, api_slug: str) -> str:
        s = self.spec
        return naming.endpoint_path(
            api_slug,
            s.names.table,
            s.partition_key.name,
            s.sort_key.name if self.with_sort_key and s.sort_key else None,
        )


def queries(hu: HU) -> list[Query]:
    out = []
    for t in hu.tables:
        out.append(Query(t, False))
        if t.sort_key:
            out.append(Query(t, True))
    return out


def csv_name(spec: TableSpec) -> str:
    return f"claves_{spec.names.table}.csv"


def target_tps(hu: HU) -> float:
    return hu.nfr.target_tps if hu.nfr.target_tps is not None else sum(t.traffic.peak_rps for t in hu.tables)


def query_tps(hu: HU) -> dict[Query, float]:
    """The HU's target TPS shared by the tables as their peak traffic, each table's share split by its queries."""
    qs = queries(hu)
    total_peak = sum(t.traffic.peak_rps for t in hu.tables) or len(hu.tables)
    out = {}
    for q in qs:
        n = sum(1 for x in qs if x.spec is q.spec)
        share = (q.spec.traffic.peak_rps or 1) / total_peak
        out[q] = target_tps(hu) * share / n
    return out


# ----------------------------------------------------------------------------------------- key CSVs


def key_rows(items: list[dict[str, Any]], spec: TableSpec) -> list[list[str]]:
    keys = spec.key_names
    return [[str(api_json(it[k])) for k in keys] for it in items if all(k in it for k in keys)]


def write_key_csvs(hu: HU, dynamo: Any, folder: Path, per_table: int = 200) -> dict[str, Path]:
    """``claves_<table>.csv`` per table: header with the key names, one sampled item's keys per row."""
    out = {}
    for spec in hu.tables:
        rows = key_rows(sample_items(dynamo, spec.names.dynamo_table, per_table), spec)
        if not rows:
            raise ProductizarError(
                f"{spec.names.dynamo_table} no tiene ítems: cargue la tabla antes de preparar las pruebas."
            )
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(spec.key_names)
        w.writerows(rows)
        out[spec.source] = write_text(folder / csv_name(spec), buf.getvalue())
    return out


# ----------------------------------------------------------------------------------------- JMeter plan


def _prop(parent: ET.Element, kind: str, name: str, value: Any) -> ET.Element:
    e = ET.SubElement(parent, kind, name=name)
    e.text = str(value).lower() if isinstance(value, bool) else str(value)
    return e


def _arguments(parent: ET.Element, name: str, guiclass: str, testname: str | None = None) -> ET.Element:
    """An empty arguments block: the plan's user variables, and the HTTP arguments JMeter expects on request
    defaults and on each sampler."""
    attrs = {"name": name, "elementType": "Arguments", "guiclass": guiclass, "testclass": "Arguments"}
    attrs |= {"testname": testname} if testname else {}
    args = ET.SubElement(parent, "elementProp", attrs | {"enabled": "true"})
    ET.SubElement(args, "collectionProp", name="Arguments.arguments")
    return args


def _no_arguments(parent: ET.Element) -> None:
    _arguments(parent, "HTTPsampler.Arguments", "HTTPArgumentsPanel")


def _p(name: str) -> str:
    return f"${{__P({name},{DEFAULT_PROPERTIES[name]})}}"


def jmx(hu: HU, p95_ms: int | None = None) -> str:
    """The JMeter test plan (JMeter 5 format) for every query of the HU."""
    p95 = p95_ms or hu.nfr.p95_ms
    root = ET.Element("jmeterTestPlan", version="1.2", properties="5.0", jmeter="5.6.3")
    top = ET.SubElement(root, "hashTree")
    plan = ET.SubElement(
        top,
        "TestPlan",
        guiclass="TestPlanGui",
        testclass="TestPlan",
        testname=f"Pruebas especializadas API {hu.api.name} (HU{hu.id})",
        enabled="true",
    )
    _prop(
        plan,
        "stringProp",
        "TestPlan.comments",
        "Generado por productizar. Propiedades: -Jprotocol -Jhost -Jport -Jthreads -Jrampup -Jduration.",
    )
    _prop(plan, "boolProp", "TestPlan.functional_mode", False)
    _prop(plan, "boolProp", "TestPlan.serialize_threadgroups", False)
    _arguments(plan, "TestPlan.user_defined_variables", "ArgumentsPanel", testname="Variables")
    body = ET.SubElement(top, "hashTree")

    defaults = ET.SubElement(
        body,
        "ConfigTestElement",
        guiclass="HttpDefaultsGui",
        testclass="ConfigTestElement",
        testname="Servidor del API",
        enabled="true",
    )
    _no_arguments(defaults)
    _prop(defaults, "stringProp", "HTTPSampler.protocol", _p("protocol"))
    _prop(defaults, "stringProp", "HTTPSampler.domain", _p("host"))
    _prop(defaults, "stringProp", "HTTPSampler.port", _p("port"))
    ET.SubElement(body, "hashTree")

    for q, tps in query_tps(hu).items():
        s = q.spec
        tg = ET.SubElement(
            body, "ThreadGroup", guiclass="ThreadGroupGui", testclass="ThreadGroup", testname=q.name, enabled="true"
        )
        _prop(tg, "stringProp", "ThreadGroup.on_sample_error", "continue")
        loop = ET.SubElement(
            tg,
            "elementProp",
            name="ThreadGroup.main_controller",
            elementType="LoopController",
            guiclass="LoopControlPanel",
            testclass="LoopController",
            enabled="true",
        )
        _prop(loop, "boolProp", "LoopController.continue_forever", False)
        _prop(loop, "intProp", "LoopController.loops", -1)
        _prop(tg, "stringProp", "ThreadGroup.num_threads", _p("threads"))
        _prop(tg, "stringProp", "ThreadGroup.ramp_time", _p("rampup"))
        _prop(tg, "boolProp", "ThreadGroup.scheduler", True)
        _prop(tg, "stringProp", "ThreadGroup.duration", _p("duration"))
        _prop(tg, "stringProp", "ThreadGroup.delay", "0")
        _prop(tg, "boolProp", "ThreadGroup.same_user_on_next_iteration", True)
        inner = ET.SubElement(body, "hashTree")

        data = ET.SubElement(
            inner,
            "CSVDataSet",
            guiclass="TestBeanGUI",
            testclass="CSVDataSet",
            testname=f"Claves de {s.names.table}",
            enabled="true",
        )
        for kind, name, value in (
            ("stringProp", "filename", csv_name(s)),
            ("stringProp", "fileEncoding", "UTF-8"),
            ("stringProp", "variableNames", ",".join(s.key_names)),
            ("boolProp", "ignoreFirstLine", True),
            ("stringProp", "delimiter", ","),
            ("boolProp", "quotedData", False),
            ("boolProp", "recycle", True),
            ("boolProp", "stopThread", False),
            ("stringProp", "shareMode", "shareMode.all"),
        ):
            _prop(data, kind, name, value)
        ET.SubElement(inner, "hashTree")

        timer = ET.SubElement(
            inner,
            "ConstantThroughputTimer",
            guiclass="TestBeanGUI",
            testclass="ConstantThroughputTimer",
            testname=f"{tps:.2f} TPS objetivo",
            enabled="true",
        )
        _prop(timer, "intProp", "calcMode", 2)  # all active threads in this thread group
        rate = ET.SubElement(timer, "doubleProp")  # samples per minute, in JMeter's doubleProp layout
        for tag, value in (("name", "throughput"), ("value", f"{tps * 60:.2f}"), ("savedValue", "0.0")):
            ET.SubElement(rate, tag).text = value
        ET.SubElement(inner, "hashTree")

        path = q.path(hu.api.slug)
        for key in s.key_names:  # each key URL-encoded by JMeter itself (a space or an ñ in a key)
            path = path.replace("{" + key + "}", "${__urlencode(${" + key + "})}")
        sampler = ET.SubElement(
            inner,
            "HTTPSamplerProxy",
            guiclass="HttpTestSampleGui",
            testclass="HTTPSamplerProxy",
            testname=f"GET {q.path(hu.api.slug)}",
            enabled="true",
        )
        _no_arguments(sampler)
        for kind, name, value in (
            ("stringProp", "HTTPSampler.path", path),
            ("stringProp", "HTTPSampler.method", "GET"),
            ("boolProp", "HTTPSampler.follow_redirects", False),
            ("boolProp", "HTTPSampler.use_keepalive", True),
        ):
            _prop(sampler, kind, name, value)
        checks = ET.SubElement(inner, "hashTree")
        status = ET.SubElement(
            checks,
            "ResponseAssertion",
            guiclass="AssertionGui",
            testclass="ResponseAssertion",
            testname="Código 200",
            enabled="true",
        )
        strings = ET.SubElement(status, "collectionProp", name="Asserion.test_strings")  # JMeter's own spelling
        _prop(strings, "stringProp", "49586", "200")
        _prop(status, "stringProp", "Assertion.test_field", "Assertion.response_code")
        _prop(status, "boolProp", "Assertion.assume_success", False)
        _prop(status, "intProp", "Assertion.test_type", 8)  # equals
        ET.SubElement(checks, "hashTree")
        if p95:
            dur = ET.SubElement(
                checks,
                "DurationAssertion",
                guiclass="DurationAssertionGui",
                testclass="DurationAssertion",
                testname=f"Latencia máxima {p95} ms (p95 de la HU)",
                enabled="true",
            )
            _prop(dur, "stringProp", "DurationAssertion.duration", p95)
            ET.SubElement(checks, "hashTree")

    listener = ET.SubElement(
        body,
        "ResultCollector",
        guiclass="SummaryReport",
        testclass="ResultCollector",
        testname="Resumen",
        enabled="true",
    )
    _prop(listener, "boolProp", "ResultCollector.error_logging", False)
    _prop(listener, "stringProp", "filename", "")
    ET.SubElement(body, "hashTree")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ----------------------------------------------------------------------------------------- Locust


def locustfile(hu: HU) -> str:
    """A Locust scenario with one task per query, weighted by the tables' peak traffic, keys from the CSVs.

    Each user first calls every endpoint once, the n-th user starting at the n-th endpoint: weighted random
    choice alone left an endpoint without a single request in a short run on a busy machine, and the
    results then had one line fewer."""
    lines = [
        '"""Locust scenario generated by productizar: the same queries as the JMeter plan, keys from the CSVs."""',
        "import csv",
        "import itertools",
        "import random",
        "from pathlib import Path",
        "from urllib.parse import quote",
        "",
        "from locust import HttpUser, constant, task",
        "",
        "HERE = Path(__file__).resolve().parent",
        "",
        "",
        "def keys(name):",
        '    with open(HERE / name, newline="", encoding="utf-8") as fh:',
        "        return list(csv.reader(fh))[1:]",
        "",
        "",
    ]
    for i, spec in enumerate(hu.tables):
        lines.append(f"K{i} = keys({csv_name(spec)!r})")
    endpoints = queries(hu)
    lines += ["STARTED = itertools.count()", "", "", "class Consultas(HttpUser):", "    wait_time = constant(0)", ""]
    lines += [
        "    def on_start(self):",
        "        # every endpoint once first, each user from another one: none is left out of a short run",
        f"        calls = [{', '.join(f'self.q{n}' for n in range(len(endpoints)))}]",
        "        first = next(STARTED) % len(calls)",
        "        for call in calls[first:] + calls[:first]:",
        "            call()",
        "",
    ]
    weights = query_tps(hu)
    for n, q in enumerate(endpoints):
        i = hu.tables.index(q.spec)
        weight = max(1, round(weights[q] * 10))
        url = f"/{hu.api.slug}/{q.spec.names.table}/" + "{quote(k[0], safe='')}"
        if q.with_sort_key:
            url += "/{quote(k[1], safe='')}"
        lines += [
            f"    @task({weight})",
            f"    def q{n}(self):",
            f"        k = random.choice(K{i})",
            f"        self.client.get(f{url!r}, name={q.path(hu.api.slug)!r})",
            "",
        ]
    return "\n".join(lines)


@dataclass
class LoadRun:
    stats: pd.DataFrame  # one row per endpoint plus "Aggregated"
    users: int
    run_time_s: int
    host: str


def run_locust(
    folder: Path, host: str, users: int = 8, spawn_rate: int = 4, run_time_s: int = 15, timeout_s: float = 180
) -> LoadRun:
    """Run ``locustfile.py`` in ``folder`` headless against a loopback host, bounded in time and users."""
    hostname = urllib.parse.urlparse(host).hostname
    if hostname not in LOOPBACK:
        raise ProductizarError(
            f"La prueba de carga local solo corre contra loopback; {host} no lo es. Las pruebas "
            "de DEV/QA/PRD las corre el pipeline con el plan .jmx."
        )
    prefix = folder / "locust"
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(folder / "locustfile.py"),
        "--headless",
        "--host",
        host,
        "-u",
        str(users),
        "-r",
        str(spawn_rate),
        "-t",
        f"{run_time_s}s",
        "--stop-timeout",
        "5",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "ERROR",
        "--exit-code-on-error",
        "0",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=folder)
    stats_file = Path(f"{prefix}_stats.csv")
    if done.returncode != 0 or not stats_file.exists():
        raise ProductizarError(f"Locust no terminó bien (código {done.returncode}): {done.stderr.strip()[-400:]}")
    return LoadRun(pd.read_csv(stats_file), users, run_time_s, host)


def results(run: LoadRun) -> pd.DataFrame:
    """Requests, failures, p50/p95/p99 (ms) and throughput per endpoint."""
    s = run.stats
    out = pd.DataFrame(
        {
            "Endpoint": s["Name"],
            "Solicitudes": s["Request Count"],
            "Fallas": s["Failure Count"],
            "p50 ms": s["50%"],
            "p95 ms": s["95%"],
            "p99 ms": s["99%"],
            "req/s": s["Requests/s"].round(1),
        }
    )
    return out


def summary_lines(run: LoadRun | None, hu: HU) -> list[str]:
    """The results as sentences (numbers that change run to run carry their unit); none without a run."""
    if run is None:
        return []
    r = results(run)
    lines = [f"Locust, {run.users} usuarios durante {run.run_time_s} s contra el API de referencia en loopback."]
    for row in r.to_dict("records"):
        lines.append(
            f"{row['Endpoint']}: {row['Solicitudes']} solicitudes, {row['Fallas']} fallas, "
            f"p50 {row['p50 ms']} ms, p95 {row['p95 ms']} ms, p99 {row['p99 ms']} ms, {row['req/s']} req/s"
        )
    if hu.nfr.p95_ms:
        total = r[r["Endpoint"] == "Aggregated"].iloc[0]
        lines.append(
            f"p95 total {total['p95 ms']} ms; límite de la HU {hu.nfr.p95_ms} ms. En local se mide el "
            "emulador (moto recorre la tabla en cada Query), no DynamoDB: la medida que cuenta es la del "
            "pipeline con el plan .jmx."
        )
    return lines


def plot(run: LoadRun | None, hu: HU) -> Any:
    """Bars of p50/p95/p99 per endpoint against the HU's p95 limit (None without a run)."""
    import matplotlib.pyplot as plt

    if run is None:
        return None
    r = results(run)
    r = r[r["Endpoint"] != "Aggregated"]
    fig, ax = plt.subplots(figsize=(9, 3.5))
    x = range(len(r))
    for off, col in ((-0.25, "p50 ms"), (0, "p95 ms"), (0.25, "p99 ms")):
        ax.bar([i + off for i in x], r[col], width=0.25, label=col.replace(" ms", ""))
    if hu.nfr.p95_ms:
        ax.axhline(hu.nfr.p95_ms, color="crimson", linestyle="--", label=f"límite p95 de la HU ({hu.nfr.p95_ms} ms)")
    ax.set_xticks(list(x))
    ax.set_xticklabels([e.split("/", 2)[-1] for e in r["Endpoint"]], rotation=15, ha="right", fontsize=8)
    ax.set_ylabel("latencia (ms)")
    ax.set_title("Prueba de carga local (Locust): percentiles por endpoint")
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.close(fig)
    return fig
