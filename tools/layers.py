"""The package's import graph, measured: how many import cycles there are inside ``lib/productizar`` and which
imports point the wrong way between its rooms.

    python tools/layers.py        # prints the modules, edges, cycles and violations; exit 1 if any

The rooms, bottom to top: ``core``; the mechanisms that stand on ``core`` alone (``results_zone``, ``api``,
``paperwork``) and the local emulation (``local``); ``dynamo`` (over ``results_zone``); ``cloud`` (over
``dynamo`` and ``api``); ``run``; ``steps``; the CLI at the top. A module may import its own room and the
rooms below it; ``local`` is imported only by ``run`` and the CLI. Every import counts: inside functions,
and the ones made for type annotations only (``if TYPE_CHECKING:``), since a circle of types is a circle.
The graph is the package's own (``productizar.run.code``), the one that decides which steps a change re-runs.
"""

from __future__ import annotations

import sys

from productizar.run.code import graph  # the graph the steps' fingerprints read too

RANK = {
    "core": 0,
    "results_zone": 1,
    "api": 1,
    "paperwork": 1,
    "local": 1,
    "dynamo": 2,
    "cloud": 3,
    "run": 4,
    "steps": 5,
    "cli": 6,
    "__main__": 6,
    "": 6,
}
ONLY_FROM = {"local": {"local", "run", "cli"}}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan): each is at least one circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return groups


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def violations(g: dict[str, set[str]]) -> list[str]:
    out = []
    for src, targets in sorted(g.items()):
        for dst in sorted(targets):
            a, b = room(src), room(dst)
            if a == b:
                continue
            if (
                RANK[b] > RANK[a]
                or (b in ONLY_FROM and a not in ONLY_FROM[b])
                or (RANK[b] == RANK[a] and "local" in (a, b))
            ):
                out.append(f"{src} -> {dst}")
    return out


def main() -> int:
    g = graph()
    circles, wrong = cycles(g), violations(g)
    print(f"modules: {len(g)}; imports between them: {sum(len(v) for v in g.values())}")
    for c in circles:
        print("cycle:", " <-> ".join(c))
    for v in wrong:
        print("wrong way:", v)
    print(f"import cycles: {len(circles)}; imports against the layers: {len(wrong)}")
    return 1 if circles or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
