"""jsonschema's IRI grammar is built on first use, not when the runner imports nbformat, and checks as before."""

import subprocess
import sys

from productizar.core import deferred

CHECK = """
import sys
from productizar.core import deferred
deferred.install()
import jsonschema, papermill  # what `productizar run` imports
built = "rfc3987_syntax.syntax_helpers" in sys.modules or "lark" in sys.modules
checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
good = checker.conforms("https://example.com/señal?año=2026", "iri")
bad = checker.conforms("http://exa mple.com/[", "iri")
reference = checker.conforms("../otro/ñandú", "iri-reference")
print(built, good, bad, reference, "rfc3987_syntax.syntax_helpers" in sys.modules)
"""


def _run(code: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_the_iri_grammar_waits_for_its_first_check_and_then_checks_as_before():
    # not built by the imports; a good IRI conforms, a bad one does not, and the grammar is built by then
    assert _run(CHECK) == ["False", "True", "False", "True", "True"]
    # without the stand-in importing builds the grammar (what it saves), and the answers are the same
    assert _run(CHECK.replace("deferred.install()", "")) == ["True", "True", "False", "True", "True"]


def test_install_is_idempotent_and_leaves_an_imported_module_alone(monkeypatch):
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.delitem(sys.modules, deferred.DEFERRED, raising=False)
    deferred.install()
    deferred.install()
    stand_ins = [f for f in sys.meta_path if type(f).__name__ == "_StandIn"]
    assert len(stand_ins) == 1 and sys.meta_path[0] is stand_ins[0]
    monkeypatch.setitem(sys.modules, deferred.DEFERRED, object())
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if f not in stand_ins])
    deferred.install()  # imported already: nothing to defer
    assert not [f for f in sys.meta_path if type(f).__name__ == "_StandIn"]
