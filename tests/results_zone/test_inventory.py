"""Reading the inventory: packages, the last consecutive, the HU's rows, and the INSERT's quoting."""

from pathlib import Path

import pytest

from productizar.core import naming
from productizar.core.hu import load_hu
from productizar.results_zone import inventory
from productizar.results_zone.hivesql import hive_literal

DEMO = Path(__file__).resolve().parents[2] / "parameters" / "hu" / "demo.yaml"


@pytest.mark.parametrize(
    "package, counts_as, anomaly, seed_reading",
    [
        ("SQOOPDI1936", 1936, None, 1936),
        ("SQOOPME411", 411, None, 411),
        ("SQOOPME0042", 42, "ceros a la izquierda", 42),
        ("sqoopdi1950", 1950, "minúsculas", 1950),
        ("SQOOP2DI1500", None, "dígitos dentro del prefijo", 21500),
        ("SQOOPDI1890B2", None, "varios números", 18902),
        ("CARGA_MANUAL", None, "sin dígitos", None),
        ("PKG1999", None, "no sigue la forma", 1999),
        ("", None, "vacío", None),
    ],
)
def test_each_package_is_read_by_the_documented_rule(package, counts_as, anomaly, seed_reading):
    r = inventory.read_package(package)
    assert r.consecutive == counts_as
    assert r.seed_value == seed_reading
    assert (r.anomaly is None) if anomaly is None else (anomaly in r.anomaly)


def test_stray_packages_never_make_the_consecutive_jump():
    readings = [
        inventory.read_package(p)
        for p in ["SQOOPDI1936", "SQOOPDI1935", "SQOOP2DI1500", "SQOOPDI1890B2", "CARGA_MANUAL", "SQOOPME0042"]
    ]
    assert inventory.last_consecutive(readings) == 1936
    assert inventory.seed_rule_last(readings) == 21500  # what the runbook's query would have taken
    table = inventory.anomalies_table(readings)
    assert list(table["Paquete"]) == ["SQOOP2DI1500", "SQOOPDI1890B2", "CARGA_MANUAL", "SQOOPME0042"]
    assert inventory.last_consecutive([]) == 0


def test_a_padded_package_above_the_rest_still_counts():
    readings = [inventory.read_package(p) for p in ["SQOOPDI1936", "SQOOPDI01940"]]
    assert inventory.last_consecutive(readings) == 1940


def test_the_seeds_example_gives_the_seeds_codes():
    hu = load_hu(DEMO)
    spec = hu.tables[0]
    values = inventory.row_values(hu, spec, 1937, "/opt/prd")
    assert values["package"] == "SQOOPDI1937" == naming.package_code("DI", 1937)
    assert values["proceso"] == "SQPDI1937CRDCSD"
    assert values["origen_fuente"] == "Coordinador"
    assert values["semilla"] == "resultados_riesgos" and values["table_name"] == "alter_ctra_score_delta"
    assert values["data_folder"] == "/opt/prd/AlterCtraScoreDelta/API/cfg/alter_ctra_score_delta.json"
    assert values["solicita_ingestion"] == "analista@example.com"
    assert (values["dia_ejecucion"], values["hora_ejecucion"]) == ("1", "06:00")
    sql = inventory.insert_sql(values)
    assert sql.startswith(
        "INSERT INTO `resultados`.`inventario_lz` (package, table_name, semilla, proceso, "
        "origen_fuente, data_folder, periodicidad, descripcion, solicita_ingestion, "
        "dia_ejecucion, hora_ejecucion, prerrequisito) VALUES ('SQOOPDI1937', "
    )
    assert list(values) == list(inventory.COLUMNS)


@pytest.mark.parametrize(
    "value, literal",
    [
        ("plain", "'plain'"),
        ("O'Brien", r"'O\'Brien'"),
        ("a\\b", r"'a\\b'"),
        ("x');DROP TABLE t;--", r"'x\');DROP TABLE t;--'"),
        ("línea\nnueva", r"'línea\nnueva'"),
        (None, "NULL"),
    ],
)
def test_literals_are_quoted_for_hive(value, literal):
    assert hive_literal(value) == literal


def test_an_existing_reservation_is_found_only_with_its_own_codes():
    hu = load_hu(DEMO)
    spec = hu.tables[0]
    import pandas as pd

    good = inventory.row_values(hu, spec, 1950, "/opt/prd")
    other_app = dict(good, proceso="SQPDI1951CRDRSG", package="SQOOPDI1951")
    mismatched = dict(good, package="SQOOPDI1952")  # package and process numbers differ
    assert inventory.reservation_of(hu, spec, pd.DataFrame([other_app, mismatched])) is None
    assert inventory.reservation_of(hu, spec, pd.DataFrame([other_app, good]))["package"] == "SQOOPDI1950"


def test_the_latest_coordinators_are_ordered_by_consecutive_not_text():
    import pandas as pd

    rows = pd.DataFrame({"package": ["SQOOPME0042", "SQOOPDI1936", "CARGA_MANUAL", "SQOOPDI999", "SQOOPDI1937"]})
    got = inventory.latest_coordinators(rows, limit=4)
    assert list(got["package"]) == ["SQOOPDI1937", "SQOOPDI1936", "SQOOPDI999", "SQOOPME0042"]
