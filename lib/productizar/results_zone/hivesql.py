"""Hive SQL made safe to send, whatever engine answers it.

The team writes and pastes Hive SQL; engines differ in what they accept (``docs/backends.md``, "Hive"):
real Hive rejects a trailing ``;``, needs ``hive.groupby.position.alias`` for ``GROUP BY 1,2``, and every
engine names an unaliased ``count(*)`` differently (``_c3``, ``count(1)``, ``count_star()``). ``prepare``
removes those traps once, for every backend, and leaves a statement that needs no change untouched.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

_TRAILING = re.compile(r"(\s*;)+\s*$")


def strip_terminator(sql: str) -> str:
    """``SELECT 1;`` -> ``SELECT 1`` (HiveServer2 rejects the terminator)."""
    return _TRAILING.sub("", sql.strip())


def _position(node: exp.Expression, select: exp.Select) -> int | None:
    """1-based projection index when ``node`` is a positional reference (``GROUP BY 2``)."""
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        k = int(node.this)
        if 1 <= k <= len(select.expressions):
            return k
    return None


def _rewrite_select(select: exp.Select) -> bool:
    changed = False
    projections = select.expressions
    # 1. every computed projection gets a name, the one Hive itself would give (_c<i>)
    for i, p in enumerate(projections):
        if not isinstance(p, (exp.Alias, exp.Column, exp.Star)):
            p.replace(exp.alias_(p.copy(), f"_c{i}"))
            changed = True
    projections = select.expressions
    # 2. GROUP BY <position> -> the expression itself
    group = select.args.get("group")
    if group:
        for g in list(group.expressions):
            k = _position(g, select)
            if k:
                target = projections[k - 1]
                g.replace((target.this if isinstance(target, exp.Alias) else target).copy())
                changed = True
    # 3. ORDER BY <position> -> the projection's name
    order = select.args.get("order")
    if order:
        for o in order.expressions:
            k = _position(o.this, select)
            if k:
                target = projections[k - 1]
                o.set("this", exp.column(target.alias) if isinstance(target, exp.Alias) else target.copy())
                changed = True
    return changed


def prepare(sql: str) -> str:
    """The statement as it is sent to any engine, still in Hive SQL.

    A SELECT is rewritten only when it has a trap (positional GROUP/ORDER BY, unaliased computed column);
    otherwise the text is returned as written, minus the terminator.
    """
    text = strip_terminator(sql)
    try:
        tree = sqlglot.parse_one(text, read="hive")
    except sqlglot.errors.ParseError:
        return text
    if not isinstance(tree, exp.Query):
        return text
    changed = False
    for select in tree.find_all(exp.Select):
        changed |= _rewrite_select(select)
    return tree.sql(dialect="hive") if changed else text


_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}


def hive_literal(value: str | None) -> str:
    """A Hive string literal holding exactly ``value`` (``NULL`` for None).

    Hive reads backslash escapes inside literals and joins adjacent literals ('O''Brien' arrives as
    OBrien), so a quote is escaped with a backslash, and so is every backslash and line break: no value
    can end the literal early, change what is stored, or add a statement.
    """
    if value is None:
        return "NULL"
    return "'" + "".join(_ESCAPES.get(ch, ch) for ch in str(value)) + "'"
