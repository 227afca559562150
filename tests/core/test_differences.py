"""The expected differences between environments (parameters/drift.yaml): what the drift report calls
expected rather than drift, and the file held to its fields like every input file."""

import pytest

from productizar.core.differences import Expected, expected_for, load_expected
from productizar.core.problems import InputFileError


def test_the_projects_rules_expect_prds_larger_capacity_and_nothing_else_of_it():
    rules = load_expected()
    capacity = expected_for(rules, "tablas.dynamo-x-api.read_capacity", {"prd"})
    assert capacity is not None and capacity.why == "PRD tiene capacidades mayores"
    assert expected_for(rules, "tablas.dynamo-x-api.read_capacity", {"local-prd"}) is capacity
    # QA's capacity differing is drift: that rule names PRD (and its rehearsal) only
    assert expected_for(rules, "tablas.dynamo-x-api.read_capacity", {"qa"}) is None
    assert expected_for(rules, "tablas.dynamo-x-api.read_capacity", {"qa", "prd"}) is None
    # a rule without envs expects the difference anywhere; * stands for one part or more
    items = expected_for(rules, "tablas.dynamo-x-api.items", {"qa", "prd"})
    assert items is not None and items.field == "tablas.*.items"
    assert expected_for(rules, "tablas.dynamo-x-api.billing_mode", {"prd"}) is None


def test_the_first_rule_that_covers_a_difference_is_the_one_reported():
    rules = [
        Expected(field="stack.*", envs=["prd"], why="solo PRD"),
        Expected(field="stack.parameters.*", why="cualquiera"),
    ]
    found = [expected_for(rules, "stack.parameters.Environment", {env}) for env in ("prd", "dev")]
    assert [r.why if r else None for r in found] == ["solo PRD", "cualquiera"]


def test_a_rule_without_a_reason_or_with_an_unknown_field_names_file_line_and_field(tmp_path):
    path = tmp_path / "drift.yaml"
    path.write_text(
        "expected:\n  - field: tablas.*.items\n    why: válido\n  - field: api.*\n    porque: sin razón\n",
        encoding="utf-8",
    )
    with pytest.raises(InputFileError) as info:
        load_expected(path)
    shown = [p.render(str(path)) for p in info.value.problems]
    assert any(":4: expected[1].why:" in p for p in shown), shown
    assert any(":5: expected[1].porque:" in p for p in shown), shown
    assert len(shown) == 2, shown
