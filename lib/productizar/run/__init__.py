"""The run: the step registry, the runner, what a notebook calls first (``start``), facts and evidence.
It alone (with the CLI) knows the local emulation and resolves ``embedded`` once per run and per step."""
