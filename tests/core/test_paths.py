"""Where the checkout, the local state and the evidence live, and how paths are shown in the evidence."""

from pathlib import Path

from productizar.core import paths
from productizar.core.problem import Problem, format_loc
from productizar.core.problems import show_value

ROOT = Path(__file__).resolve().parents[2]


def test_the_folders_follow_their_variables_and_default_to_the_checkout(monkeypatch, tmp_path):
    assert paths.project_root() == ROOT
    monkeypatch.delenv("PRODUCTIZAR_STATE_DIR", raising=False)
    monkeypatch.delenv("PRODUCTIZAR_OUTPUT_ROOT", raising=False)
    assert paths.state_dir() == ROOT / ".productizar" / "local"
    assert paths.hu_output_dir(9000001, "local") == ROOT / "outputs" / "HU9000001" / "local"
    monkeypatch.setenv("PRODUCTIZAR_OUTPUT_ROOT", str(tmp_path))
    assert paths.hu_output_dir(1, "qa") == tmp_path / "HU1" / "qa"


def test_the_regression_hu_and_its_exports_sit_together():
    hu = paths.regression_hu()
    assert hu == ROOT / "parameters" / "hu" / "regresion.yaml" and hu.is_file()
    assert sorted(p.suffix for p in hu.with_suffix("").iterdir()) == [".csv", ".csv", ".parquet"]


def test_the_evidence_shows_paths_inside_the_checkout_relative_and_others_whole(tmp_path):
    assert paths.shown(ROOT / "parameters" / "hu" / "demo.yaml") == "parameters/hu/demo.yaml"
    assert paths.shown(tmp_path / "x.yaml") == str(tmp_path / "x.yaml")


def test_a_problem_names_its_file_line_and_field_path():
    problem = Problem(("tables", 2, "partition_key", "type"), 'must be S or N, got "number"', 29)
    assert problem.render("hu.yaml") == 'hu.yaml:29: tables[2].partition_key.type: must be S or N, got "number"'
    assert format_loc(()) == "(file)"
    assert [show_value(v) for v in ("x", None, True, 3)] == ['"x"', "nothing (null)", "true", "3"]
