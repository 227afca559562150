"""Errors a step reports to the analyst as a plain sentence, not a traceback."""


class ProductizarError(Exception):
    """A failure whose message says what is wrong and what to do; shown without a traceback."""


class TablesMissing(ProductizarError):
    def __init__(self, missing: list[str], where: str):
        self.missing = missing
        names = ", ".join(missing)
        super().__init__(f"No existen en la zona de resultados ({where}): {names}. Revise `source` en el archivo de la HU.")


class LocalNotRunning(ProductizarError):
    pass
