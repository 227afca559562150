"""DynamoDB's capacity as the embedded endpoint models it, and the loader that rides it (issue 17).

The meter is tested on a virtual clock against AWS's documented rules; the endpoint and the loader on a real
moto server with the model in front, over HTTP, with a compressed clock where AWS waits minutes.
"""

import math
import socket
import threading
import time

import pytest
import yaml
from botocore.exceptions import ConnectionClosedError

from productizar.core.capacity import (
    READ,
    WRITE,
    CapacityRules,
    CapacityRulesError,
    item_size,
    load_rules,
    read_units,
    write_units,
)
from productizar.dynamo import warming
from productizar.dynamo.loader import BatchWriter, Controller, load_table, table_capacity
from productizar.dynamo.sizing import load_seconds_with_scaling
from productizar.local.capacity import Scaling, Settings, TableMeter
from tests.support import metered
from tests.support.crash import Crash, CrashAfter

RULES = CapacityRules()  # AWS's clock


def provisioned(wcu, rcu=5.0, scaling=None):
    return Settings(False, {WRITE: wcu, READ: rcu}, {}, scaling or {})


# ---------------------------------------------------------------------------------- the rules, pure


def test_units_follow_item_size_as_documented():
    assert write_units(1) == 1 and write_units(1024) == 1 and write_units(1025) == 2 and write_units(0) == 1
    assert read_units(4096, True) == 1 and read_units(4097, True) == 2 and read_units(4097, False) == 1
    item = {"id": {"S": "ab"}, "m": {"M": {"x": {"N": "12"}}}, "l": {"L": [{"BOOL": True}, {"NULL": True}]}}
    assert item_size(item) == (2 + 2) + (1 + 3 + 1 + 2) + (1 + 3 + 2 + 2)


def test_rules_come_from_the_sizing_file_and_say_so(tmp_path):
    rules = load_rules()
    assert (rules.burst_s, rules.partition_write_limit_wcu, rules.scale_up_delay_s) == (300, 1000, 120)
    assert rules.source == "parameters/sizing.yaml"
    bad = tmp_path / "sizing.yaml"
    bad.write_text(yaml.safe_dump({"capacity_model": {"burst": 1}}))
    with pytest.raises(CapacityRulesError, match=r"sizing.yaml: capacity_model: claves desconocidas: burst$"):
        load_rules(bad)


def test_unused_capacity_is_kept_as_burst_up_to_300_seconds():
    m = TableMeter(RULES, now=0.0)
    m.settle(provisioned(10), 0.0)
    m.settle(provisioned(10), 1000.0)  # 1000 s idle: only 300 s of it is kept
    taken = sum(m.admit_write(1, f"k{i}", 1000.0) for i in range(5000))
    assert taken == 10 * 300


def test_a_write_beyond_capacity_is_refused_and_capacity_refills():
    m = TableMeter(RULES, now=0.0)
    m.settle(provisioned(5), 0.0)
    assert sum(m.admit_write(1, f"k{i}", 0.0) for i in range(20)) == 5  # the first second's capacity
    m.settle(provisioned(5), 2.0)
    assert sum(m.admit_write(1, f"j{i}", 2.0) for i in range(20)) == 10


def test_one_partition_key_never_takes_more_than_1000_wcu_a_second():
    m = TableMeter(RULES, now=0.0)
    m.settle(provisioned(40_000), 0.0)
    assert sum(m.admit_write(1, "caliente", 0.0) for i in range(5000)) == 1000
    assert sum(m.admit_write(1, f"fria{i}", 0.0) for i in range(5000)) == 5000


def test_on_demand_serves_its_warm_throughput_then_double_its_peak():
    m = TableMeter(RULES, now=0.0)
    od = Settings(True, {}, {WRITE: 4000.0, READ: 12000.0}, {})
    m.settle(od, 0.0)
    assert m.capacity[WRITE] == 4000
    for second in range(120):  # two minutes at 3,000 WCU/s: the peak
        m.settle(od, float(second))
        assert sum(m.admit_write(1, f"{second}-{i}", float(second)) for i in range(3000)) == 3000
    m.settle(od, 121.0)
    assert m.capacity[WRITE] == pytest.approx(6000, rel=0.05)


def test_target_tracking_scales_up_after_two_minutes_above_target_and_down_after_fifteen_below():
    scaling = {WRITE: Scaling(10, 1000, 0.6)}
    m = TableMeter(RULES, now=0.0)
    capacity = 10.0
    seen = []
    for second in range(0, 1800):
        changes = m.settle(provisioned(capacity, scaling=scaling), float(second))
        capacity = changes.get(WRITE, capacity)
        seen.append(capacity)
        if second < 600:  # ten minutes at 90 % of whatever the table has, then nothing
            for i in range(int(0.9 * capacity)):
                m.admit_write(1, f"{second}-{i}", float(second))
    first_up = next(s for s, c in enumerate(seen) if c > 10)
    assert 120 <= first_up <= 180  # two datapoints of a minute above 60 %
    assert seen[first_up] == math.ceil(9 / 0.6)  # consumed / target
    top = max(seen)
    down = next(s for s, c in enumerate(seen) if s > 600 and c < top)
    assert 600 + 900 <= down <= 600 + 900 + 120  # fifteen minutes well below the target
    assert seen[-1] == 10  # back at the minimum, never below


def test_loads_at_warmed_capacity_given_back_in_their_minute_never_raise_the_table():
    """Target tracking weighs what a minute consumed against the capacity the table had in that minute: two
    loads a minute apart, each warmed to 8,000 WCU and given back to 1 WCU as it ends, used a fraction of what
    they had and raise nothing (read against the 1 WCU they were given back to, they looked 33 times over the
    target two minutes running, and the table rose to 56 WCU: the any-HU run failed its capacity check so)."""
    given_back = {WRITE: Scaling(1, 8000, 0.6)}
    m = TableMeter(RULES, now=0.0)
    seen = []
    for second in range(0, 400):
        if second in (10, 70):  # warmed: the target's minimum and the table raised at once, then 2,000 items
            m.settle(provisioned(8000, scaling={WRITE: Scaling(8000, 8000, 0.6)}), float(second))
            for i in range(2000):
                now = second + i / 4000
                m.settle(provisioned(8000, scaling={WRITE: Scaling(8000, 8000, 0.6)}), now)
                assert m.admit_write(1, i, now)
        seen.append(m.settle(provisioned(1, scaling=given_back), second + 0.6).get(WRITE, 1))
    assert set(seen) == {1}


def test_a_scalable_targets_minimum_applies_at_once():
    m = TableMeter(RULES, now=0.0)
    assert m.settle(provisioned(1, scaling={WRITE: Scaling(800, 8000, 0.6)}), 0.0) == {WRITE: 800}


def test_the_sizing_ramp_never_grows_when_the_share_is_not_above_the_target():
    assert load_seconds_with_scaling(1000, 1, 8000, 0.5, 0.6, 120) == pytest.approx(1000 / 0.5)
    assert load_seconds_with_scaling(1000, 1, 8000, 0.9, 0.6, 120) < 1000 / 0.9


def test_the_controller_never_asks_more_than_its_share_of_the_capacity_now():
    capacity = [warming_capacity(100)]
    c = Controller(0.5, lambda: capacity[0], refresh_s=0.0)
    assert c.rate == 50
    for _ in range(50):
        c.accepted()
        c.last_change = -1.0
    assert c.rate == 50  # raised while accepted, but never above the share
    capacity[0] = warming_capacity(10)
    c.acquire(0)
    assert c.rate == 5 and c.ceiling == 5
    c.throttled()
    assert c.rate == pytest.approx(3.5)


def warming_capacity(units):
    from productizar.dynamo.loader import Capacity

    return Capacity(units, False, units)


# ------------------------------------------------------------------------- the endpoint, over HTTP

SCALE = 20  # a minute of AWS's waiting takes 3 s
SCORE_KEYS = (("num_documento", "S"), ("fecha_corte", "N"))  # the demo's score table


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    with metered.server(tmp_path_factory.mktemp("metered") / "moto.log", SCALE) as u:
        yield u


def items(n, key=lambda i: f"c{i:06d}"):
    return [{"id": {"S": key(i)}, "n": {"N": str(i)}, "texto": {"S": "x" * 100}} for i in range(n)]


@pytest.mark.server
def test_the_endpoint_throttles_a_provisioned_table_and_reports_consumed_capacity(url):
    name = metered.table(url, wcu=10)
    ddb = metered.client(url)
    since = time.monotonic()  # the table's capacity counts from its first write, not from the loop below
    first = ddb.batch_write_item(
        RequestItems={name: [{"PutRequest": {"Item": i}} for i in items(25)]}, ReturnConsumedCapacity="TOTAL"
    )
    left = first.get("UnprocessedItems", {}).get(name, [])
    assert len(left) == 15  # 10 WCU: ten items of the first second, the rest back unprocessed
    assert first["ConsumedCapacity"] == [{"TableName": name, "CapacityUnits": 10.0}]
    t0, accepted, refused = time.monotonic(), 10, 0
    while time.monotonic() - t0 < 2:  # more than the table takes: some calls are refused whole
        try:
            r = ddb.batch_write_item(RequestItems={name: left})
            accepted += len(left) - len(r.get("UnprocessedItems", {}).get(name, []))
        except ddb.exceptions.ProvisionedThroughputExceededException:
            refused += 1
    assert refused > 0
    # its capacity a second since the first write, nothing more (a busy machine only makes the time longer)
    assert accepted <= 10 * (time.monotonic() - since) + 10
    big = {"id": {"S": "grande"}, "n": {"N": "1"}, "texto": {"S": "x" * 3000}}  # 3 KB: 3 units
    time.sleep(1.0)
    put = ddb.put_item(TableName=name, Item=big, ReturnConsumedCapacity="TOTAL")
    assert put["ConsumedCapacity"]["CapacityUnits"] == 3.0
    time.sleep(1.0)
    scan = ddb.scan(TableName=name, ReturnConsumedCapacity="TOTAL")  # the page's items summed, per 4 KB, halved
    size = sum(item_size(i) for i in scan["Items"])
    assert size > 4096 and scan["ConsumedCapacity"]["CapacityUnits"] == math.ceil(size / 4096) / 2


@pytest.mark.server
def test_the_loader_rides_throttling_to_the_last_item(url, small_zone):
    """Asked for 20 times what the table has, the loader backs off to what it accepts and loses nothing."""
    from tests.support.dynamo import spec_for

    name = metered.table(url, wcu=100, rcu=50, keys=SCORE_KEYS)
    spec = spec_for("resultados_riesgos.alter_ctra_score_delta", name)
    ddb = metered.client(url)
    r = load_table(small_zone, ddb, spec, rate_wcu=2000, workers=4, chunk_rows=500)
    assert r.throttles > 0 and r.items_written == 1995
    assert metered.count(url, name) == 1995
    assert r.consumed_wcu == pytest.approx(1995, abs=5)  # every item once: DynamoDB's own figure


class Dropping:
    """A TCP relay to the endpoint that cuts every ``every``-th request off, unanswered, with its connection."""

    def __init__(self, target: str, every: int):
        host, port = target.removeprefix("http://").split(":")
        self.target, self.every, self.seen, self.dropped = (host, int(port)), every, 0, 0
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            conn, _ = self.server.accept()
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    @staticmethod
    def _message(sock, buffered=b""):
        """One HTTP message (head and Content-Length body) from ``sock``; b"" when it closed."""
        data = buffered
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return b""
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")),
            0,
        )
        while len(body) < length:
            body += sock.recv(65536)
        return head + b"\r\n\r\n" + body

    def _relay(self, conn):
        upstream = socket.create_connection(self.target)
        try:
            while True:
                request = self._message(conn)
                if not request:
                    return
                with self.lock:
                    self.seen += 1
                    drop = self.seen % self.every == 0
                    self.dropped += drop
                if drop:  # the request reaches DynamoDB, its answer never comes back
                    upstream.sendall(request)
                    self._message(upstream)
                    return
                upstream.sendall(request)
                conn.sendall(self._message(upstream))
        except OSError:
            return
        finally:
            conn.close()
            upstream.close()


@pytest.mark.server
def test_a_dropped_connection_is_retried_and_no_item_is_lost(url):
    name = metered.table(url)  # on demand: only the connections fail
    relay = Dropping(url, every=7)
    ddb = metered.client(relay.url)
    writer = BatchWriter(ddb, name, Controller(None), stall_s=30)
    batch = items(2000)
    for i in range(0, len(batch), 25):
        writer.write(batch[i : i + 25])
    assert relay.dropped > 5 and writer.counters.connection_errors == relay.dropped
    assert metered.count(url, name) == 2000


@pytest.mark.server
def test_a_hot_partition_key_is_held_to_its_ceiling_and_still_lands(url):
    name = metered.table(url)  # on demand, 4,000 WCU at once: only the key's partition limits
    ddb = metered.client(url)
    hot = items(3000, key=lambda i: "caliente")
    controller = Controller(None)
    writer = BatchWriter(ddb, name, controller, stall_s=30)
    t0 = time.monotonic()
    for i in range(0, len(hot), 25):
        writer.write(hot[i : i + 25])
    seconds = time.monotonic() - t0
    assert writer.counters.throttles > 0
    assert seconds >= (3000 - 1000) / 1000 * 0.95  # one partition key: at most 1,000 WCU a second
    assert metered.count(url, name) == 3000


def test_the_loaders_client_makes_one_attempt_per_call():
    """botocore's retries["max_attempts"] counts retries, not attempts: a loader that counts and paces its
    own retries must not have a hidden one under it (the throttles it reports would be undercounted)."""
    from productizar.cloud import aws
    from productizar.core.environments import get_environment

    calls = []
    server = socket.create_server(("127.0.0.1", 0))

    def refuse():
        while True:
            conn, _ = server.accept()
            calls.append(conn.recv(65536))
            conn.close()

    threading.Thread(target=refuse, daemon=True).start()
    env = get_environment("local")
    env = env.model_copy(
        update={
            "aws": env.aws.model_copy(
                update={"endpoint": f"http://127.0.0.1:{server.getsockname()[1]}", "placeholder_credentials": True}
            )
        }
    )
    with pytest.raises(ConnectionClosedError):
        aws.client(env, "dynamodb", max_attempts=1).describe_table(TableName="x")
    assert len(calls) == 1


# ------------------------------------------------------------- autoscaling from the template, warming

TEMPLATE = """
Parameters:
  Capacidad: {Type: CommaDelimitedList, Default: "10,400"}
  Modo: {Type: String, Default: PROVISIONED}
Conditions:
  Aprovisionada: !Equals [!Ref Modo, PROVISIONED]
Resources:
  Tabla:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: %s
      BillingMode: PROVISIONED
      KeySchema: [{AttributeName: id, KeyType: HASH}, {AttributeName: n, KeyType: RANGE}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}, {AttributeName: n, AttributeType: N}]
      ProvisionedThroughput: {ReadCapacityUnits: 5, WriteCapacityUnits: !Select [0, !Ref Capacidad]}
  Objetivo:
    Type: AWS::ApplicationAutoScaling::ScalableTarget
    Condition: Aprovisionada
    Properties:
      ResourceId: !Sub table/${Tabla}
      ScalableDimension: dynamodb:table:WriteCapacityUnits
      MinCapacity: !Select [0, !Ref Capacidad]
      MaxCapacity: !Select [1, !Ref Capacidad]
      RoleARN: !Sub arn:aws:iam::${AWS::AccountId}:role/escalado
      ServiceNamespace: dynamodb
  Politica:
    Type: AWS::ApplicationAutoScaling::ScalingPolicy
    Condition: Aprovisionada
    Properties:
      PolicyName: politica-escritura
      PolicyType: TargetTrackingScaling
      ScalingTargetId: !Ref Objetivo
      TargetTrackingScalingPolicyConfiguration:
        TargetValue: 60
        PredefinedMetricSpecification: {PredefinedMetricType: DynamoDBWriteCapacityUtilization}
"""


def stack_table(url, capacity="10,400"):
    """A table whose autoscaling comes from a CloudFormation stack, as the runbook's template declares it."""
    name = f"escalada-{time.monotonic_ns() % 10**8}"
    cfn = metered.client(url, "cloudformation")
    cfn.create_stack(
        StackName=name,
        TemplateBody=TEMPLATE % name,
        Parameters=[{"ParameterKey": "Capacidad", "ParameterValue": capacity}],
    )
    return name


def write_target(url, name):
    aas = metered.client(url, "application-autoscaling")
    (t,) = aas.describe_scalable_targets(
        ServiceNamespace="dynamodb", ResourceIds=[f"table/{name}"], ScalableDimension=warming.DIMENSION[warming.WRITE]
    )["ScalableTargets"]
    return t["MinCapacity"], t["MaxCapacity"]


def wcu(url, name):
    return metered.client(url).describe_table(TableName=name)["Table"]["ProvisionedThroughput"]["WriteCapacityUnits"]


@pytest.mark.server
def test_autoscaling_comes_from_the_stacks_template_and_raises_the_table_during_a_load(tmp_path):
    scale = 30  # a minute of CloudWatch in 2 s (a batch of 25 units must come more often than that)
    with metered.server(tmp_path / "moto.log", scale) as url:
        name = stack_table(url, "30,600")
        assert write_target(url, name) == (30, 600)  # registered from the template: moto's CloudFormation skips it
        policies = metered.client(url, "application-autoscaling").describe_scaling_policies(
            ServiceNamespace="dynamodb", ResourceId=f"table/{name}"
        )["ScalingPolicies"]
        assert [p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] for p in policies] == [60.0]
        ddb = metered.client(url)
        writer_items = items(4000)
        controller = Controller(
            0.9,
            lambda: table_capacity(ddb, name),
            refresh_s=0.2,
        )
        writer = BatchWriter(ddb, name, controller, stall_s=30)
        t0 = time.monotonic()
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(writer.write, [writer_items[i : i + 25] for i in range(0, 4000, 25)]))
        measured = time.monotonic() - t0
        predicted = load_seconds_with_scaling(4000, 30, 600, 0.9, 0.6, 120 / scale)
        assert metered.count(url, name) == 4000
        assert wcu(url, name) >= 30 * 1.4**5  # target tracking raised it step by step
        assert 0.75 < measured / predicted < 1.35, (measured, predicted)


@pytest.mark.server
def test_warmed_capacity_is_given_back_when_the_load_fails(url, small_zone, tmp_path):
    from tests.support.dynamo import spec_for

    name = metered.table(url, wcu=5, keys=SCORE_KEYS)
    ddb, aas = metered.client(url), metered.client(url, "application-autoscaling")
    aas.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension=warming.DIMENSION[warming.WRITE],
        MinCapacity=5,
        MaxCapacity=100,
    )
    journal = warming.Journal(tmp_path / "warming")
    recorded = []
    spec = spec_for("resultados_riesgos.alter_ctra_score_delta", name)
    with pytest.raises(Crash):
        with warming.warmed(ddb, aas, name, warming.WRITE, 400, journal, record=recorded.append) as w:
            assert w.applied and wcu(url, name) == 400 and write_target(url, name) == (400, 400)
            load_table(small_zone, CrashAfter(ddb, 10), spec, share=0.5, workers=2, chunk_rows=300)
    assert write_target(url, name) == (5, 100) and wcu(url, name) == 5  # the template's values, at once
    assert journal.pending() == [] and recorded[0].restored
    assert "restituida a 5 WCU y el autoescalado a 5,100" in recorded[0].sentence()


@pytest.mark.server
def test_a_warming_left_by_a_killed_run_is_given_back_by_the_next(url, tmp_path):
    name = metered.table(url, wcu=5)
    ddb, aas = metered.client(url), metered.client(url, "application-autoscaling")
    journal = warming.Journal(tmp_path / "warming")
    raised = warming.apply(ddb, aas, warming.current(ddb, aas, name, warming.WRITE, 300))
    journal.record(raised)  # ... and the run is killed here, before its restore
    assert wcu(url, name) == 300
    (back,) = warming.restore_leftovers(ddb, aas, journal)
    assert back.restored and wcu(url, name) == 5 and journal.pending() == []
