"""The project's copy of the HU contract stays what the code accepts, and the README stays short."""

import re
from pathlib import Path

import yaml

from productizar.core.hu import HU

ROOT = Path(__file__).resolve().parents[2]


def test_the_contract_example_in_docs_is_a_valid_hu_with_the_contract_names():
    text = (ROOT / "docs" / "hu-file.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    data = yaml.safe_load(example)
    hu = HU.model_validate(data)
    assert hu.id == 3575833 and hu.capacity.write == (1, 8000)
    assert set(data) == {"hu", "api", "team", "coordinator", "capacity", "tables"}
    assert hu.tables[0].names.dynamo_table == "dynamo-alter-ctra-score-delta-api"


def test_the_readme_opens_with_the_two_commands_and_stays_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert (lines[2], lines[5]) == ("```bash", "```")
    assert lines[3].startswith("make demo ") and lines[4].startswith("make test ")
    assert len(lines) <= 200
    for link in re.findall(r"\]\((docs/[^)]+)\)", "\n".join(lines)):
        assert (ROOT / link).is_file(), link


def test_no_file_of_the_project_cites_a_path_outside_the_repository():
    """The facts the code relies on live in ``docs/`` (``docs/backends.md``), not in a folder beside the clone."""
    import subprocess

    outside = re.compile("(" + r"\.\./|\b" + ")" + "shared/(notes|contracts|seed|hooks)")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    citing = []
    for name in tracked.splitlines():
        try:
            text = (ROOT / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        citing += [f"{name}:{n}" for n, line in enumerate(text.splitlines(), 1) if outside.search(line)]
    assert citing == []
