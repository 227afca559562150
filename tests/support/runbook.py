"""What the seed runbook writes, copied here by hand: tests compare the code with it, never with the code's own
constants."""

# the eight tags of every table, as the runbook's template writes them
RUNBOOK_TAGS = {
    "bancolombia:datos-personales": "clientes",
    "bancolombia:dominio-informacion": "productos-canales",
    "bancolombia:cumplimiento": "no",
    "bancolombia:clasificacion-confidencialidad": "confidencial",
    "bancolombia:clasificacion-integridad": "impacto tolerable",
    "bancolombia:clasificacion-disponibilidad": "impacto moderado",
    "bancolombia:bkmensual": "no",
    "bancolombia:bkdiario": "no",
}
