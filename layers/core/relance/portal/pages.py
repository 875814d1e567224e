"""The portal's HTML: Jinja2 templates of ``templates/portal`` in the customer's language.

Texts are gettext messages (``{% trans %}``, ``_()``); ``templates/portal/locale/<lang>.po`` holds
their translations, compiled in memory with Babel at first use. Amounts and dates are formatted
by Babel for the language. The templates are ours (not user-editable): a plain autoescaping
environment. Every page goes out with the headers of ``security_headers``: no script at all,
the one stylesheet allowed by its hash, and a ``no-referrer`` policy so the token in the URL
never leaks to another site.
"""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import date, timedelta
from functools import cache
from typing import Any

from babel.dates import format_date
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from relance.domain.money import Money
from relance.domain.portal import MAX_PROMISE_DAYS, PortalRefused
from relance.template_files import templates_dir

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"
STRIPE_CHECKOUT = "https://checkout.stripe.com"


def language_of(wanted: str | None) -> str:
    """The portal's language for a customer's (or a browser's) language; English otherwise."""
    code = (wanted or "").strip().lower()[:2]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def browser_language(accept_language: str | None) -> str:
    """The first language of an ``Accept-Language`` header the portal speaks (for the 404 page)."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


@cache
def translations(language: str) -> Translations:
    """The language's catalog, compiled from its ``.po`` file (English is the source: no catalog)."""
    if language == DEFAULT_LANGUAGE:
        return Translations()
    from babel.messages.mofile import write_mo  # Babel's catalog tools: for the first page in another language
    from babel.messages.pofile import read_po

    with (templates_dir("portal") / "locale" / f"{language}.po").open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)


def gettext(language: str, message: str) -> str:
    return str(translations(language).gettext(message))


def money(amount: int, currency: str, language: str) -> str:
    return Money(amount=amount, currency=currency).format(language)


def day(value: date | str, language: str) -> str:
    when = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return str(format_date(when, "medium", locale=language))


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir("portal"))),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = lambda amount, currency: money(int(amount), currency, language)
    env.filters["day"] = lambda value: day(value, language)
    env.globals["language"] = language
    env.globals["stylesheet"] = stylesheet()
    return env


def render(name: str, language: str, **context: Any) -> str:
    return environment(language_of(language)).get_template(name).render(**context)


@cache
def stylesheet() -> str:
    return (templates_dir("portal") / "portal.css").read_text(encoding="utf-8")


def security_headers(form_targets: tuple[str, ...] = (STRIPE_CHECKOUT,)) -> dict[str, str]:
    """Headers of every portal response: strict CSP, no framing, no referrer, no caching."""
    style_hash = base64.b64encode(hashlib.sha256(stylesheet().encode()).digest()).decode()
    policy = "; ".join(
        [
            "default-src 'none'",
            f"style-src 'sha256-{style_hash}'",
            "img-src 'self' https: data:",
            "form-action 'self' " + " ".join(form_targets),
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store, max-age=0",
        "Pragma": "no-cache",
    }


METHOD_NAMES = {
    "card": "Card",
    "ach_debit": "US bank account (ACH)",
    "sepa_debit": "SEPA Direct Debit",
    "bank_transfer": "Bank transfer",
}

NOTICES = {
    "paid": ("good", "Thank you: your payment is received."),
    "processing": ("good", "Thank you: your payment is on its way. Your bank confirms it within a few days."),
    "failed": ("bad", "Your payment did not go through. Please try again or choose another way to pay."),
    "cancelled": ("warn", "The payment was cancelled: nothing was charged."),
    "open": ("warn", "Your payment is not confirmed yet. Refresh this page in a moment."),
    "expired": ("warn", "The payment was not completed: nothing was charged."),
    "message": ("good", "Thank you: your message is sent. We will come back to you."),
    "dispute": ("good", "Thank you: we will look into this invoice and come back to you."),
    "promise": ("good", "Thank you: we take note of your promise to pay."),
}


def notice(language: str, key: str | None) -> dict[str, str] | None:
    """The banner after an action (``?done=``) or a payment (its status), in the language."""
    if key not in NOTICES:
        return None
    tone, text = NOTICES[key]
    return {"tone": tone, "text": gettext(language, text)}


def method_names(language: str) -> dict[str, str]:
    return {method: gettext(language, name) for method, name in METHOD_NAMES.items()}


def refusal(language: str, error: Exception) -> str:
    """What a refused form says: a ``PortalRefused`` in the language (its amounts and days formatted
    for it), any other refusal its own message."""
    if not isinstance(error, PortalRefused):
        return str(getattr(error, "message", error))
    params = {
        name: money(value.amount, value.currency, language)
        if isinstance(value, Money)
        else day(value, language)
        if isinstance(value, date)
        else str(value)
        for name, value in error.params.items()
    }
    return gettext(language, error.text) % params


def portal_html(page: Any, base: str, today: date, *, done: str | None = None, error: str | None = None) -> str:
    """The portal page for ``page`` (a ``services.portal.PortalPage``); ``base`` is the link's URL."""
    language = language_of(page.language)
    return render(
        "portal.html",
        language,
        page=page,
        base=base,
        today=today.isoformat(),
        latest_promise=(today + timedelta(days=MAX_PROMISE_DAYS)).isoformat(),
        notice=notice(language, done or page.last_payment),
        error=f"{gettext(language, 'This could not be done:')} {error}" if error else None,
        method_names=method_names(language),
    )


def not_found_html(language: str) -> str:
    return render("not_found.html", language)
