"""One input problem and where it is: the field's path in the file and its line.

A leaf: ``errors`` (the error that carries problems) and ``problems`` (the loaders that find them) both stand
on it, and neither on the other for its type.
"""

from __future__ import annotations

from dataclasses import dataclass

Loc = tuple[str | int, ...]


def format_loc(loc: Loc) -> str:
    """``("tables", 2, "partition_key", "type")`` -> ``tables[2].partition_key.type``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(file)"


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str
    line: int | None = None

    def order(self) -> tuple[int, str]:
        """File order: by line, then by field path."""
        return (self.line or 0, format_loc(self.loc))

    def render(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line else file
        return f"{where}: {format_loc(self.loc)}: {self.message}"
