"""Coordinator configs: one per table, valid against the schema kept in the repository."""

import json
from pathlib import Path

import pytest

from productizar.cloud import coordinators
from productizar.core.errors import ProductizarError
from productizar.core.hu import load_hu

ROOT = Path(__file__).resolve().parents[2]
DEMO = load_hu(ROOT / "parameters" / "hu" / "demo.yaml")


def test_files_land_as_in_the_coordinators_repository(tmp_path):
    written = coordinators.write_all(DEMO, tmp_path)
    rel = sorted(str(f.relative_to(written.folder)) for f in written.files)
    assert rel == sorted(
        [
            "AlterCtraScoreDelta/API/cfg/alter_ctra_score_delta.json",
            "AlterCtraScoreDelta/API/cfg/alter_ctra_segmento_cliente.json",
            "AlterCtraScoreDelta/API/cfg/alter_ctra_oferta_producto.json",
            "AlterCtraScoreDelta/TMP_FILES/logs/test.txt",
        ]
    )
    cfg = json.loads((written.folder / "AlterCtraScoreDelta/API/cfg/alter_ctra_score_delta.json").read_text())
    assert cfg["source"] == {"zone": "resultados_riesgos", "table": "alter_ctra_score_delta"}
    assert cfg["target"]["sort_key"] == {"name": "fecha_corte", "type": "N"}
    assert cfg["environments"]["qa"]["config"] == (
        "/opt/gitDevops/AW1003001_ProductizarLaAnalitica/AlterCtraScoreDelta/API/cfg/alter_ctra_score_delta.json"
    )
    assert (
        cfg["environments"]["dev"]["logs"] == "/opt/gitDevops/ProductizarLaAnalitica/AlterCtraScoreDelta/TMP_FILES/logs"
    )
    assert (written.folder / "AlterCtraScoreDelta/TMP_FILES/logs/test.txt").read_text() == ""


def test_an_invalid_config_is_refused_with_its_path(tmp_path):
    cfg = coordinators.config(DEMO, DEMO.tables[0])
    cfg["coordinator"]["execution_hour"] = "6am"
    cfg["target"]["partition_key"]["type"] = "X"
    with pytest.raises(ProductizarError) as info:
        coordinators.validate(cfg, "x.json")
    assert "coordinator/execution_hour" in str(info.value) and "target/partition_key/type" in str(info.value)


def test_commands_per_environment():
    rows = coordinators.commands(DEMO)
    text = "\n".join(rows["Comando o ruta"])
    assert "mkdir -p /data01/Cloud/TMP_FILES/AlterCtraScoreDelta" in text
    assert (
        "cd /opt/gitDevops/ProductizarLaAnalitica/ProductizarPy3 && nohup python3 coordinatorV2.py "
        "/opt/gitDevops/ProductizarLaAnalitica/AlterCtraScoreDelta/API/cfg/alter_ctra_score_delta.json &"
    ) in text
    assert set(rows["Ambiente"]) == {"DEV", "CER (QA)"}
