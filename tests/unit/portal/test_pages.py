"""The portal's pages: every text translated, amounts and dates in the language, strict headers."""

import base64
import hashlib
import re
from datetime import date

from babel.messages.extract import extract
from jinja2.ext import babel_extract

from relance.domain.money import Money
from relance.domain.portal import BELOW_MINIMUM, NO_METHOD, PROMISE_RUNNING, REFUSALS, PortalRefused
from relance.portal import pages, statement_pdf
from relance.template_files import templates_dir

PORTAL = templates_dir("portal")


def portal_texts() -> set[str | tuple[str, ...]]:
    """Every message of the portal: its templates, the statement PDF, banners, method names and refusals."""
    texts: set[str | tuple[str, ...]] = set()
    for template in PORTAL.glob("*.html"):
        with template.open("rb") as source:
            for _, _, message, _ in babel_extract(source, ["_", "gettext", "ngettext"], [], {}):
                parts = tuple(m for m in message if m) if isinstance(message, tuple) else (message,)
                texts.add(parts if len(parts) > 1 else parts[0])
    with open(statement_pdf.__file__, "rb") as source:
        texts |= {found[1] for found in extract("python", source, keywords={"t": None})}
    texts |= {text for _, text in pages.NOTICES.values()} | set(pages.METHOD_NAMES.values())
    texts |= {label for _, label in statement_pdf.AGING} | {"This could not be done:"}
    texts |= set(REFUSALS)
    return texts


def test_every_portal_text_has_a_french_translation():
    catalog = pages.translations("fr")
    missing = []
    for text in portal_texts():
        if isinstance(text, tuple):
            if catalog.ngettext(text[0], text[1], 2) == text[1]:
                missing.append(text)
        elif catalog.gettext(text) == text and text not in ("Date", "Message"):
            missing.append(text)
    assert not missing, f"add these to templates/portal/locale/fr.po: {missing}"


def test_amounts_and_dates_follow_the_language():
    assert pages.money(123456, "EUR", "fr") == "1\u202f234,56\xa0€"
    assert pages.money(123456, "USD", "en") == "$1,234.56"
    assert pages.day(date(2026, 11, 23), "fr") == "23 nov. 2026"


def test_unknown_languages_fall_back_to_english():
    assert pages.language_of("de") == "en"
    assert pages.language_of("fr") == "fr"
    assert pages.browser_language("de-DE,fr;q=0.8,en;q=0.5") == "fr"
    assert pages.browser_language(None) == "en"


def test_headers_forbid_scripts_framing_referrers_and_caching():
    headers = pages.security_headers()

    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert "no-store" in headers["Cache-Control"]
    policy = dict(part.split(" ", 1) for part in headers["Content-Security-Policy"].split("; "))
    assert policy["default-src"] == "'none'" and "script-src" not in policy
    assert policy["frame-ancestors"] == "'none'"


def test_the_one_inline_stylesheet_is_allowed_by_its_hash():
    html = pages.not_found_html("fr")
    style = re.search(r"<style>(.*)</style>", html, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()

    assert f"'sha256-{digest}'" in pages.security_headers()["Content-Security-Policy"]
    assert "<script" not in html
    assert "Ce lien n'est plus valide" in html or "Ce lien n&#39;est plus valide" in html


def test_a_refusal_is_said_in_the_visitors_language_with_its_amounts():
    minimum = PortalRefused(BELOW_MINIMUM, {"invoiceIds": "x"}, amount=Money(amount=17_500, currency="EUR"))

    assert minimum.message.startswith("An online payment is at least €175.00")
    assert pages.refusal("en", minimum).startswith("An online payment is at least €175.00")
    assert pages.refusal("fr", minimum).startswith("Un paiement en ligne est d'au moins 175,00\xa0€")


def test_a_promise_refusal_gives_its_day_in_the_visitors_language():
    refused = PortalRefused(PROMISE_RUNNING, {"invoiceIds": "x"}, 409, number="F-1", day=date(2026, 11, 23))

    assert refused.message == "Invoice F-1 is already promised for 2026-11-23: please write to us to change the date."
    assert pages.refusal("fr", refused) == (
        "La facture F-1 est déjà promise pour le 23 nov. 2026 : écrivez-nous pour changer la date."
    )


def test_no_online_method_gives_the_documented_hint_in_both_languages():
    refused = PortalRefused(NO_METHOD, {"invoiceIds": "x"})

    assert "pay fewer invoices at once by card, or by bank transfer" in pages.refusal("en", refused)
    assert "payez moins de factures à la fois par carte, ou par virement" in pages.refusal("fr", refused)
