"""DynamoDB: rows as items, the loader, the engine choice, the Spark load that shares the loader's core, the
scans that verify a load, and the sizing model."""
