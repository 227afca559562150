"""One family of errors: everything productizar raises on purpose is a ``ProductizarError`` whose message
says what is wrong and what to do, shown to the analyst as a sentence, never as a traceback.

``BadInput`` (a parameter file with problems, a command line that asks for what does not exist) ends the
command with exit status 2 before anything is written; ``StepFailed`` is a step that ran and did not pass.
"""

from __future__ import annotations

from collections.abc import Iterable

from productizar.core.problem import Problem


class ProductizarError(Exception):
    """A failure whose message says what is wrong and what to do; shown without a traceback."""


class BadInput(ProductizarError):
    """Input that cannot be used as given: the command exits with 2 and nothing is written."""

    exit_code = 2

    def render(self) -> str:
        """What the command prints on standard error."""
        return f"productizar: {self}"


class UsageError(BadInput):
    """The command line asks for something that does not exist (a step name, an environment)."""


class InputFileError(BadInput):
    """A parameter file has problems; ``problems`` holds every one of them, in file order."""

    def __init__(self, path: object, problems: Iterable[Problem]):
        self.path = str(path)
        self.problems = sorted(problems, key=lambda p: p.order())
        super().__init__(self.render())

    def render(self) -> str:
        n = len(self.problems)
        head = f"{self.path}: {n} problem{'s' if n != 1 else ''} found"
        return "\n".join([head] + ["  " + p.render(self.path) for p in self.problems])


class StepFailed(ProductizarError):
    """A step ran and what it proves did not hold (a check failed, a finding stands): its ``verdict``."""


class StepNotApplicable(ProductizarError):
    """The HU does not give what a step needs (an optional section): the step is skipped, not failed."""


class TablesMissing(ProductizarError):
    def __init__(self, missing: list[str], where: str):
        self.missing = missing
        names = ", ".join(missing)
        super().__init__(
            f"No existen en la zona de resultados ({where}): {names}. Revise `source` en el archivo de la HU."
        )


class KeyColumnsMissing(ProductizarError):
    """Key columns the HU names that a results-zone table does not have: each with its HU field and the
    columns the table does have, so the fix is one edit of the HU file."""

    def __init__(self, problems: list[tuple[str, str, str, list[str]]], where: str):
        self.problems = problems  # (HU field, table, column, the table's columns)
        lines = [
            f"  {field}: la tabla {table} no tiene la columna «{column}»; sus columnas son: {', '.join(cols)}"
            for field, table, column, cols in problems
        ]
        super().__init__(
            f"Columnas de clave que no existen en la zona de resultados ({where}); corrija el archivo de la HU:\n"
            + "\n".join(lines)
        )


class LocalNotRunning(ProductizarError):
    """The embedded default is not up where a step needs it."""
