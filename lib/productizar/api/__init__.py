"""The API the analysts deliver: package rules, the smoke-test client, the load-test builders."""
