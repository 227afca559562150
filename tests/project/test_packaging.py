"""pip users (pyproject.toml) and conda users (environment.yml) get the same dependencies, the lock holds
them at the versions the tests passed with, and the environment is consistent."""

import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def test_environment_yml_pip_section_equals_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1
    listed = {req for req in pip_sections[0] if not req.startswith("-")}
    assert listed == declared
    assert "-e ." in pip_sections[0] and "-c constraints.txt" in pip_sections[0]  # conda users get the lock too
    python = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert python and project["requires-python"] == ">=" + python[0].split("=")[1]


def _locked(path: Path) -> dict[str, str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    pins = [line.split("==") for line in lines if line and not line.startswith("#")]
    return {canonicalize_name(name): version for name, version in pins}


def test_the_lock_pins_every_declared_dependency_within_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = _locked(ROOT / "constraints.txt")
    for text in project["dependencies"] + project["optional-dependencies"]["test"]:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} is declared but not in constraints.txt (make lock)"
        assert req.specifier.contains(locked[name], prereleases=True), f"{req.name}=={locked[name]} is outside {req}"
    assert "checkov" not in locked  # a scanner with heavy pins lives in its own environment
    tool = _locked(ROOT / "tools" / "checkov.lock")
    (pin,) = [line for line in (ROOT / "tools" / "checkov.txt").read_text().splitlines() if line.startswith("checkov")]
    assert tool["checkov"] == pin.split("==")[1]


def test_the_environment_the_tests_run_in_has_no_broken_requirement():
    proc = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
