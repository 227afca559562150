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

# the seed's two inventory queries, as written there (a trailing ";", GROUP BY positions, an unaliased count)
SEED_LOOKUP = (
    "SELECT package,table_name,semilla,proceso,origen_fuente,data_folder,periodicidad,descripcion,"
    "solicita_ingestion,dia_ejecucion,hora_ejecucion,prerrequisito FROM resultados.inventario_lz "
    "WHERE proceso LIKE '%CRD%' LIMIT 10"
)
SEED_CONSECUTIVE = (
    "select cast(REGEXP_REPLACE(package,'[^0-9]+', \"\") as int) as consecutivo, package, proceso, count(*) "
    "from resultados.inventario_lz group by 1,2,3 order by 1 DESC limit 10;"
)
