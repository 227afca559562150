"""The evidence's HTML pages (each HU's index, the board), as Jinja templates beside this file, escaped."""

from __future__ import annotations

from jinja2 import Environment, FileSystemLoader, Template, select_autoescape

_ENV = Environment(
    loader=FileSystemLoader(__path__[0]),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def get_template(name: str) -> Template:
    return _ENV.get_template(name)
