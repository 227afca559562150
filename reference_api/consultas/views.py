"""Read-only endpoints: one item by its key, or every item of a partition, as JSON.

Numbers keep their exact value: integers as JSON numbers, decimals as strings (a float would round them).
Answers: 200 with the item(s), 400 for a malformed key, 404 for an unknown table or key, 503 when the table
cannot be reached (a missing variable, a table that does not exist, AWS refusing).
"""

from decimal import Decimal

import boto3
from boto3.dynamodb.conditions import Key
from botocore.exceptions import BotoCoreError, ClientError
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from .tablas import ClaveInvalida, Tabla, tablas

_dynamo = None


def dynamo():
    global _dynamo
    if _dynamo is None:  # AWS_ENDPOINT_URL, AWS_DEFAULT_REGION and credentials: the standard chain
        _dynamo = boto3.resource("dynamodb")
    return _dynamo


def json_value(v):
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else str(v)
    if isinstance(v, dict):
        return {k: json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_value(x) for x in v]
    if isinstance(v, set):
        return sorted(json_value(x) for x in v)
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    return v


def _error(status: int, mensaje: str) -> JsonResponse:
    return JsonResponse({"error": mensaje}, status=status, json_dumps_params={"ensure_ascii": False})


def _tabla(ruta: str) -> Tabla | None:
    return tablas().get(ruta)


def _leer(tabla: Tabla, hacer):
    try:
        return hacer(dynamo().Table(tabla.nombre_dynamo))
    except LookupError as exc:
        return _error(503, str(exc))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        return _error(503, f"DynamoDB no respondió para {tabla.ruta}: {code}")
    except BotoCoreError as exc:
        return _error(503, f"DynamoDB no respondió para {tabla.ruta}: {type(exc).__name__}")


@require_GET
def por_clave(request, ruta: str, pk: str):
    tabla = _tabla(ruta)
    if tabla is None:
        return _error(404, f"no existe la tabla {ruta}")
    try:
        clave = tabla.valor(pk, tabla.pk_tipo, tabla.pk)
    except ClaveInvalida as exc:
        return _error(400, str(exc))

    def hacer(t):
        if tabla.sk is None:
            item = t.get_item(Key={tabla.pk: clave}).get("Item")
            if item is None:
                return _error(404, f"no existe {tabla.pk}={pk}")
            return JsonResponse(json_value(item), json_dumps_params={"ensure_ascii": False})
        items, kwargs = [], {"KeyConditionExpression": Key(tabla.pk).eq(clave)}
        while True:
            page = t.query(**kwargs)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        if not items:
            return _error(404, f"no existe {tabla.pk}={pk}")
        return JsonResponse({"items": json_value(items)}, json_dumps_params={"ensure_ascii": False})

    return _leer(tabla, hacer)


@require_GET
def por_clave_y_orden(request, ruta: str, pk: str, sk: str):
    tabla = _tabla(ruta)
    if tabla is None or tabla.sk is None:
        return _error(404, f"no existe la tabla {ruta} con clave de ordenamiento")
    try:
        key = {tabla.pk: tabla.valor(pk, tabla.pk_tipo, tabla.pk), tabla.sk: tabla.valor(sk, tabla.sk_tipo, tabla.sk)}
    except ClaveInvalida as exc:
        return _error(400, str(exc))

    def hacer(t):
        item = t.get_item(Key=key).get("Item")
        if item is None:
            return _error(404, f"no existe {tabla.pk}={pk}, {tabla.sk}={sk}")
        return JsonResponse(json_value(item), json_dumps_params={"ensure_ascii": False})

    return _leer(tabla, hacer)


@require_GET
def salud(request):
    return JsonResponse({"estado": "ok", "tablas": sorted(tablas())})
