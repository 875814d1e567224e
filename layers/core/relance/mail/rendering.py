"""Render email templates in Jinja2's sandbox, bounded: HTML autoescaped, subject and text as plain text.

Shipped templates live in ``templates/emails/<language>/<tone>/<name>.j2`` (blocks
``subject``, ``text`` and ``content`` inside ``layout.html``), the emails to the AR team itself (the
weekly digest) in ``templates/emails/team/``; in AWS they come with the templates layer at
``/opt/emails``. User templates are three strings rendered the same way.

Organizations write their own templates, so a template is hostile until proven otherwise.
Jinja2's immutable sandbox (3.1.6 or later: the earlier ones let ``str.format`` and ``|attr``
escape it) keeps a template from reaching Python's internals or changing its variables; on top
of it every render here is bounded, so that no template can exhaust the function rendering it:

- time: ``MAX_RENDER_SECONDS`` for the whole email, checked at every loop iteration, call,
  filter and intercepted operator;
- loops: ``MAX_LOOP_ITERATIONS`` iterations for all loops of a render together (every ``for``
  is compiled through ``_bounded_loop``), ``range`` at most ``MAX_RANGE`` items;
- size: each part at most ``MAX_OUTPUT_CHARS``; any string or sequence a template builds (``*``,
  ``+``, ``%``, ``~``, blocks and macros joined, filters, string methods) at most
  ``MAX_STRING_CHARS``, refused before it is built when its size can be known; widths and
  padding (``center``, ``indent``, ``"%9999d"``, ``"{:>9999}"``) at most ``MAX_WIDTH``;
  integers at most ``MAX_INT_BITS`` bits.

A template over a bound, or failing in any other way, is refused: ``Invalid`` (422) naming
``template`` — never an unhandled error, never a stuck function.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg
from markupsafe import soft_str

from relance.errors import Invalid
from relance.template_files import templates_dir

DEFAULT_NAMES = ("before_due", "overdue", "final_notice")

MAX_RENDER_SECONDS = 2.0
MAX_LOOP_ITERATIONS = 100_000
MAX_RANGE = 10_000
MAX_OUTPUT_CHARS = 500_000
MAX_STRING_CHARS = 500_000
MAX_WIDTH = 1_000
MAX_INT_BITS = 4_096

_SIZING_FILTERS = {"center", "indent", "wordwrap", "truncate", "batch", "slice"}
_PERCENT_WIDTH = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_WIDTH = re.compile(r"\{[^{}]*:[^{}]*?(\d+)(?:\.(\d+))?[^{}]*\}")
_NESTED_SPEC = re.compile(r"\{[^{}]*:[^{}]*\{")


class RenderRefused(SecurityError):
    """A template went over one of the bounds of a render."""


@dataclass
class _Budget:
    deadline: float
    iterations: int = 0


_BUDGET: ContextVar[_Budget | None] = ContextVar("relance_render_budget", default=None)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


# ---------------------------------------------------------------- the bounds


def _tick(loop: bool = False) -> None:
    """One more step of the current render: refused past its time (or, for a loop, its iterations)."""
    budget = _BUDGET.get()
    if budget is None:
        return
    if loop:
        budget.iterations += 1
        if budget.iterations > MAX_LOOP_ITERATIONS:
            raise RenderRefused(f"the template's loops ran more than {MAX_LOOP_ITERATIONS} times")
    if time.monotonic() > budget.deadline:
        raise RenderRefused(f"the template took more than {MAX_RENDER_SECONDS:g} s to render")


def _refuse_size(size: int, what: str = "a value") -> None:
    if size > MAX_STRING_CHARS:
        raise RenderRefused(f"{what} of {size} characters or items: at most {MAX_STRING_CHARS}")


def _checked(value: Any) -> Any:
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        _refuse_size(len(value))
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise RenderRefused(f"a number over {MAX_INT_BITS} bits")
    return value


def _refuse_width(width: Any) -> None:
    if isinstance(width, int) and not isinstance(width, bool) and abs(width) > MAX_WIDTH:
        raise RenderRefused(f"a width or count of {width}: at most {MAX_WIDTH}")
    if isinstance(width, str) and len(width) > MAX_WIDTH:
        raise RenderRefused(f"a padding of {len(width)} characters: at most {MAX_WIDTH}")


def _check_format(spec: str) -> None:
    """Widths and precisions of ``%`` and ``{}`` formats, before the string is built."""
    if _NESTED_SPEC.search(spec):
        raise RenderRefused("a width taken from the arguments ('{:{}}')")
    for match in (*_PERCENT_WIDTH.finditer(spec), *_BRACE_WIDTH.finditer(spec)):
        for number in match.groups():
            if number == "*":
                raise RenderRefused("a width taken from the arguments ('*')")
            if number is not None:
                _refuse_width(int(number))


def _predicted_replace(text: str, old: str, new: str, count: Any = -1) -> int:
    found = len(text) + 1 if old == "" else text.count(old)
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * (len(new) - len(old))


def _predicted_join(separator: str, items: list[Any]) -> int:
    return sum(len(soft_str(i)) for i in items) + len(separator) * max(len(items) - 1, 0)


def _bounded_loop(iterable: Iterable[Any]) -> Iterator[Any]:
    """What every ``for`` of a template iterates: the items, each counted against the render's budget."""
    for item in iterable:
        _tick(loop=True)
        yield item


def _bounded_concat(autoescape: bool, parts: tuple[Any, ...]) -> str:
    """``a ~ b ~ c``, refused before it is built when it would be too long."""
    _tick()
    _refuse_size(sum(len(soft_str(p)) for p in parts), "a joined string")
    return markup_join(parts) if autoescape else str_join(parts)


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise RenderRefused(f"range of {len(numbers)} numbers: at most {MAX_RANGE}")
    return numbers


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    skipped = 1 if _PassArg.from_obj(function) is not None else 0

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        given = args[skipped:]
        if name in _SIZING_FILTERS:
            for argument in (*given[1:], *kwargs.values()):
                _refuse_width(argument)
        if name == "format" and given and isinstance(given[0], str):
            _check_format(given[0])
        if name == "replace" and len(given) >= 3 and all(isinstance(a, str) for a in given[:3]):
            _refuse_size(_predicted_replace(*given[:3], *given[3:4]), "a replaced string")
        if name == "join" and given and not kwargs.get("attribute") and len(given) < 3:
            items = list(given[0])
            separator = given[1] if len(given) > 1 else kwargs.get("d", "")
            _refuse_size(_predicted_join(soft_str(separator), items), "a joined string")
            args = (*args[:skipped], items, *given[1:])
        return _checked(function(*args, **kwargs))

    return bounded


class _BoundedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with the bounds of this module."""

    intercepted_binops = frozenset({"*", "**", "%", "+", "//"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.globals = {**self.globals, "range": _bounded_range}
        self.globals.pop("lipsum", None)

    def concat(self, parts: Iterable[Any]) -> str:
        """Blocks, macros and ``{% set %}`` blocks joined: refused before they are built when too long."""
        _tick()
        pieces = list(parts)
        _refuse_size(sum(len(p) for p in pieces), "a block")
        return "".join(pieces)

    def _generate(
        self, source: nodes.Template, name: str | None, filename: str | None, defer_init: bool = False
    ) -> str:
        """Compile every ``for`` through ``_bounded_loop`` and every ``~`` through ``_bounded_concat``."""
        self._bound(source)
        return super()._generate(source, name, filename, defer_init)

    def _bound(self, node: nodes.Node) -> None:
        """Rewrite the tree below ``node`` in one pass, children first."""
        for field in node.fields:
            value = getattr(node, field, None)
            if isinstance(value, nodes.Node):
                self._bound(value)
                setattr(node, field, self._bounded_node(value))
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, nodes.Node):
                        self._bound(item)
                setattr(node, field, [self._bounded_node(i) if isinstance(i, nodes.Node) else i for i in value])
        if isinstance(node, nodes.For):
            node.iter = self._call("_bounded_loop", [node.iter], node)  # type: ignore[list-item]

    def _bounded_node(self, node: nodes.Node) -> nodes.Node:
        if not isinstance(node, nodes.Concat):
            return node
        return self._call(
            "_bounded_concat", [nodes.Const(bool(self.autoescape)), nodes.Tuple(node.nodes, "load")], node
        )

    def _call(self, function: str, arguments: list[nodes.Expr], at: nodes.Node) -> nodes.Call:
        call = nodes.Call(nodes.ImportedName(f"{__name__}.{function}"), arguments, [], None, None)
        call.set_lineno(at.lineno or 1)
        call.set_environment(self)
        return call

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        owner, method = getattr(__obj, "__self__", None), getattr(__obj, "__name__", "")
        if isinstance(owner, str):
            if method in ("center", "ljust", "rjust", "zfill", "expandtabs"):
                _refuse_width(args[0] if args else next(iter(kwargs.values()), 0))
            if method == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
                _refuse_size(_predicted_replace(owner, *args[:2], *args[2:3]), "a replaced string")
            if method == "join" and args:
                items = list(args[0])
                _refuse_size(_predicted_join(owner, items), "a joined string")
                args = (items, *args[1:])
        return _checked(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _tick()
        numbers = isinstance(left, int) and isinstance(right, int)
        if operator == "**" and numbers and (right > MAX_INT_BITS or left.bit_length() * max(right, 0) > MAX_INT_BITS):
            raise RenderRefused(f"a power over {MAX_INT_BITS} bits")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, str | list | tuple) and isinstance(times, int):
                    _refuse_size(len(sequence) * max(times, 0), "a repeated string or list")
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and left.bit_length() + right.bit_length() > MAX_INT_BITS
            ):
                raise RenderRefused(f"a product over {MAX_INT_BITS} bits")
        if operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
            _refuse_size(len(left) + len(right), "a joined string or list")
        if operator == "%" and isinstance(left, str):
            _check_format(left)
        return _checked(super().call_binop(context, operator, left, right))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        spec = str(value.__self__)

        def checked(*args: Any, **kwargs: Any) -> str:
            _tick()
            _check_format(spec)
            return str(_checked(wrapped(*args, **kwargs)))

        return checked


@contextmanager
def _bounded() -> Iterator[None]:
    token = _BUDGET.set(_Budget(time.monotonic() + MAX_RENDER_SECONDS))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def _output(chunks: Iterable[str]) -> str:
    """The rendered text, refused as soon as it is over ``MAX_OUTPUT_CHARS``."""
    pieces, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise RenderRefused(f"the rendered email is over {MAX_OUTPUT_CHARS} characters")
        pieces.append(chunk)
    return "".join(pieces)


# ---------------------------------------------------------------- rendering


@cache
def _environment(autoescape: bool) -> _BoundedEnvironment:
    return _BoundedEnvironment(
        loader=FileSystemLoader(str(templates_dir())), autoescape=autoescape, undefined=StrictUndefined
    )


def render_default(name: str, language: str, tone: str, context: dict[str, Any]) -> RenderedEmail:
    """A shipped template, in the language and tone asked (English if the language has none)."""
    path = f"{language}/{tone}/{name}.j2"
    try:
        _environment(True).get_template(path)
    except TemplateNotFound:
        path = f"en/{tone}/{name}.j2"
    return render_file(path, context)


def render_file(path: str, context: dict[str, Any]) -> RenderedEmail:
    """A shipped template file of ``templates/emails``: its ``subject`` and ``text`` blocks, and the
    whole of it (its layout's HTML) as the HTML part."""
    html_template = _environment(True).get_template(path)
    text_template = _environment(False).get_template(path)
    with _bounded():
        return RenderedEmail(
            subject=_block(text_template, "subject", context).strip(),
            text=_block(text_template, "text", context).strip() + "\n",
            html=_output(html_template.generate(context)),
        )


def _block(template: Any, name: str, context: dict[str, Any]) -> str:
    return _output(template.blocks[name](template.new_context(context)))


def render_strings(subject: str, text: str, html: str, context: dict[str, Any]) -> RenderedEmail:
    """A user template: three sources, rendered in the bounded sandbox; refused (422) when it cannot be."""
    try:
        with _bounded():
            return RenderedEmail(
                subject=_output(_environment(False).from_string(subject).generate(context)).strip(),
                text=_output(_environment(False).from_string(text).generate(context)),
                html=_output(_environment(True).from_string(html).generate(context)),
            )
    except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError, RecursionError, MemoryError) as error:
        raise Invalid("the template cannot be rendered", {"template": _reason(error)}) from error


def _reason(error: BaseException) -> str:
    if isinstance(error, TemplateError):
        return str(error.message or error)[:500]
    return f"{type(error).__name__}: {str(error)[:300]}"


def check_syntax(sources: dict[str, str]) -> None:
    """Refuse, naming the field and line, a template that does not compile."""
    problems = {}
    for field_name, source in sources.items():
        try:
            _environment(field_name == "html").parse(source)
        except TemplateError as error:
            line = getattr(error, "lineno", None)
            problems[field_name] = f"line {line}: {error}" if line else str(error)
        except (ValueError, RecursionError, MemoryError) as error:  # e.g. a number literal too long for int()
            problems[field_name] = _reason(error)
    if problems:
        raise Invalid("the template has errors", problems)
