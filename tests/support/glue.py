"""A Glue job as a stack defines it: every setting an update must keep."""

STACK_JOB = {
    "Role": "arn:aws:iam::123456789012:role/glue",
    "Command": {"Name": "glueetl", "ScriptLocation": "s3://otro/viejo.py", "PythonVersion": "3"},
    "Description": "Carga a DynamoDB (plantilla)",
    "WorkerType": "G.1X",
    "NumberOfWorkers": 4,
    "DefaultArguments": {"--enable-metrics": "true"},
    "NonOverridableArguments": {"--job-language": "python"},
    "Connections": {"Connections": ["conexion-hive-vpc"]},
    "ExecutionProperty": {"MaxConcurrentRuns": 3},
    "NotificationProperty": {"NotifyDelayAfter": 10},
    "SecurityConfiguration": "glue-kms",
    "GlueVersion": "4.0",
    "Timeout": 720,
    "MaxRetries": 0,
    "ExecutionClass": "STANDARD",
}
