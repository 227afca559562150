"""Step ``smoke``'s own decisions: the headline counts the endpoints that answer what was loaded and names
empty tables, and the verdict fails the step when one call did not pass."""

from collections import Counter

import pytest

from productizar.api.smoke import SmokeResult, Tally
from productizar.core.errors import StepFailed
from productizar.steps import smoke


def tally(endpoint: str, calls: int, passed: int) -> Tally:
    return Tally("r.t", endpoint, calls, passed, calls - passed, Counter({200: calls}), [5.0] * calls)


def test_the_headline_counts_endpoints_that_answer_what_was_loaded_and_names_empty_tables():
    result = SmokeResult("http://127.0.0.1:1", [tally("/a/{k}", 3, 3), tally("/a/{k}/{s}", 3, 2)], ["r.vacia"])
    line = smoke.facts(result)["headline"]
    assert line["text"] == "1 de 2 endpoints responden lo cargado · tablas vacías: r.vacia"
    assert line["figures"] == {"endpoints que pasan": 1}


def test_a_call_that_did_not_pass_fails_the_step_and_a_clean_run_says_so():
    with pytest.raises(StepFailed, match=r"El smoke test falló \(1 de 3 llamadas con problemas\)"):
        smoke.verdict(SmokeResult("http://127.0.0.1:1", [tally("/a/{k}", 3, 2)], []))
    with pytest.raises(StepFailed, match="r.vacia: la tabla DynamoDB no tiene ítems; cargue antes de probar"):
        smoke.verdict(SmokeResult("http://127.0.0.1:1", [tally("/a/{k}", 3, 3)], ["r.vacia"]))
    said = smoke.verdict(SmokeResult("http://127.0.0.1:1", [tally("/a/{k}", 3, 3)], []))
    assert said == "El API responde en este entorno y lee sus tablas: 3 llamadas, todas correctas."
