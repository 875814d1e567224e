"""Render email templates in Jinja2's sandbox: HTML autoescaped, subject and text as plain text.

Shipped templates live in ``templates/emails/<language>/<tone>/<name>.j2`` (blocks
``subject``, ``text`` and ``content`` inside ``layout.html``); in AWS they come with the
templates layer at ``/opt/emails``. User templates are three strings rendered the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from relance.errors import Invalid

DEFAULT_NAMES = ("before_due", "overdue", "final_notice")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def templates_dir(kind: str = "emails") -> Path:
    """``/opt/<kind>`` in Lambda (the templates layer), else the repository's ``templates/<kind>``."""
    layer = Path("/opt") / kind
    return layer if layer.is_dir() else Path(__file__).resolve().parents[4] / "templates" / kind


@cache
def _environment(autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(templates_dir())), autoescape=autoescape, undefined=StrictUndefined
    )


def render_default(name: str, language: str, tone: str, context: dict[str, Any]) -> RenderedEmail:
    """A shipped template, in the language and tone asked (English if the language has none)."""
    path = f"{language}/{tone}/{name}.j2"
    try:
        _environment(True).get_template(path)
    except TemplateNotFound:
        path = f"en/{tone}/{name}.j2"
    html_template = _environment(True).get_template(path)
    text_template = _environment(False).get_template(path)
    return RenderedEmail(
        subject=_block(text_template, "subject", context).strip(),
        text=_block(text_template, "text", context).strip() + "\n",
        html=html_template.render(context),
    )


def _block(template: Any, name: str, context: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(context)))


def render_strings(subject: str, text: str, html: str, context: dict[str, Any]) -> RenderedEmail:
    """A user template: three sources, rendered in the sandbox."""
    try:
        return RenderedEmail(
            subject=_environment(False).from_string(subject).render(context).strip(),
            text=_environment(False).from_string(text).render(context),
            html=_environment(True).from_string(html).render(context),
        )
    except TemplateError as error:
        raise Invalid("the template cannot be rendered", {"template": str(error)}) from error


def check_syntax(sources: dict[str, str]) -> None:
    """Refuse, naming the field and line, a template that does not compile."""
    problems = {}
    for field_name, source in sources.items():
        try:
            _environment(field_name == "html").parse(source)
        except TemplateError as error:
            line = getattr(error, "lineno", None)
            problems[field_name] = f"line {line}: {error}" if line else str(error)
    if problems:
        raise Invalid("the template has errors", problems)
