"""pip users (pyproject.toml) and conda users (environment.yml) get the same dependencies."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_pip_section_equals_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1
    listed = {req for req in pip_sections[0] if not req.startswith("-e")}
    assert listed == declared
    assert "-e ." in pip_sections[0]
    python = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert python and project["requires-python"] == ">=" + python[0].split("=")[1]
