"""Organizations' templates render in a bounded sandbox: a hostile one is refused (422 naming
``template``) quickly, never an unhandled error or a function that runs until it is killed."""

import time
from importlib.metadata import version

import pytest
from pydantic import ValidationError

from relance.errors import Invalid
from relance.mail import rendering
from relance.mail.rendering import render_default, render_strings
from relance.services.actions import ManualAction
from relance.services.templates import render_free_text

CONTEXT = {
    "customer": {"name": "Acme", "external_id": None},
    "contact": {"first_name": "Pat", "last_name": None, "email": "pat@acme.example"},
    "invoices": [{"number": "F-1", "outstanding": "€500.00", "due_at": "2026-01-31", "days_late": 3}],
    "totals": ["€500.00"],
    "portal_link": "https://portal.example/x",
    "sender": {"name": "AR"},
    "organization": {"name": "Relance"},
    "labels": {"invoice": "Invoice", "due": "Due", "outstanding": "Outstanding", "late": "Late", "total": "Total"},
    "language": "en",
}

HOSTILE = {
    "huge range": "{% for i in range(10**9) %}x{% endfor %}",
    "nested loops": "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}",
    "loops over strings": "{% for a in 'x' * 300000 %}{% for b in 'y' * 300000 %}{% endfor %}{% endfor %}",
    "a loop that grows": "{% set l = [1] %}{% for x in l %}{{ l.append(x) }}{% endfor %}",
    "string multiplication": "{{ 'x' * 10**9 }}",
    "doubling by concatenation": "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}",
    "doubling a list": "{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}"
    "{% endfor %}",
    "squaring a number": "{% set ns = namespace(n=3) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}"
    "{% endfor %}",
    "a huge power": "{{ 2 ** 10000000 }}",
    "percent padding": "{{ '%999999999d' % 1 }}",
    "format padding": "{{ '{:>999999999}'.format(1) }}",
    "format padding from an argument": "{{ '{0:{1}}'.format('x', 999999999) }}",
    "center filter": "{{ 'x'|center(999999999) }}",
    "center method": "{{ 'x'.center(999999999) }}",
    "indent": "{{ ('a\n' * 1000)|indent(999999) }}",
    "replace": "{% set s = 'a' * 100000 %}{{ s|replace('a', s) }}",
    "join": "{% set s = 'a' * 100000 %}{{ s.join(s) }}",
    "a macro's output": "{% set s = 'x' * 400000 %}{% macro m() %}{% for i in range(100) %}{{ s }}{% endfor %}"
    "{% endmacro %}{% set y = m() %}",
    "the output": "{% set s = 'x' * 400000 %}{% for i in range(10) %}{{ s }}{% endfor %}",
    "endless recursion": "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}",
    "lipsum": "{{ lipsum(100000) }}",
    "class escape": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "attr filter escape": "{{ ''|attr('__class__') }}",
    "format escape": "{{ '{0.__class__.__init__.__globals__}'.format(cycler) }}",
    "format_map escape": "{{ '{a.__class__}'.format_map({'a': 1}) }}",
    "globals escape": "{{ cycler.__init__.__globals__ }}",
    "undefined variable": "{{ nobody.name }}",
    "a number too long": "{{ ('9' * 5000)|int + 10**5000 }}",
}


def test_jinja2_is_one_whose_sandbox_holds():
    assert tuple(int(p) for p in version("jinja2").split(".")[:3]) >= (3, 1, 6)


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("part", ["subject", "text", "html"])
def test_a_hostile_template_is_refused_quickly_naming_the_template(source, part):
    sources = {"subject": "Hello", "text": "Hello", "html": "<p>Hello</p>", part: source}
    started = time.monotonic()

    with pytest.raises(Invalid) as refused:
        render_strings(sources["subject"], sources["text"], sources["html"], CONTEXT)

    assert refused.value.status == 422 and "template" in refused.value.fields
    assert time.monotonic() - started < rendering.MAX_RENDER_SECONDS + 1


def test_a_template_that_takes_too_long_is_refused_at_its_time_limit(monkeypatch):
    monkeypatch.setattr(rendering, "MAX_RENDER_SECONDS", 0.2)
    slow = "{% set s = 'x ' * 200000 %}{% for i in range(10000) %}{{ s|wordcount }}{% endfor %}"
    started = time.monotonic()

    with pytest.raises(Invalid) as refused:
        render_strings("Slow", slow, "", CONTEXT)

    assert "0.2 s" in refused.value.fields["template"]
    assert time.monotonic() - started < 1.5


def test_ordinary_templates_still_render_within_the_bounds():
    text = (
        "Dear {{ contact.first_name or customer.name }},\n"
        "{% for invoice in invoices %}{{ loop.index }}/{{ loop.length }} {{ invoice.number|upper }} "
        "{{ '%-10s' % invoice.due_at }} {{ '{:>12}'.format(invoice.outstanding) }}{% endfor %}\n"
        "{{ totals|join(', ') }} {{ range(3)|list }} {{ 'ab' * 3 }} {{ 2 ** 10 }} {{ customer.name ~ '!' }}"
    )
    rendered = render_strings("About {{ customer.name }}", text, "<b>{{ customer.name }}</b> & co", CONTEXT)

    assert rendered.subject == "About Acme"
    assert rendered.text == (
        "Dear Pat,\n1/1 F-1 2026-01-31 " + " " * 5 + "€500.00\n€500.00 [0, 1, 2] ababab 1024 Acme!"
    )
    assert rendered.html == "<b>Acme</b> & co"
    shipped = render_default("overdue", "en", "formal", {**CONTEXT, "labels": {**CONTEXT["labels"], "pay": "Pay"}})
    assert "€500.00" in shipped.subject and "F-1" in shipped.text and "F-1" in shipped.html


def test_an_email_written_for_a_customer_renders_its_variables_and_its_html_is_the_text_escaped():

    email = render_free_text(
        "For {{ customer.name }}", "<b>Dear {{ customer.name }}</b>\nThanks", {"customer": {"name": "A&B"}}
    )

    assert email.subject == "For A&B" and email.text == "<b>Dear A&B</b>\nThanks"
    assert email.html == '<div style="white-space: pre-wrap">&lt;b&gt;Dear A&amp;B&lt;/b&gt;\nThanks</div>'


def test_a_written_email_needs_both_its_subject_and_its_text_and_no_template():
    assert ManualAction(customer_id="cus_x", type="email", subject="Hello", text="Hi").subject == "Hello"
    for wrong in ({"subject": "Hello"}, {"subject": "Hello", "text": "Hi", "template_id": "default.reminder"}):
        with pytest.raises(ValidationError, match="written email"):
            ManualAction(customer_id="cus_x", type="email", **wrong)
    with pytest.raises(ValidationError, match="written email"):
        ManualAction(customer_id="cus_x", type="task", subject="Hello", text="Hi")
