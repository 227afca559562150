"""The local emulation: the embedded default (moto server and DuckDB results zone), the reference API on
loopback, the demo data. Only the run and the CLI import this room."""
