"""The tables the API serves: routes and keys from config.json, DynamoDB table names from the environment.

config.json holds no credentials and no table names: each table names the environment variable that
carries its DynamoDB table in DEV, QA or PRD (the release sets it), so one image serves every environment.
"""

import json
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

CONFIG = Path(os.environ.get("API_CONFIG", Path(__file__).resolve().parent.parent / "config.json"))


class ClaveInvalida(ValueError):
    pass


@dataclass(frozen=True)
class Tabla:
    ruta: str
    variable_tabla: str
    pk: str
    pk_tipo: str
    sk: str | None
    sk_tipo: str | None

    @property
    def nombre_dynamo(self) -> str:
        nombre = os.environ.get(self.variable_tabla)
        if not nombre:
            raise LookupError(f"falta la variable de entorno {self.variable_tabla}")
        return nombre

    @staticmethod
    def valor(texto: str, tipo: str, campo: str):
        if tipo == "S":
            return texto
        try:
            numero = Decimal(texto)
        except InvalidOperation:
            raise ClaveInvalida(f"{campo} debe ser numérico, llegó {texto!r}") from None
        if not numero.is_finite():
            raise ClaveInvalida(f"{campo} debe ser numérico, llegó {texto!r}")
        return numero


@lru_cache(maxsize=1)
def tablas() -> dict[str, Tabla]:
    config = json.loads(CONFIG.read_text(encoding="utf-8"))
    out = {}
    for t in config["tablas"]:
        sk = t.get("sort_key") or {}
        out[t["ruta"]] = Tabla(t["ruta"], t["variable_tabla"], t["partition_key"]["name"], t["partition_key"]["type"],
                               sk.get("name"), sk.get("type"))
    return out


def slug() -> str:
    return json.loads(CONFIG.read_text(encoding="utf-8"))["slug"]
