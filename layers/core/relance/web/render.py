"""The web app's HTML: Jinja2 templates of ``templates/web``, autoescaped, a page or one of its blocks.

An htmx request gets a block of the very template that renders the whole page (jinja2-fragments),
never a copy of it. Amounts and dates are formatted by Babel.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2_fragments import render_block

from relance.domain.integrations import label_of
from relance.domain.money import Money
from relance.template_files import templates_dir
from relance.web.assets import StaticFiles

LOCALE = "en"


def money(amount: Any, currency: str) -> str:
    return Money(amount=int(amount), currency=currency).format(LOCALE)


def day(value: date | datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    when = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return str(format_date(when, "medium", locale=LOCALE))


def number(value: Any) -> str:
    return "" if value is None else str(format_decimal(value, locale=LOCALE))


class Renderer:
    """The environment of ``templates/web`` with the static files' hashed URLs."""

    def __init__(self, static: StaticFiles) -> None:
        self.static = static
        self.env = Environment(
            loader=FileSystemLoader(str(templates_dir("web"))),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(money=money, day=day, number=number, source=label_of)
        self.env.globals["static"] = static.url

    def page(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def block(self, template: str, block: str, **context: Any) -> str:
        return str(render_block(self.env, template, block, **context))
