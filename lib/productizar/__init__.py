"""productizar: the runbook that puts analytical data products (DynamoDB tables served by an API) on AWS,
as parameterized notebooks. ``lib/`` holds all the logic; the notebooks only call it and show results."""

__version__ = "0.1.0"
