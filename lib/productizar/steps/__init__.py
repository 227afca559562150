"""The runbook's steps, one module each, named exactly as the step. Each takes the ``Step`` and returns what
its notebook's cells show (tables, sentences, plots) and the facts it hands on."""
