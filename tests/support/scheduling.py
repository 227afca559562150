"""How ``make test WORKERS=2`` deals the suite to its pytest-xdist workers.

Each test is its own unit of work, except two groups that share one world and go whole to one worker: every
notebook cell (the notebooks are a chain of kernels on one embedded default, and a notebook's cells are one
kernel) and every Hive test (one HiveServer2 a session instead of one a worker). xdist's own ``loadgroup``
cannot do this under pytest 9, which no longer lets a plugin rename a test to carry its group; the
controller sees only the tests' ids, so the Hive group is the tests whose id says ``hive``: every test of the
HiveServer2 (``tests/test_scheduling`` checks it) and a few quick ones of Hive's SQL text that come along.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling


def unit(nodeid: str) -> str:
    """The unit of work a test belongs to: ``notebooks``, ``hive`` or the test itself."""
    if nodeid.split("::", 1)[0].endswith(".ipynb"):
        return "notebooks"
    if "hive" in nodeid.lower():
        return "hive"
    return nodeid


class SharedWorldScheduling(LoadScopeScheduling):
    """xdist's scope scheduling with :func:`unit` as the scope: the largest units are dealt first, then one
    test at a time to whichever worker is nearly out of work."""

    def _split_scope(self, nodeid: str) -> str:
        return unit(nodeid)
