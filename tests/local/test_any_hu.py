"""Issue 20: any HU on the embedded default. ``productizar new`` drafts an HU file, ``productizar local seed``
gives its tables rows (synthesized, or read from Hue/Hive exports), and the steps that need an optional
section are skipped with a sentence when the HU lacks it."""

import csv
import io
import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from productizar.cli import main
from productizar.core.hu import HU, load_hu
from productizar.local import demo_data, exports, seed
from productizar.local.synthetic import SynthesisError
from productizar.results_zone.duckdb import DuckDBResultsZone
from productizar.results_zone.profile import count_tables
from productizar.run.registry import STEPS, not_applicable, spec
from tests.support import exports as export_files
from tests.support.delivered import package as delivered_package

ROOT = Path(__file__).resolve().parents[2]
TABLES = [
    "resultados_riesgos.score_mora_30d:num_documento:S:fecha_corte:N",
    "resultados_comercial.cliente_digital2:id_cliente:N",
    "resultados_comercial.oferta_canal:codigo_oferta:S:canal:S:lower",
    "resultados_cartera.saldo_diario_v3:cuenta:N:dia:N",
]


def new_hu(path: Path, *extra: str) -> int:
    args = ["new", str(path), "--hu-id", "4102233", "--api", "ScoreMoraDigital"]
    for t in TABLES:
        args += ["--table", t]
    return main(args + list(extra))


# ------------------------------------------------------------------------------------------ productizar new


def test_new_writes_a_checked_hu_with_every_field_commented(tmp_path):
    path = tmp_path / "hu" / "mora.yaml"
    assert new_hu(path, "--requested-by", "ana.perez@example.com") == 0
    hu = load_hu(path)  # passes `productizar check` as written
    assert hu.id == 4102233 and hu.api.name == "ScoreMoraDigital" and hu.api.slug == "score-mora-digital"
    assert hu.hu.requested_by == "ana.perez@example.com"
    shapes = [
        (t.source, t.partition_key.type, t.sort_key.type if t.sort_key else None, t.name_style) for t in hu.tables
    ]
    assert shapes == [
        ("resultados_riesgos.score_mora_30d", "S", "N", "camel"),
        ("resultados_comercial.cliente_digital2", "N", None, "camel"),
        ("resultados_comercial.oferta_canal", "S", "S", "lower"),
        ("resultados_cartera.saldo_diario_v3", "N", "N", "camel"),
    ]
    assert [t.rows for t in hu.tables] == [10_000] * 4
    assert not hu.has_section("documents") and hu.has_section("nfr")
    text = path.read_text(encoding="utf-8")
    # every field of every section is written or shown commented, each with its Spanish comment
    inline = {"partition_key", "sort_key", "traffic", "sender", "manager", "contacts", "columns"}
    for section, field in HU.model_fields.items():
        assert any(line.lstrip("# ").startswith(f"{section}:") for line in text.splitlines()), section
        model = field.annotation
        if section == "tables" or not hasattr(model, "model_fields"):
            continue
        for sub in model.model_fields:
            lines = [ln for ln in text.splitlines() if ln.lstrip("# -").startswith(f"{sub}:")]
            assert lines, f"{section}.{sub} is not in the draft"
            assert sub in inline or all(ln.count("#") >= 1 + ln.lstrip().startswith("#") for ln in lines), (
                f"{section}.{sub} has no comment: {lines}"
            )
    for sub in ("source", "name_style", "partition_key", "sort_key", "rows", "dynamo_table", "traffic", "columns"):
        assert any(ln.lstrip("# -").startswith(f"{sub}:") and "#" in ln.lstrip("# -") for ln in text.splitlines()), sub


def test_new_without_a_terminal_names_the_missing_flags_and_writes_nothing(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "productizar", "new", "mi-hu.yaml", "--api", "ScoreMora"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "new needs --hu-id, --table when it cannot ask (no terminal)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_new_refuses_bad_answers_and_an_existing_file(tmp_path, capsys):
    path = tmp_path / "hu.yaml"
    assert main(["new", str(path), "--hu-id", "7", "--api", "Score", "--table", "a.b:c:S"]) == 2
    assert 'the API name must be CamelCase with two words at least (ScoreMora), got "Score"' in capsys.readouterr().err
    assert main(["new", str(path), "--hu-id", "7", "--api", "ScoreMora", "--table", "a.b:c:X"]) == 2
    assert 'the type of c must be S or N, got "X"' in capsys.readouterr().err
    assert main(["new", str(path), "--hu-id", "7", "--api", "ScoreMora", "--table", "tabla_sin_esquema:c:S"]) == 2
    assert "must be <zona_resultados>.<tabla>" in capsys.readouterr().err
    assert not path.exists()
    assert main(["new", str(path), "--hu-id", "7", "--api", "ScoreMora", "--table", "a.b:c:S"]) == 0
    before = path.read_bytes()
    assert main(["new", str(path), "--hu-id", "8", "--api", "ScoreMora", "--table", "a.b:c:S"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_new_asks_in_a_terminal_until_each_answer_is_valid(tmp_path):
    """A real pseudo-terminal: a wrong id, a wrong API name and a wrong table are each asked again."""
    answers = [
        "cuatro",
        "4102233",
        "scoremora",
        "ScoreMora",
        "resultados.x:id:Q",
        "resultados_riesgos.tabla_1:id:N",
        "",
    ]
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, with the terminal as its stdin and stdout
        os.chdir(tmp_path)
        os.execv(sys.executable, [sys.executable, "-m", "productizar", "new", "pregunta.yaml"])
    out = b""
    deadline = time.monotonic() + 60
    pending = list(answers)
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child ended and closed the terminal
                break
            if not chunk:
                break
            out += chunk
            if pending and out.rstrip().endswith(b":"):  # a prompt is waiting
                os.write(fd, (pending.pop(0) + "\n").encode())
    _, status = os.waitpid(pid, 0)
    text = out.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert 'the HU id is a positive whole number, got "cuatro"' in text
    assert 'got "scoremora"' in text and 'the type of id must be S or N, got "Q"' in text
    hu = load_hu(tmp_path / "pregunta.yaml")
    assert (hu.id, hu.api.name, [t.source for t in hu.tables]) == (4102233, "ScoreMora", ["resultados_riesgos.tabla_1"])


# ------------------------------------------------------------------------------------------ optional sections


def test_steps_without_their_optional_section_say_what_to_add(tmp_path):
    path = tmp_path / "mora.yaml"
    assert new_hu(path) == 0
    hu = load_hu(path)
    assert not_applicable(spec("pruebas"), hu, path) is None
    assert not_applicable(spec("documentos"), hu, path) == (
        "Falta la sección «documents» en mora.yaml: agréguela (ha, sender, manager, monitoring_to, contacts, "
        "ahp_matrix; vea el ejemplo de parameters/hu/demo.yaml) para generar los documentos de salida a PRD "
        "(monitoreo, excepción E2E, release)."
    )
    without_nfr = yaml.safe_load(path.read_text(encoding="utf-8"))
    del without_nfr["nfr"]
    (tmp_path / "sin-nfr.yaml").write_text(yaml.safe_dump(without_nfr, allow_unicode=True), encoding="utf-8")
    assert not_applicable(spec("pruebas"), load_hu(tmp_path / "sin-nfr.yaml"), tmp_path / "sin-nfr.yaml") == (
        "Falta la sección «nfr» en sin-nfr.yaml: agréguela (p95_ms, error_rate_pct, availability_pct y, si aplica, "
        "target_tps; vea el ejemplo de parameters/hu/demo.yaml) para preparar las pruebas de carga con sus "
        "aserciones (p95, tasa de error)."
    )
    demo = load_hu(ROOT / "parameters" / "hu" / "demo.yaml")
    assert all(not_applicable(spec(s), demo, ROOT / "demo.yaml") is None for s in ("pruebas", "documentos"))


# ------------------------------------------------------------------------------------------ seed: synthetic


@pytest.fixture
def mora(tmp_path) -> HU:
    path = tmp_path / "mora.yaml"
    assert new_hu(path) == 0
    return load_hu(path)


def test_seed_synthesizes_each_table_deterministically_with_real_defects(tmp_path, mora):
    first, second = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    seeded = seed.seed(mora, first)
    seed.seed(mora, second)
    assert [(s.source, s.rows) for s in seeded] == [(t.source, 10_000) for t in mora.tables]
    assert all("datos sintéticos, no reales" in s.origin for s in seeded)
    counts = {c.source: c for c in count_tables(DuckDBResultsZone(first), list(mora.tables))}
    # S partition key: 2 null and 2 empty keys, and a null sort key when there is one; N keys: only nulls
    assert [
        (c.rows, c.null_key_rows, c.duplicate_keys, c.duplicate_rows, c.expected_items) for c in counts.values()
    ] == [
        (10_000, 5, 4, 4, 9_991),
        (10_000, 2, 4, 4, 9_994),
        (10_000, 5, 4, 4, 9_991),
        (10_000, 3, 4, 4, 9_993),
    ]
    assert all(c.origin and c.origin.startswith("productizar local seed · datos sintéticos") for c in counts.values())
    with duckdb.connect(str(first)) as a, duckdb.connect(str(second)) as b:
        for t in mora.tables:
            query = f"SELECT * FROM {t.source} ORDER BY ALL"
            assert a.execute(query).fetchall() == b.execute(query).fetchall()
        types = a.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'resultados_riesgos' AND table_name = 'score_mora_30d' ORDER BY ordinal_position"
        ).fetchall()
    assert types == [
        ("num_documento", "VARCHAR"),
        ("fecha_corte", "BIGINT"),
        ("valor", "DECIMAL(12,2)"),
        ("categoria", "VARCHAR"),
        ("fecha_actualizacion", "TIMESTAMP"),
    ]


def test_seed_makes_the_columns_and_size_the_hu_describes(tmp_path):
    path = tmp_path / "hu.yaml"
    assert main(["new", str(path), "--hu-id", "9", "--api", "ScoreMora", "--table", "zona_a.t1:fecha:S:id:N"]) == 0
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["tables"][0] |= {
        "rows": 120,
        "columns": [
            {"name": "fecha", "type": "date"},
            {"name": "monto", "type": "DECIMAL(9,3)"},
            {"name": "activo", "type": "BOOLEAN"},
            {"name": "codigo", "type": "VARCHAR(3)"},
        ],
    }
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    hu = load_hu(path)
    zone = tmp_path / "z.duckdb"
    (s,) = seed.seed(hu, zone)
    assert s.columns == (
        ("fecha", "DATE"),
        ("id", "BIGINT"),
        ("monto", "DECIMAL(9,3)"),
        ("activo", "BOOLEAN"),
        ("codigo", "VARCHAR(3)"),
    )
    with duckdb.connect(str(zone)) as con:
        assert con.execute("SELECT count(*), count(DISTINCT fecha) FROM zona_a.t1").fetchone() == (120, 30)
        assert con.execute("SELECT max(length(codigo)) FROM zona_a.t1").fetchone()[0] <= 3


def test_a_table_that_cannot_be_made_leaves_the_zone_as_it_was(tmp_path, mora):
    raw = mora.model_dump(mode="json", exclude_unset=True)
    raw["tables"][3]["columns"] = [{"name": "cuenta", "type": "TINYINT"}]  # 10⁴ distinct keys cannot fit
    bad = HU.model_validate(raw)
    zone = tmp_path / "z.duckdb"
    with pytest.raises(SynthesisError, match="la clave cuenta es TINYINT: no caben 2.500 valores distintos"):
        seed.seed(bad, zone)
    with duckdb.connect(str(zone)) as con:
        assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,)


def test_seed_never_replaces_a_table_it_did_not_write_unless_asked(tmp_path):
    demo = load_hu(ROOT / "parameters" / "hu" / "demo.yaml")
    zone = tmp_path / "z.duckdb"
    with duckdb.connect(str(zone)) as con:
        con.execute("CREATE SCHEMA resultados_riesgos")
        con.execute("CREATE TABLE resultados_riesgos.alter_ctra_score_delta AS SELECT 1 AS num_documento")
    with pytest.raises(seed.SeedRefused, match="ya tiene resultados_riesgos.alter_ctra_score_delta, que no escribió"):
        seed.seed(demo, zone)
    with duckdb.connect(str(zone)) as con:
        assert con.execute("SELECT count(*) FROM resultados_riesgos.alter_ctra_score_delta").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (1,)
    seed.seed(demo, zone, replace=True)
    seed.seed(demo, zone)  # its own tables: seeded again without asking
    with duckdb.connect(str(zone)) as con:
        assert con.execute("SELECT count(*) FROM resultados_riesgos.alter_ctra_score_delta").fetchone() == (10_000,)


def test_ten_tables_of_every_shape_draft_check_and_seed(tmp_path):
    """Ten tables: S and N keys, with and without sort keys, both name styles, several schemas, digits."""
    specs = [
        f"{schema}.tabla_{i}_v{i * 7}:{pk}:{pkt}" + (f":{sk}:{skt}" if sk else "") + (":lower" if i % 3 == 0 else "")
        for i, (schema, pk, pkt, sk, skt) in enumerate(
            [
                ("resultados_riesgos", "num_documento", "S", "fecha_corte", "N"),
                ("resultados_riesgos", "id_cliente", "N", None, None),
                ("resultados_comercial", "codigo", "S", "canal", "S"),
                ("resultados_comercial", "cuenta", "N", "dia", "N"),
                ("resultados_cartera2", "nit", "S", None, None),
                ("resultados_cartera2", "id", "N", "codigo_2", "S"),
                ("zona_3", "llave", "S", "orden", "N"),
                ("zona_3", "k1", "N", None, None),
                ("zona_3", "documento", "S", "producto", "S"),
                ("resultados_riesgos", "cliente_id", "N", "fecha", "N"),
            ]
        )
    ]
    path = tmp_path / "diez.yaml"
    args = ["new", str(path), "--hu-id", "10", "--api", "DiezTablas", "--rows", "200"]
    assert main(args + [a for t in specs for a in ("--table", t)]) == 0
    hu = load_hu(path)
    assert len(hu.tables) == 10 and len({t.names.table_resource for t in hu.tables}) == 10
    assert [t.name_style for t in hu.tables].count("lower") == 4
    zone = tmp_path / "z.duckdb"
    seeded = seed.seed(hu, zone)
    counts = count_tables(DuckDBResultsZone(zone), list(hu.tables))
    assert [s.rows for s in seeded] == [c.rows for c in counts] == [200] * 10
    assert all(c.null_key_rows >= 2 and c.duplicate_keys == 4 for c in counts)


def test_seed_on_the_command_line_refuses_what_it_cannot_do(tmp_path, capsys):
    path = tmp_path / "hu.yaml"
    assert main(["new", str(path), "--hu-id", "9", "--api", "ScoreMora", "--table", "zona_a.t1:id:N"]) == 0
    capsys.readouterr()
    assert main(["local", "seed"]) == 2
    assert "local seed needs the HU file" in capsys.readouterr().err
    assert main(["local", "seed", str(path), "--env", "dev"]) == 2
    assert (
        "local seed writes only into an embedded results zone (local, local-dev, local-qa, local-prd); dev reads hive"
        in (capsys.readouterr().err)
    )
    assert main(["local", "status", str(path)]) == 2
    assert "local status takes no HU file or --from" in capsys.readouterr().err
    assert main(["local", "seed", str(path), "--from", str(tmp_path / "no-existe")]) == 2
    assert "no existe la carpeta con los archivos exportados" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ seed: exports


def _exports_of(mora: HU, synthetic: Path, folder: Path) -> dict[str, Path]:
    folder.mkdir()
    with duckdb.connect(str(synthetic), read_only=True) as con:
        s = [t.source for t in mora.tables]
        return {
            s[0]: export_files.hue_csv(con, s[0], folder),
            s[1]: export_files.excel_csv(con, s[1], folder),
            s[2]: export_files.parquet(con, s[2], folder),
            s[3]: export_files.parquet(con, s[3], folder),
        }


def test_seed_from_hue_excel_and_parquet_exports(tmp_path, mora):
    synthetic = tmp_path / "synthetic.duckdb"
    seed.seed(mora, synthetic)
    files = _exports_of(mora, synthetic, tmp_path / "exportados")
    # a document number with leading zeros, a value with the separator inside quotes, accents in Latin-1
    with duckdb.connect(str(synthetic)) as con:
        con.execute("UPDATE resultados_riesgos.score_mora_30d SET num_documento = '0012345678' WHERE rowid = 20")
        con.execute("UPDATE resultados_riesgos.score_mora_30d SET categoria = 'Pyme, Norte' WHERE rowid = 21")
        con.execute("UPDATE resultados_comercial.cliente_digital2 SET categoria = 'Gestión ñandú' WHERE rowid = 22")
    files = _exports_of(mora, synthetic, tmp_path / "exportados2")
    zone = tmp_path / "z.duckdb"
    seeded = {s.source: s for s in seed.seed(mora, zone, tmp_path / "exportados2")}
    assert {s: seeded[s].rows for s in seeded} == {s: 10_000 for s in files}
    hue, excel = (seeded[t.source] for t in mora.tables[:2])
    assert "(CSV UTF-8 con BOM, separador coma)" in hue.origin
    assert (
        "(CSV Windows-1252, separador punto y coma)" in excel.origin
        and "(Parquet)" in seeded[mora.tables[2].source].origin
    )
    assert dict(hue.columns) == {
        "num_documento": "STRING",
        "fecha_corte": "BIGINT",
        "valor": "DECIMAL(12,2)",  # the synthetic values span ten integer digits
        "categoria": "STRING",
        "fecha_actualizacion": "TIMESTAMP",
    }
    assert hue.decided == ("S key: kept as text", "inferred", "inferred", "inferred", "inferred")
    assert dict(excel.columns)["valor"] == "DECIMAL(12,2)" and dict(excel.columns)["id_cliente"] == "BIGINT"
    with duckdb.connect(str(zone)) as got, duckdb.connect(str(synthetic)) as want:
        for i, t in enumerate(mora.tables):  # every value as the results zone had it (nulls, decimals, dates, text)
            cols = ", ".join(f"CAST({c} AS VARCHAR)" for c, _ in t.column_types())
            # Excel writes a null as an empty cell, and an empty cell of a text column is read as Hive reads
            # it: an empty string (only NULL and \N are nulls)
            text = "coalesce(categoria, '')" if i == 1 else "categoria"
            query = (
                f"SELECT {cols}, CAST(valor AS VARCHAR), {text}, CAST(fecha_actualizacion AS VARCHAR) "
                f"FROM {t.source} ORDER BY ALL"
            )
            assert got.execute(query).fetchall() == want.execute(query).fetchall(), t.source
        empty = "SELECT count(*) FROM resultados_comercial.cliente_digital2 WHERE categoria = ''"
        nulls = "SELECT count(*) FROM resultados_comercial.cliente_digital2 WHERE categoria IS NULL"
        assert got.execute(empty).fetchone() == want.execute(nulls).fetchone() != (0,)
        assert got.execute(nulls).fetchone() == (0,)
        # Hue's NULL is a null, in text columns too
        assert (
            got.execute("SELECT count(*) FROM resultados_riesgos.score_mora_30d WHERE categoria IS NULL").fetchone()
            == want.execute("SELECT count(*) FROM resultados_riesgos.score_mora_30d WHERE categoria IS NULL").fetchone()
            != (0,)
        )
        assert got.execute(
            "SELECT count(*) FROM resultados_riesgos.score_mora_30d WHERE num_documento = '0012345678'"
        ).fetchone() == (1,)


def test_seed_from_names_every_missing_file_and_key_column_before_loading(tmp_path, mora):
    synthetic = tmp_path / "synthetic.duckdb"
    seed.seed(mora, synthetic)
    folder = tmp_path / "exportados"
    files = _exports_of(mora, synthetic, folder)
    files[mora.tables[3].source].unlink()
    hue = files[mora.tables[0].source]
    hue.write_bytes(hue.read_bytes().replace(b"score_mora_30d.fecha_corte", b"score_mora_30d.fecha", 1))
    zone = tmp_path / "z.duckdb"
    with pytest.raises(exports.ExportRefused) as refused:
        seed.seed(mora, zone, folder)
    assert refused.value.problems == [
        f"tables[3] resultados_cartera.saldo_diario_v3: falta el archivo resultados_cartera.saldo_diario_v3.csv o "
        f"resultados_cartera.saldo_diario_v3.parquet en {folder}",
        "resultados_riesgos.score_mora_30d.csv:1: falta la columna fecha_corte (tables[0].sort_key de la HU); el "
        "archivo trae: num_documento, fecha, valor, categoria, fecha_actualizacion",
    ]
    assert not zone.exists() or duckdb.connect(str(zone)).execute(
        "SELECT count(*) FROM duckdb_tables()"
    ).fetchone() == (0,)


def test_seed_from_refuses_unreadable_values_with_file_line_and_column(tmp_path, mora):
    folder = tmp_path / "exportados"
    folder.mkdir()
    one = mora.model_copy(update={"tables": [mora.tables[1]]})  # id_cliente, N
    path = folder / "resultados_comercial.cliente_digital2.csv"
    path.write_text(
        'id_cliente;valor;fecha\n101;1.234,50;01/02/2026\n"102";7,25;\nABC;3;05/02/2026\n104;2;31/02/2026\n105;9\n',
        encoding="cp1252",
    )
    with pytest.raises(exports.ExportRefused) as refused:
        seed.seed(one, tmp_path / "z.duckdb", folder)
    assert refused.value.problems == [
        "resultados_comercial.cliente_digital2.csv:6: tiene 2 campos y el encabezado 3 (¿separador punto y coma "
        "dentro de un valor sin comillas?)",
        "resultados_comercial.cliente_digital2.csv:4: columna id_cliente (DECIMAL(38,0)): «ABC» no es un número",
    ]
    path.write_text("id_cliente;valor;fecha\n101;1.234,50;01/02/2026\n102;7,25;\n103;3;05/02/2026\n", encoding="cp1252")
    (s,) = seed.seed(one, tmp_path / "z.duckdb", folder)
    assert s.columns == (("id_cliente", "BIGINT"), ("valor", "DECIMAL(6,2)"), ("fecha", "DATE"))
    with duckdb.connect(str(tmp_path / "z.duckdb")) as con:
        assert con.execute(
            "SELECT id_cliente, CAST(valor AS VARCHAR), CAST(fecha AS VARCHAR) "
            "FROM resultados_comercial.cliente_digital2 ORDER BY 1"
        ).fetchall() == [(101, "1234.50", "2026-02-01"), (102, "7.25", None), (103, "3.00", "2026-02-05")]


def test_declared_column_types_are_held_to_every_value(tmp_path):
    path = tmp_path / "hu.yaml"
    assert main(["new", str(path), "--hu-id", "9", "--api", "ScoreMora", "--table", "zona_a.t1:id:N"]) == 0
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["tables"][0]["columns"] = [{"name": "fecha", "type": "DATE"}, {"name": "monto", "type": "DECIMAL(5,2)"}]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    folder = tmp_path / "exportados"
    folder.mkdir()
    (folder / "zona_a.t1.csv").write_text(
        "id,fecha,monto\n1,2026-01-31,12.5\n2,2026-13-01,1234.567\n", encoding="utf-8"
    )
    with pytest.raises(exports.ExportRefused) as refused:
        seed.seed(load_hu(path), tmp_path / "z.duckdb", folder)
    assert refused.value.problems == [
        "zona_a.t1.csv:3: columna fecha (DATE): «2026-13-01» no es una fecha (aaaa-mm-dd o dd/mm/aaaa)",
        "zona_a.t1.csv:3: columna monto (DECIMAL(5,2)): «1234.567» no cabe en DECIMAL(5,2)",
    ]


# ------------------------------------------------------------------------------------------ end to end


def _cli(env: dict[str, str], cwd: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "productizar", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def _file_rows(path: Path) -> int:
    """A file's data rows, counted apart from the seed's reader: CSV records less the header, Parquet rows."""
    if path.suffix == ".parquet":
        with duckdb.connect() as con:
            return con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone()[0]
    text = path.read_bytes().decode("utf-8-sig" if path.read_bytes().startswith(b"\xef\xbb\xbf") else "cp1252")
    return sum(1 for _ in csv.reader(io.StringIO(text), delimiter=";" if ";" in text.split("\n", 1)[0] else ",")) - 1


def _steps(out: Path) -> dict[str, dict]:
    return {s["name"]: s for s in json.loads((out / "summary.json").read_text())["steps"]}


@pytest.mark.e2e
def test_a_new_hu_seeded_synthetic_then_from_exports_then_with_its_delivered_api(tmp_path):
    """As a new user: `new` with four tables of different shapes, `local seed`, `run` on local (every step
    passes, the paperwork skipped for its missing section); the same HU seeded from CSV and Parquet exports
    passes too, its counts equal to the files' rows; its delivered API with one endpoint broken fails smoke
    on that endpoint alone."""
    env = dict(os.environ, PRODUCTIZAR_STATE_DIR=str(tmp_path / "state"), PRODUCTIZAR_OUTPUT_ROOT=str(tmp_path / "out"))
    hu_path = tmp_path / "hu" / "mora.yaml"
    flags = [a for t in TABLES for a in ("--table", t)]
    proc = _cli(
        env, tmp_path, "new", str(hu_path), "--hu-id", "4102233", "--api", "ScoreMoraDigital", "--rows", "2000", *flags
    )
    assert proc.returncode == 0, proc.stderr
    # small tables load at the autoscaling minimum (1 WCU) unless warmed, and at 1 RCU the API reads two items
    # a second (DynamoDB's capacity is modelled on local): the analyst warms the load, sets a read minimum and
    # shortens the local load test
    text = hu_path.read_text(encoding="utf-8")
    assert "  # warm: auto " in text and "  read: [1, 50] " in text and "  # local_load_s: 15 " in text
    text = text.replace("  # warm: auto ", "  warm: always ").replace("  read: [1, 50] ", "  read: [10, 50]")
    text = text.replace("  # local_load_s: 15 ", "  local_load_s: 3 ")  # a short Locust run: it proves it runs
    hu_path.write_text(text, encoding="utf-8")
    proc = _cli(env, tmp_path, "local", "seed", str(hu_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("2,000 rows · productizar local seed · datos sintéticos") == 4
    assert _cli(env, tmp_path, "local", "up").returncode == 0  # kept up: the third run reads what the first loaded
    out = tmp_path / "out" / "HU4102233" / "local"
    try:
        proc = _cli(env, tmp_path, "run", str(hu_path), "--env", "local")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        steps = _steps(out)
        assert {n: s["status"] for n, s in steps.items()} == {
            n: "skipped" if n == "documentos" else "ok" for n in STEPS
        }
        assert steps["documentos"]["message"].startswith("Falta la sección «documents» en mora.yaml: agréguela")
        assert "[10/11] documentos       omitido: Falta la sección «documents»" in proc.stdout
        counted = steps["conteo"]["facts"]["tables"]
        assert all("datos sintéticos, no reales" in c["origin"] for c in counted.values())
        assert "datos sintéticos, no reales" in (out / "conteo.html").read_text(encoding="utf-8")
        checks = steps["verificacion"]["facts"]["checks"]
        assert {c["status"] for c in checks} == {"pass", "not_checkable"}
        assert len([c for c in checks if c["key"] == "item_count" and c["status"] == "pass"]) == 4
        assert all(e["calls"] == e["passed"] > 0 for e in steps["smoke"]["facts"]["endpoints"])

        # the same HU from Hue, Excel and Parquet exports: seeded again, every step runs again and passes
        folder = tmp_path / "exportados"
        zone = tmp_path / "state" / f"results_zone_v{demo_data.VERSION}.duckdb"  # the run's own state folder
        files = _exports_of(load_hu(hu_path), zone, folder)
        rows = {s: _file_rows(p) for s, p in files.items()}
        proc = _cli(env, tmp_path, "local", "seed", str(hu_path), "--from", str(folder))
        assert proc.returncode == 0, proc.stderr
        proc = _cli(env, tmp_path, "run", str(hu_path), "--env", "local")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "al día" not in proc.stdout
        steps = _steps(out)
        assert {n: s["status"] for n, s in steps.items()} == {
            n: "skipped" if n == "documentos" else "ok" for n in STEPS
        }
        counted = steps["conteo"]["facts"]["tables"]
        assert {s: c["rows"] for s, c in counted.items()} == rows == {s: 2000 for s in files}
        assert all(f"exportado de {files[s].name}" in c["origin"] for s, c in counted.items())

        # the delivered API, one table's key misnamed in its config.json: smoke fails on that table alone
        broken = "resultados_comercial.oferta_canal"
        delivered_package(load_hu(hu_path), hu_path.parent / "ScoreMoraDigital.zip", wrong_key_in=broken)
        entregado = hu_path.with_name("mora-entregado.yaml")
        entregado.write_text(
            hu_path.read_text(encoding="utf-8").replace(
                "  # package: ScoreMoraDigital.zip", "  package: ScoreMoraDigital.zip"
            ),
            encoding="utf-8",
        )
        proc = _cli(env, tmp_path, "run", str(entregado), "--env", "local", "--steps", "api,smoke")
        assert proc.returncode == 1, proc.stdout + proc.stderr
        steps = _steps(out)
        assert (steps["api"]["status"], steps["smoke"]["status"]) == ("ok", "failed")
        assert steps["api"]["facts"]["reference_api"] is False
        problems = steps["smoke"]["message"].splitlines()
        assert problems[0].startswith("StepFailed: El smoke test falló (")
        assert len(problems) > 1 and all(p.startswith(broken) for p in problems[1:])
        assert "ValidationException" in steps["smoke"]["message"]
        html = (out / "smoke.html").read_text(encoding="utf-8")
        table = next(t for t in pd.read_html(io.StringIO(html)) if "Correctas" in t.columns)
        good = table[table["Tabla"] != broken]
        # per table its endpoints and the unknown key (404): 3 + 2 + 3 + 3 rows, the broken table's 3 failing
        assert len(good) == 8 and (good["Llamadas"] == good["Correctas"]).all() and (good["Llamadas"] > 0).all()
        assert len(table[table["Tabla"] == broken]) == 3 and (table[table["Tabla"] == broken]["Correctas"] == 0).all()
    finally:
        _cli(env, tmp_path, "local", "down")
