"""Faults and hostile input (issue 16): each reproduced on a real moto server, DuckDB file or process, and held.

Every test here failed on the code before its fix.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from productizar.core.environments import get_environment, load_environments, write_mode
from productizar.core.errors import InputFileError, UsageError
from productizar.run.runner import Runner
from tests.support.crash import Crash, CrashAfter
from tests.support.dynamo import client, count_items, create_table
from tests.support.hu import demo_file_with

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "parameters" / "hu" / "demo.yaml"


def productizar(tmp_path: Path, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    full = dict(
        os.environ, PRODUCTIZAR_STATE_DIR=str(tmp_path / "state"), PRODUCTIZAR_OUTPUT_ROOT=str(tmp_path / "out")
    )
    return subprocess.run(
        [sys.executable, "-m", "productizar", *args],
        env=full | env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
    )


def environments_with(tmp_path: Path, **changes: dict) -> Path:
    """The repository's environments file with some environments' settings changed."""
    envs = yaml.safe_load((ROOT / "parameters" / "environments.yaml").read_text(encoding="utf-8"))
    for name, change in changes.items():
        envs[name] = envs[name] | change
    path = tmp_path / "environments.yaml"
    path.write_text(yaml.safe_dump(envs, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------- consent


def test_qa_and_prd_cannot_be_opened_by_the_environments_file(tmp_path):
    path = environments_with(tmp_path, prd={"safety": "open"}, qa={"safety": "open"})
    with pytest.raises(InputFileError) as info:
        load_environments(path)
    text = info.value.render()
    lines = path.read_text().splitlines()
    prd_line = next(i for i, line in enumerate(lines, 1) if line.startswith("prd:")) + 2  # description, safety
    assert lines[prd_line - 1].strip() == "safety: open"
    assert f"{path}:{prd_line}: prd.safety: must be confirm" in text and "qa.safety: must be confirm" in text


def test_prd_needs_the_confirmation_even_with_open_settings():
    """The rule is in code: settings that say open (built without the file) still give a dry run in prd."""
    opened = get_environment("prd").model_copy(update={"safety": "open"})
    assert write_mode(opened, 3575833, "", "prd").dry_run
    assert write_mode(opened, 3575833, "3575833", "prd").apply
    assert write_mode(opened, 3575833, "", "dev").apply


def test_a_confirmation_that_is_not_the_hu_id_runs_nothing(tmp_path):
    proc = productizar(tmp_path, "run", str(DEMO), "--env", "local", "--steps", "conteo", "--confirm", "3575834")
    assert proc.returncode == 2, proc.stderr
    assert "--confirm 3575834 is not the id of the HU" in proc.stderr and "(3575833)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "state").exists()
    with pytest.raises(UsageError):
        Runner(DEMO, "qa", ["conteo"], confirm="1234")


# ------------------------------------------------------------------------------------------- input files


def test_a_latin1_hu_file_is_a_problem_with_its_name_and_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    text = DEMO.read_text(encoding="utf-8")
    path.write_bytes(text.encode("latin-1"))  # "Jefa de Ejemplo Muñoz", as an editor on Windows saves it
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "Muñoz" in row)
    proc = productizar(tmp_path, "check", str(path))
    assert proc.returncode == 2, proc.stderr
    assert f"{path}:{line}: (file): not UTF-8" in proc.stderr and "save it as UTF-8" in proc.stderr
    assert "Traceback" not in proc.stderr
    envs = tmp_path / "environments.yaml"
    envs.write_bytes(
        (ROOT / "parameters" / "environments.yaml")
        .read_text(encoding="utf-8")
        .replace("predeterminado", "predeterminado año")
        .encode("latin-1")
    )
    proc = productizar(tmp_path, "run", str(DEMO), "--env", "local", PRODUCTIZAR_ENVIRONMENTS=str(envs))
    assert proc.returncode == 2 and f"{envs}:" in proc.stderr and "not UTF-8" in proc.stderr


ALIAS_BOMB = """\
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
hu: [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def test_an_alias_bomb_and_a_huge_file_are_refused_within_a_second(tmp_path):
    bomb = tmp_path / "bomba.yaml"
    bomb.write_text(ALIAS_BOMB, encoding="utf-8")
    proc = productizar(tmp_path, "check", str(bomb), timeout=60)
    assert proc.returncode == 2 and "aliases (*name) expand to more than 100,000 values" in proc.stderr
    import time

    from productizar.core.hu import load_hu

    t0 = time.monotonic()
    with pytest.raises(InputFileError, match="aliases"):
        load_hu(bomb)
    bomb_s = time.monotonic() - t0
    huge = tmp_path / "grande.yaml"
    huge.write_text(DEMO.read_text(encoding="utf-8") + "# relleno\n" * 4_000_000, encoding="utf-8")  # 40 MB
    t0 = time.monotonic()
    with pytest.raises(InputFileError, match="a parameter file has at most 262,144"):
        load_hu(huge)
    huge_s = time.monotonic() - t0
    print(f"alias bomb refused in {bomb_s:.3f} s, 40 MB file in {huge_s:.3f} s")
    assert bomb_s < 5 and huge_s < 5  # refused before parsing: expanding or parsing them takes minutes
    # one alias, used as YAML intends, still reads
    shared = tmp_path / "alias.yaml"
    shared.write_text(
        DEMO.read_text(encoding="utf-8")
        .replace(
            "traffic: {peak_rps: 40, consistency: eventual, items_per_request: 1}",
            "traffic: &t {peak_rps: 40, consistency: eventual, items_per_request: 1}",
        )
        .replace("traffic: {peak_rps: 15, consistency: strong, items_per_request: 1}", "traffic: *t"),
        encoding="utf-8",
    )
    assert load_hu(shared).tables[1].traffic.peak_rps == 40


# ------------------------------------------------------------------------------------------- paths in an HU


@pytest.mark.parametrize(
    "value, message",
    [
        ("~/.aws/credentials", "must be a path relative to the HU file's folder"),
        ("/root/.aws/credentials", "must be a path relative to the HU file's folder"),
        ("../../.aws/credentials.xlsx", 'must stay inside the HU file\'s folder (no "..")'),
        ("credentials", "must be the AHP matrix as an Excel workbook (.xlsx, .xlsm, .xls)"),
    ],
)
def test_an_hu_cannot_point_outside_its_folder(tmp_path, value, message):
    path = demo_file_with(tmp_path, "ahp_matrix: demo-matriz-ahp.xlsx", f"ahp_matrix: {value}")
    proc = productizar(tmp_path, "check", str(path))
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if "ahp_matrix" in row)
    assert proc.returncode == 2 and f"{path}:{line}: documents.ahp_matrix: {message}" in proc.stderr


def test_a_link_out_of_the_folder_and_a_file_of_the_wrong_kind_are_refused(tmp_path):
    from productizar.core.hu import HUFileError, hu_file

    secret = tmp_path / "home" / ".aws" / "credentials"
    secret.parent.mkdir(parents=True)
    secret.write_text("[default]\naws_secret_access_key = abcdefghijklmnopqrstuvwxyz0123456789ABCD\n")
    folder = tmp_path / "hu"
    folder.mkdir()
    (folder / "matriz.xlsx").symlink_to(secret)
    hu_path = folder / "hu.yaml"
    with pytest.raises(HUFileError, match="lleva fuera de la carpeta de la HU"):
        hu_file(hu_path, "matriz.xlsx", "documents.ahp_matrix")
    (folder / "falsa.xlsx").write_text("aws_secret_access_key = abcdefghijklmnopqrstuvwxyz0123456789ABCD\n")
    with pytest.raises(HUFileError, match="falsa.xlsx no es la matriz AHP en un libro de Excel"):
        hu_file(hu_path, "falsa.xlsx", "documents.ahp_matrix")
    (folder / "api.zip").write_text("not a zip")
    with pytest.raises(HUFileError, match="api.zip no es el proyecto Django entregado en un zip"):
        hu_file(hu_path, "api.zip", "api.package")
    real = ROOT / "parameters" / "hu" / "demo-matriz-ahp.xlsx"
    assert hu_file(DEMO, "demo-matriz-ahp.xlsx", "documents.ahp_matrix") == real


# ------------------------------------------------------------------------------------------- key columns


def _misnamed_keys():
    from productizar.core.hu import load_hu

    hu = load_hu(DEMO)
    tables = list(hu.tables)
    tables[0] = tables[0].model_copy(
        update={"partition_key": tables[0].partition_key.model_copy(update={"name": "documento"})}
    )
    tables[2] = tables[2].model_copy(
        update={"sort_key": tables[2].sort_key.model_copy(update={"name": "cod_producto"})}
    )
    return tables


def _assert_names_the_fields(zone):
    from productizar.core.errors import KeyColumnsMissing
    from productizar.results_zone.profile import count_tables

    with pytest.raises(KeyColumnsMissing) as info:
        count_tables(zone, _misnamed_keys())
    text = str(info.value)
    assert (
        "tables[0].partition_key.name: la tabla resultados_riesgos.alter_ctra_score_delta "
        "no tiene la columna «documento»" in text
    )
    assert "tables[2].sort_key.name:" in text and "«cod_producto»" in text
    assert "sus columnas son: num_documento, fecha_corte" in text  # the columns it does have, in table order
    assert "tables[1]" not in text


def test_a_key_column_the_table_lacks_names_the_hu_field_on_duckdb(embedded):
    from productizar.local import embedded
    from productizar.results_zone.duckdb import DuckDBResultsZone

    _assert_names_the_fields(DuckDBResultsZone(embedded.duckdb_path()))


@pytest.mark.hive
def test_a_key_column_the_table_lacks_names_the_hu_field_on_hive(hive_zone):
    _assert_names_the_fields(hive_zone)


# ------------------------------------------------------------------------------------------- loads


@pytest.mark.usefixtures("embedded")
def test_a_load_resumed_into_a_recreated_table_writes_every_item(small_zone, tmp_path):
    """Killed after some chunks, the table recreated (a stack rolled back and deployed again): the checkpoint
    belongs to the old table instance, so the load starts over and the table gets every item."""
    import uuid

    from productizar.core.hu import load_hu
    from productizar.dynamo.loader import Checkpoint, load_table, table_instance

    name = f"prueba-reanudar-{uuid.uuid4().hex[:8]}"
    spec = load_hu(DEMO).tables[0].model_copy(update={"dynamo_table": name})
    create_table(spec, name)

    def checkpoint():
        return Checkpoint(tmp_path / "cp.json", {"table": name, "instance": table_instance(client(), name)})

    def killed_load():
        with pytest.raises(Crash):
            load_table(
                small_zone,
                CrashAfter(client(), 30),
                spec,
                rate_wcu=None,
                workers=2,
                chunk_rows=300,
                checkpoint=checkpoint(),
            )

    killed_load()
    assert 0 < checkpoint().rows_done() < 2001
    # the same table: the load resumes, and its figures are those of the whole load
    resumed = load_table(small_zone, client(), spec, rate_wcu=None, workers=2, chunk_rows=300, checkpoint=checkpoint())
    assert resumed.resumed_from_row > 0
    assert (resumed.rows_read, resumed.refused, resumed.duplicates, resumed.items_written) == (2001, 5, 1, 1995)
    assert len(resumed.refused_examples) == 5 and count_items(name) == 1995

    # killed again, then the table deleted and created anew: nothing of the old checkpoint applies
    (tmp_path / "cp.json").unlink()
    killed_load()
    done_before = checkpoint().rows_done()
    client().delete_table(TableName=name)
    client().get_waiter("table_not_exists").wait(TableName=name)
    create_table(spec, name)
    fresh = checkpoint()
    after = load_table(small_zone, client(), spec, rate_wcu=None, workers=2, chunk_rows=300, checkpoint=fresh)
    print(f"killed after {done_before} rows; resumed into a recreated table: {count_items(name)} items of 1995")
    assert "cambió: instance" in fresh.note and after.resumed_from_row == 0
    assert after.items_written == 1995 and count_items(name) == 1995


@pytest.mark.usefixtures("embedded")
def test_an_item_over_400_kb_is_refused_by_name_and_the_load_goes_on(tmp_path):
    import uuid

    import duckdb

    from productizar.core.hu import TableSpec
    from productizar.dynamo.loader import load_table
    from productizar.results_zone.duckdb import DuckDBResultsZone

    path = tmp_path / "grande.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA r")
    con.execute(
        "CREATE TABLE r.t AS SELECT 'doc' || lpad(CAST(i AS VARCHAR), 5, '0') AS id, 'x' AS nota FROM range(3000) t(i)"
    )
    con.execute("UPDATE r.t SET nota = repeat('y', 420000) WHERE id = 'doc01234'")  # 410 KB: over the limit
    con.execute("UPDATE r.t SET nota = repeat('z', 399000) WHERE id = 'doc02000'")  # just under: loads
    con.close()
    name = f"prueba-grande-{uuid.uuid4().hex[:8]}"
    spec = TableSpec(source="r.t", partition_key={"name": "id", "type": "S"}, dynamo_table=name)
    create_table(spec, name)
    result = load_table(DuckDBResultsZone(path), client(), spec, rate_wcu=None, workers=2, chunk_rows=500)
    assert result.refused == 1 and result.items_written == 2999 and count_items(name) == 2999
    assert result.refused_examples == [
        "fila 1235: el ítem (id=doc01234) mide 410,2 KB, más que los 400 KB que DynamoDB admite"
    ]


# ------------------------------------------------------------------------------------------- the runner


def _notebooks_with(tmp_path: Path, name: str, *cells: str) -> Path:
    """The real step notebooks, with ``name`` replaced by one made of ``cells`` (after the parameters)."""
    import shutil

    import nbformat
    from nbformat.v4 import new_code_cell

    nbs = tmp_path / "nbs"
    shutil.copytree(ROOT / "notebooks", nbs, dirs_exist_ok=True)
    nb = nbformat.read(nbs / f"{name}.ipynb", as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    nb.cells = [params] + [new_code_cell(c) for c in cells]
    nbformat.write(nb, nbs / f"{name}.ipynb")
    return nbs


def _run(steps, notebooks=None, **kw):
    lines: list[str] = []
    from productizar.core import paths

    runner = Runner(DEMO, "local", steps, notebooks=notebooks or paths.notebooks_dir(), echo=lines.append, **kw)
    return runner.run(), lines


@pytest.mark.usefixtures("embedded")
def test_a_dead_kernel_is_a_recorded_failure_and_the_step_runs_again(tmp_path, monkeypatch):
    import json

    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))
    first, _ = _run(["conteo"])
    assert first.exit_code == 0
    out = first.output_dir
    killer = _notebooks_with(
        tmp_path,
        "conteo",
        "from productizar.run.step import start\npaso = start('conteo', hu_path, env, output_dir, confirm)",
        "paso.record({'a medias': True})\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    )
    dead, lines = _run(["conteo", "dimensionamiento"], notebooks=killer, force=True)
    assert dead.exit_code == 1, lines
    summary = json.loads((out / "summary.json").read_text())
    conteo, dimensionamiento = summary["steps"][0], summary["steps"][1]
    assert summary["status"] == "failed" and conteo["status"] == "failed"
    assert conteo["message"].startswith("el kernel del cuaderno murió") and conteo["fingerprint"] is None
    assert not (out / "facts" / "conteo.json").exists() and conteo["facts"] == {}
    assert dimensionamiento["status"] == "skipped" and "conteo" in dimensionamiento["message"]
    # the next run does not take it as "up to date": it runs conteo again, and dimensionamiento gets real facts
    again, lines = _run(["conteo", "dimensionamiento"])
    assert again.exit_code == 0 and not any("al día" in line for line in lines)
    assert json.loads((out / "facts" / "dimensionamiento.json").read_text())["write_plans"]


@pytest.mark.usefixtures("embedded")
def test_a_write_error_of_the_evidence_is_a_recorded_failure(tmp_path, monkeypatch):
    import json

    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))
    first, _ = _run(["conteo"])
    out = first.output_dir
    (out / "conteo.html").unlink()
    (out / "conteo.html").mkdir()  # the evidence cannot be written there: a real OSError, as a full disk gives
    failed, lines = _run(["conteo"], force=True)
    assert failed.exit_code == 1
    record = json.loads((out / "summary.json").read_text())["steps"][0]
    assert record["status"] == "failed" and "no se pudo escribir la evidencia" in record["message"]
    assert not (out / "facts" / "conteo.json").exists()


@pytest.mark.usefixtures("embedded")
def test_a_summary_that_says_ok_without_facts_is_not_up_to_date(tmp_path, monkeypatch):
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))
    first, _ = _run(["conteo"])
    (first.output_dir / "facts" / "conteo.json").unlink()  # as a run killed between the two writes leaves it
    again, lines = _run(["conteo"])
    assert again.exit_code == 0 and not any("al día" in line for line in lines)


# ------------------------------------------------------------------------------------------- concurrent runs


def _wait_for(predicate, timeout=60.0, what="condition"):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.usefixtures("embedded")
def test_a_second_run_of_the_same_hu_is_refused_and_a_killed_run_is_recorded(tmp_path, monkeypatch):
    """Run A (a real process, in a slow conteo) holds the lock: run B is refused naming A. A is killed
    with SIGKILL: its summary says conteo was running, the lock is free, and the next run runs conteo again."""
    import json
    import signal

    from productizar.run.lock import RunInProgress

    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))
    slow = _notebooks_with(
        tmp_path,
        "conteo",
        "from productizar.run.step import start\npaso = start('conteo', hu_path, env, output_dir, confirm)",
        "import time\ntime.sleep(120)",
    )
    code = (
        "import sys\nfrom pathlib import Path\nfrom productizar.run.runner import Runner\n"
        f"sys.exit(Runner(Path({str(DEMO)!r}), 'local', ['conteo'], notebooks=Path({str(slow)!r})).run().exit_code)"
    )
    a = subprocess.Popen(
        [sys.executable, "-c", code], env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out = tmp_path / "out" / "HU3575833" / "local"
    try:

        def a_is_running_conteo() -> bool:
            try:
                return json.loads((out / "summary.json").read_text())["steps"][0]["status"] == "running"
            except (OSError, ValueError, KeyError):
                return False

        _wait_for(a_is_running_conteo, what="run A to start conteo")
        with pytest.raises(RunInProgress) as info:
            _run(["conteo"])
        assert f"HU 3575833 in local is already being run by pid {a.pid}" in str(info.value)
        proc = productizar(tmp_path, "run", str(DEMO), "--env", "local", "--steps", "conteo")
        assert proc.returncode == 2 and f"pid {a.pid}" in proc.stderr and "nothing was run" in proc.stderr
    finally:
        a.send_signal(signal.SIGKILL)
        a.wait(timeout=30)
    record = json.loads((out / "summary.json").read_text())["steps"][0]
    assert record["status"] == "running" and record["fingerprint"] is None  # never a stale ok
    again, lines = _run(["conteo"])
    assert again.exit_code == 0 and not any("al día" in line for line in lines)


@pytest.mark.usefixtures("embedded")
def test_the_embedded_default_is_stopped_by_the_last_run_that_uses_it(tmp_path, monkeypatch):
    from productizar.local import embedded

    monkeypatch.setenv("PRODUCTIZAR_STATE_DIR", str(tmp_path / "state"))
    said: list[str] = []
    a, b = embedded.in_use(said.append), embedded.in_use(said.append)
    state_a = a.__enter__()  # run A finds it down and starts it
    state_b = b.__enter__()  # run B uses the same server
    assert state_a.pid == state_b.pid and state_a.owner == "run"
    # `productizar local down` refuses while a run uses it
    proc = productizar(tmp_path, "local", "down")
    assert proc.returncode == 1 and "a run is using the embedded default" in proc.stderr
    a.__exit__(None, None, None)  # A ends first: B still uses it
    assert embedded.running() is not None and "otra corrida lo está usando" in said[-1]
    b.__exit__(None, None, None)  # the last one out stops it
    assert embedded.running() is None and said[-1].startswith("se detuvo el entorno embebido")
    # one the analyst started (or took over with `local up`) stays up after every run
    with embedded.in_use(said.append):
        embedded.up()  # `productizar local up` while a run uses it
    try:
        assert embedded.running() is not None and embedded.running().owner == "user"
    finally:
        embedded.down()


@pytest.mark.usefixtures("embedded")
def test_concurrent_documentos_never_share_a_staging_folder_and_swap_one_at_a_time(tmp_path, monkeypatch):
    """Eight calls on four threads: each stages privately, then moves the earlier set aside and its own into
    place. Two calls swapping at once took each other's folder (a rename found nothing to move, or a non-empty
    folder in the way); a slow rename (a busy disk) and four calls starting together make the overlap certain.
    Every call must end whole, one after the other, and leave no staging behind."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from productizar.run.step import start
    from productizar.steps import documentos

    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))
    first, _ = _run(["conteo"])
    step = start("documentos", str(DEMO), "local", str(first.output_dir))
    rename, together = Path.rename, threading.Barrier(4, timeout=5)

    def slow_rename(self, target):
        time.sleep(0.2)
        return rename(self, target)

    def produce(_):
        try:
            together.wait()  # four calls start their sets at once
        except threading.BrokenBarrierError:
            pass
        return documentos.produce(step)

    monkeypatch.setattr(Path, "rename", slow_rename)
    with ThreadPoolExecutor(4) as pool:
        produced = list(pool.map(produce, range(8)))
    names = sorted(p.name for p in (first.output_dir / "documentos").iterdir())
    assert len(produced) == 8 and names == sorted(p.name for p in produced[0].files.values())
    assert not [p for p in first.output_dir.iterdir() if p.name.startswith(".documentos")]


# ------------------------------------------------------------------------------------------- secrets


def _parts(data: bytes, name: str, depth: int = 0):
    """The test's own reading of a file, independent of the scrubber's: zip members and e-mail parts decoded."""
    import email
    import email.policy
    import io
    import zipfile

    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                yield from _parts(zf.read(member), f"{name}!{member}", depth + 1)
        return
    if name.endswith(".eml"):
        msg = email.message_from_bytes(data, policy=email.policy.default)
        yield name, data.decode("utf-8", "replace")  # the raw message: base64 and quoted-printable as sent
        for part in msg.walk():
            if not part.is_multipart():
                yield from _parts(part.get_payload(decode=True) or b"", f"{name}!{part.get_filename() or 'cuerpo'}")
        return
    yield name, data.decode("utf-8", "replace")


def _found(text: str, secret: str) -> bool:
    import base64
    import html
    import re
    import urllib.parse

    joined = re.sub(r"=?\r?\n[ \t>]*|\\n", "", text)
    forms = {secret, html.escape(secret), html.escape(secret, quote=False), urllib.parse.quote(secret, safe="")}
    for k in range(3):  # the secret in a base64 stream, at each of the three alignments
        enc = base64.b64encode(b"\0" * k + secret.encode() + b"\0\0").decode()
        forms.add(enc[-(-8 * k // 6) : (8 * (k + len(secret))) // 6])
    return any(f in t for f in forms for t in (text, joined, html.unescape(text), urllib.parse.unquote(text)))


PLANTED = {
    "AWS_SECRET_ACCESS_KEY": "Zq9xW2vB7nK4mP1sT6yR3uE8" + "oA5cD0fG2hJ4/+Pl4nted",
    "PRODUCTIZAR_HIVE_PASSWORD": 'p&ss<w"rd-Pl4nted+/%x',
    "AZURE_DEVOPS_EXT_PAT": "pat" + "Pl4ntedValue0123456789abcdef",
    "SERVICE_APIKEY": "apikey" + "Pl4nted-9876543210",
}
KEY_ID = "AKIA" + "PL4NTEDTEST" + "00042"


def _hu_with_secrets(tmp_path: Path) -> Path:
    import shutil

    folder = tmp_path / "hu"
    folder.mkdir()
    shutil.copy(ROOT / "parameters" / "hu" / "demo-matriz-ahp.xlsx", folder)
    text = DEMO.read_text(encoding="utf-8")
    pw = PLANTED["PRODUCTIZAR_HIVE_PASSWORD"]
    # what an analyst might paste by mistake: the LDAP password in the title, a key id and the PAT in names
    text = text.replace("title: Despliegue API Alter Ctra Score Delta", f"title: 'Despliegue {pw} API'")
    text = text.replace("name: Líder Técnico Peña", f"name: Líder {KEY_ID}")
    text = text.replace("celula: DAIA15 - DRACARYS", f"celula: DAIA15 {PLANTED['AZURE_DEVOPS_EXT_PAT']}")
    text = text.replace("monitoring_hours: 24x7", f"monitoring_hours: 24x7 {PLANTED['SERVICE_APIKEY']}")
    path = folder / "hu.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.usefixtures("embedded")
def test_planted_secrets_reach_no_file_of_the_evidence(tmp_path, monkeypatch):
    """Four secrets in the environment, three of them also typed into HU fields, and an AWS key id: after
    conteo, infraestructura, api and documentos no file of any type holds any of them in any form."""
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))
    for name, value in PLANTED.items():
        monkeypatch.setenv(name, value)
    hu = _hu_with_secrets(tmp_path)
    lines: list[str] = []
    result = Runner(hu, "local", ["conteo", "infraestructura", "api", "documentos"], echo=lines.append).run()
    assert result.exit_code == 0, (lines, [s.message for s in result.steps])
    files = [p for p in result.output_dir.rglob("*") if p.is_file()]
    types = {p.suffix for p in files}
    assert types >= {".ipynb", ".html", ".json", ".xlsx", ".docx", ".eml", ".txt", ".csv", ".md", ".yaml", ".zip"}
    secrets = [*PLANTED.values(), KEY_ID]
    found = [
        (where, s[:6])
        for p in files
        for where, text in _parts(p.read_bytes(), p.name)
        for s in secrets
        if _found(text, s)
    ]
    parts = sum(1 for p in files for _ in _parts(p.read_bytes(), p.name))
    print(
        f"{len(secrets)} planted secrets x {len(types)} file types ({len(files)} files, {parts} text parts): "
        f"{len(found)} found"
    )
    assert found == []
    # the values were redacted where they stood, not dropped with their documents
    eml = (result.output_dir / "documentos" / "correo_monitoreo.eml").read_bytes()
    assert "«redactado»" in next(t for w, t in _parts(eml, "correo_monitoreo.eml") if "cuerpo" in w)


@pytest.mark.usefixtures("embedded")
def test_an_attachment_that_holds_a_secret_is_not_written(tmp_path, monkeypatch):
    import openpyxl

    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", PLANTED["AWS_SECRET_ACCESS_KEY"])
    hu = _hu_with_secrets(tmp_path)
    wb = openpyxl.Workbook()
    wb.active["B2"] = f"clave: {PLANTED['AWS_SECRET_ACCESS_KEY']}"  # the AHP matrix carries a pasted key
    wb.save(hu.parent / "demo-matriz-ahp.xlsx")
    result = Runner(hu, "local", ["conteo", "documentos"], echo=lambda line: None).run()
    documentos = next(s for s in result.steps if s.name == "documentos")
    assert result.exit_code == 1 and documentos.status == "failed"
    assert "No se escribe correo_excepcion_e2e.eml" in documentos.message
    assert "demo-matriz-ahp.xlsx" in documentos.message
    assert not (result.output_dir / "documentos").exists()  # the whole set, or none
    leaked = [
        p
        for p in result.output_dir.rglob("*")
        if p.is_file() and _found(p.read_bytes().decode("utf-8", "replace"), PLANTED["AWS_SECRET_ACCESS_KEY"])
    ]
    assert leaked == []


@pytest.mark.e2e
def test_a_runner_killed_mid_load_then_a_new_server_loads_every_item(tmp_path, monkeypatch):
    """The issue's own case: the runner is killed (SIGKILL) in the middle of carga, the embedded default is
    restarted (a new moto holds new, empty tables), and the next run loads every item of every table. On an HU
    of three seeded tables of 1.2·10⁴ rows (the loader's checkpoint follows chunks of 10⁴ rows: the first is
    whole, the table is not; the demo's 10⁵ proved nothing more, at eight times the cost)."""
    import json
    import signal

    from productizar.local import embedded

    env = dict(os.environ, PRODUCTIZAR_STATE_DIR=str(tmp_path / "state"), PRODUCTIZAR_OUTPUT_ROOT=str(tmp_path / "out"))
    monkeypatch.setenv("PRODUCTIZAR_STATE_DIR", env["PRODUCTIZAR_STATE_DIR"])
    hu = tmp_path / "carga.yaml"
    tables = [
        "resultados_riesgos.tabla_a:num_documento:S:fecha_corte:N",
        "resultados_riesgos.tabla_b:id_cliente:N",
        "resultados_comercial.tabla_c:num_documento:S:codigo:S:lower",
    ]
    drafted = [sys.executable, "-m", "productizar", "new", str(hu), "--hu-id", "3575899", "--api", "CargaCortada"]
    drafted += ["--rows", "12000"] + [a for t in tables for a in ("--table", t)]
    subprocess.run(drafted, env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    # reads from 100 units: verificacion's count is this test's proof, not a wait on autoscaling at 1 unit
    text = hu.read_text(encoding="utf-8")
    assert "  read: [1, 50] " in text
    hu.write_text(text.replace("  read: [1, 50] ", "  read: [100, 200] "), encoding="utf-8")
    seeded = [sys.executable, "-m", "productizar", "local", "seed", str(hu)]
    subprocess.run(seeded, env=env, check=True, capture_output=True)
    steps = "conteo,dimensionamiento,infraestructura,coordinadores,carga"
    cmd = [sys.executable, "-m", "productizar", "run", str(hu), "--env", "local", "--steps", steps]
    out = tmp_path / "out" / "HU3575899" / "local"
    checkpoint = out / ".state" / "carga" / "checkpoints" / "tabla_a.json"
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:

        def mid_load() -> bool:
            try:
                return json.loads(checkpoint.read_text())["result"]["rows_read"] >= 3_000
            except (OSError, ValueError, KeyError):
                return False

        _wait_for(mid_load, timeout=400, what="carga to pass 3,000 rows")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    killed_at = json.loads(checkpoint.read_text())["result"]["rows_read"]
    assert killed_at < 12_000  # killed before the first table was whole
    assert json.loads((out / "summary.json").read_text())["steps"][4]["status"] == "running"
    embedded.down()  # the killed run's server (new tables next time)
    again = subprocess.run(cmd[:-1] + [steps + ",verificacion"], env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stdout + again.stderr
    summary = {s["name"]: s for s in json.loads((out / "summary.json").read_text())["steps"]}
    loaded = summary["carga"]["facts"]["tables"]
    expected = {t: c["expected_items"] for t, c in summary["conteo"]["facts"]["tables"].items()}
    assert {t: r["items_written"] for t, r in loaded.items()} == expected
    assert sorted(expected.values()) == [11_991, 11_991, 11_994]  # the seed's planted null, empty and repeated keys
    assert all(r["resumed_from_row"] == 0 for r in loaded.values())
    counts = [c for c in summary["verificacion"]["facts"]["checks"] if c["key"] == "item_count"]
    assert len(counts) == 3 and {c["status"] for c in counts} == {"pass"}
    total = sum(r["items_written"] for r in loaded.values())
    print(f"killed after {killed_at:,} rows; after a new server: {total:,} items of {sum(expected.values()):,}")


@pytest.mark.usefixtures("embedded")
def test_a_summary_that_cannot_be_written_ends_in_a_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))
    first, _ = _run(["conteo"])
    summary = first.output_dir / "summary.json"
    summary.unlink()
    summary.mkdir()  # a real OSError where the summary goes
    result, _ = _run(["conteo"], force=True)
    assert result.exit_code == 1
    err = capsys.readouterr().err
    assert "no se puede escribir la evidencia en" in err and "Traceback" not in err


@pytest.mark.usefixtures("embedded")
def test_force_discards_what_a_step_kept_and_a_plain_run_keeps_it(tmp_path, monkeypatch):
    from productizar.run.evidence import state_dir

    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path / "out"))
    first, _ = _run(["conteo"])
    kept = state_dir(first.output_dir, "conteo") / "checkpoints" / "t.json"
    other = state_dir(first.output_dir, "carga") / "checkpoints" / "t.json"
    for path in (kept, other):
        path.parent.mkdir(parents=True)
        path.write_text("{}")
    _run(["conteo"], confirm="3575833")  # runs again (another input), not forced: its state stays
    assert kept.exists()
    _run(["conteo"], force=True)
    assert not kept.exists() and other.exists()  # only the state of the steps that ran is discarded
