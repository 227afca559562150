"""The Glue job's script (``glueJob<ApiName>``, ScriptLocation s3://<scripts bucket>/scripts/cargar_dynamo.py).

All logic is in ``productizar.dynamo.spark_load`` (shipped to Glue as ``--extra-py-files productizar.zip``): read the
results-zone table, repartition by key, write each partition through the loader core at its share of the
table's write budget, print one line per task and the totals. Locally:

    spark-submit --master 'local[2]' jobs/cargar_dynamo.py --source zona.tabla --parquet /ruta/tabla.parquet \\
        --dynamo_table mi-tabla --partition_key id:S --table_wcu 8000 --write_share 0.5 --tasks 2 \\
        --endpoint http://127.0.0.1:5000
"""

import sys

from productizar.dynamo.spark_load import main

if __name__ == "__main__":
    main(sys.argv[1:])
