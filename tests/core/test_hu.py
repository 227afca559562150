"""HU file validation: every problem at once, each with file, line and field path."""

from pathlib import Path

import pytest

from productizar.core.errors import InputFileError
from productizar.core.hu import load_hu

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "parameters" / "hu" / "demo.yaml"

GOOD_HEAD = """\
hu:
  id: 3575833
  title: Despliegue API Alter Ctra Score Delta
  slug: alter_ctra_score_delta
  requested_by: analista@example.com
api:
  name: AlterCtraScoreDelta
  slug: alter-ctra-score-delta
team:
  celula: DAIA15 - DRACARYS
  dependencia: Entorno Otros EVC
coordinator:
  periodicity: DI
  aplicativo: CSD
  execution_day: "1"
  execution_hour: "06:00"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hu.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InputFileError) as info:
        load_hu(path)
    return [p.render(str(path)) for p in info.value.problems]


def test_demo_hu_is_valid_and_has_the_three_shapes():
    hu = load_hu(DEMO)
    assert hu.id == 3575833 and len(hu.tables) >= 3
    assert any(t.sort_key and t.sort_key.type == "N" for t in hu.tables)
    assert any(t.sort_key is None for t in hu.tables)
    assert any(t.name_style == "lower" for t in hu.tables)
    assert hu.capacity.read == (1, 50) and hu.capacity.write == (1, 8000)


def test_every_problem_is_reported_with_line_and_field(tmp_path):
    path = write(
        tmp_path,
        GOOD_HEAD
        + """\
capacity:
  billing_mode: PROVISIONED
  read: [60, 50]
  write: [1, 8000]
tables:
  - source: resultados_riesgos.alter_ctra_score_delta
    partition_key: {name: num_documento, type: S}
    sort_key: {name: num_documento, type: N}
  - source: resultados_riesgos.otra
    partition_key: {name: id, type: S}
  - source: resultados_riesgos.tercera
    partition_key: {name: id, type: string}
  - source: resultados_riesgos.alter_ctra_score_delta
    partition_key: {name: id, type: S}
  - source: resultados_riesgos.tabla-con-guion
    partiton_key: {name: id, type: S}
""",
    )
    found = problems_of(path)
    expected = [
        f"{path}:19: capacity.read: the autoscaling minimum 60 is above the maximum 50",
        f'{path}:24: tables[0].sort_key.name: must differ from the partition key, both are "num_documento"',
        f'{path}:28: tables[2].partition_key.type: must be S or N, got "string"',
        f'{path}:29: tables[3].source: "resultados_riesgos.alter_ctra_score_delta" is already listed at tables[0]',
        f"{path}:31: tables[4].source: must be <zona_resultados>.<tabla> (letters, digits, _), "
        'got "resultados_riesgos.tabla-con-guion"',
    ]
    for line in expected:
        assert line in found, f"missing: {line}\nfound:\n" + "\n".join(found)
    unknown = [p for p in found if "tables[4].partiton_key" in p]
    assert unknown and "unknown field" in unknown[0] and "partition_key" in unknown[0]
    missing = [p for p in found if "tables[4].partition_key" in p]
    assert missing and "required field is missing" in missing[0]
    assert len(found) == 7


def test_unquoted_hour_and_bad_codes(tmp_path):
    # YAML 1.1 reads an unquoted 6:00 as the number 360
    text = GOOD_HEAD.replace('execution_hour: "06:00"', "execution_hour: 6:00").replace(
        "periodicity: DI", "periodicity: diario"
    )
    path = write(tmp_path, text + "tables:\n  - source: r.t\n    partition_key: {name: id, type: S}\n")
    found = "\n".join(problems_of(path))
    assert 'coordinator.execution_hour: write the hour in quotes, as "HH:MM" (YAML read it as the number 360)' in found
    assert "coordinator.periodicity: does not have the expected form" in found and '"diario"' in found


def test_names_that_cannot_form_ids_or_dynamo_tables(tmp_path):
    long_table = "t" * 260
    path = write(
        tmp_path,
        GOOD_HEAD
        + f"""\
tables:
  - source: r.{long_table}
    partition_key: {{name: id, type: S}}
  - source: r.a_bc
    name_style: lower
    partition_key: {{name: id, type: S}}
  - source: r.ab_c
    name_style: lower
    partition_key: {{name: id, type: S}}
    dynamo_table: "tabla con espacios"
  - source: s.ab_c
    name_style: lower
    partition_key: {{name: id, type: S}}
""",
    )
    found = "\n".join(problems_of(path))
    assert "tables[0].source: table name" in found and "cannot form CloudFormation logical IDs" in found
    assert "tables[2].source: its CloudFormation IDs (Dynamoabcapi) collide with those of tables[1]" in found
    assert "tables[2].dynamo_table: not a valid DynamoDB table name" in found
    assert "tables[3].source: its CloudFormation IDs (Dynamoabcapi) collide" in found


def test_duplicate_yaml_keys_and_missing_sections(tmp_path):
    path = write(tmp_path, "hu:\n  id: 1\n  id: 2\n  title: Tres\n  slug: s\n  requested_by: a@b.co\n")
    found = "\n".join(problems_of(path))
    assert f"{path}:3: hu.id: written twice; only the last would count" in found
    for section in ("api", "team", "coordinator", "tables"):
        assert f"{path}:1: {section}: required field is missing" in found


def test_yaml_syntax_error_points_at_the_line(tmp_path):
    path = write(tmp_path, GOOD_HEAD + "tables:\n  - source: [unclosed\n")
    (only,) = problems_of(path)
    assert only.startswith(f"{path}:") and "not valid YAML" in only


def test_id_must_be_a_positive_integer(tmp_path):
    path = write(
        tmp_path,
        GOOD_HEAD.replace("id: 3575833", 'id: "HU3575833"')
        + "tables:\n  - source: r.t\n    partition_key: {name: id, type: S}\n",
    )
    found = "\n".join(problems_of(path))
    assert f'{path}:2: hu.id: input should be a valid integer, got "HU3575833"' in found


def test_missing_file():
    with pytest.raises(InputFileError, match="file not found"):
        load_hu("parameters/hu/no-such-file.yaml")


def test_the_documents_and_nfr_sections_are_checked_field_by_field(tmp_path):
    text = (
        GOOD_HEAD
        + """\
nfr:
  p95_ms: -5
  local_load_s: 1
documents:
  ha: "HA3629938"
  manager: {name: Jefe, email: jefe-sin-arroba}
  contacts:
    - {role: Analista, name: Ana Pérez, email: ana@example.com, phone: "llamar"}
tables:
  - source: z.t
    partition_key: {name: id, type: S}
"""
    )
    got = problems_of(write(tmp_path, text))
    assert any(":18: nfr.p95_ms:" in p for p in got)
    assert any(":19: nfr.local_load_s:" in p for p in got)
    assert any(":21: documents.ha:" in p for p in got)
    assert any(":22: documents.manager.email:" in p for p in got)
    assert any(":24: documents.contacts[0].phone:" in p for p in got)
    assert len(got) == 5


def test_the_regression_hu_keeps_the_demos_shapes_and_its_tables_list_their_columns():
    """The small HU of the golden notebooks: the demo's three key shapes, columns typed as the demo's DDL,
    loaded warm, and marked so that the board leaves it out."""
    regression, demo = (
        load_hu(ROOT / "parameters" / "hu" / "regresion.yaml"),
        load_hu(ROOT / "parameters" / "hu" / "demo.yaml"),
    )
    assert regression.hu.regression and not demo.hu.regression
    assert [(t.partition_key, t.sort_key, t.name_style) for t in regression.tables] == [
        (t.partition_key, t.sort_key, t.name_style) for t in demo.tables
    ]
    assert regression.load.warm == "always"
    # its Locust run is short: it proves the scenario runs; the demo keeps the default's 15 s
    assert (regression.nfr.local_load_s, demo.nfr.local_load_s) == (3, 15)
    assert dict(regression.tables[0].column_types())["score"] == "DECIMAL(9,4)"


def test_a_table_that_lists_its_columns_can_key_a_load_test():
    """A table spec is a dict key (the load test's rates per query): its columns made it unhashable, and
    ``pruebas`` failed on any HU that listed them (``TypeError: unhashable type: 'list'``)."""
    from productizar.api.loadtest import query_tps

    hu = load_hu(ROOT / "parameters" / "hu" / "regresion.yaml")
    assert len({t: t.source for t in hu.tables}) == 3
    assert sum(query_tps(hu).values()) == pytest.approx(sum(t.traffic.peak_rps for t in hu.tables))
