"""Exchange rates in the web app (admins): a rate entered shows on the settings page and in the
analytics page's converted total with its date; a bad one is refused with the field at fault; a CSV
with a bad line imports nothing; a currency without a rate links to entering one; account managers
have no such page.

The demo organization is in USD with EUR and GBP customers; each test enters the rates it reads.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from bs4 import BeautifulSoup

from relance.domain.money import Money
from relance.services import analytics, exchange_rates
from relance.services.analytics import AnalyticsFilter
from relance.services.organizations import get_organization
from relance.storage import keys
from relance.storage.records import get
from relance.web.render import day, money
from tests.integration.test_web_customers import admin_principal, signed_in
from tests.integration.web import text_of

HERE = "/settings/exchange-rates"


def today_of(demo) -> date:
    return exchange_rates.today(get_organization(demo.session["organization"]["id"]).settings)


def in_usd(amount: int, currency: str, rate: str) -> int:
    """An amount in minor units of ``currency`` (cents, yen…) in US cents at ``rate``."""
    major = Money(amount=amount, currency=currency).to_decimal()
    return int((major * Decimal(rate) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_a_rate_entered_converts_the_analytics_total_which_shows_its_date(demo):
    admin, _ = signed_in(demo, "admin")
    org = demo.session["organization"]["id"]
    today = today_of(demo)
    page = admin.get(HERE)
    assert page.status_code == 200
    tab = BeautifulSoup(page.text, "html.parser").select_one('nav[aria-label=Settings] a[aria-current="page"]')
    assert tab.text == "Exchange rates"

    refused = admin.post(
        HERE, {"csrf": admin.csrf(page), "do": "enter", "currency": "EUR", "date": today.isoformat(), "rate": "1,1"}
    )
    assert refused.status_code == 422
    assert BeautifulSoup(refused.text, "html.parser").select_one("#f-rate.is-invalid")
    assert BeautifulSoup(refused.text, "html.parser").select_one("#f-rate")["value"] == "1,1"  # kept to correct

    rates = {"EUR": "1.1111", "GBP": "1.2222", "JPY": "0.0067"}  # JPY: the demo's Stripe account
    for currency, rate in rates.items():
        fields = {"csrf": admin.csrf(page), "do": "enter", "currency": currency.lower(), "date": today.isoformat()}
        saved = admin.post(HERE, {**fields, "rate": rate})
        assert saved.status_code == 200 and "Rate saved." in text_of(saved)
        assert rate in text_of(saved)
        assert get(keys.exchange_rate(org, currency, today.isoformat()))["rate"] == rate

    shown = admin.get("/analytics")

    balances = analytics.summary(admin_principal(demo), AnalyticsFilter()).items
    expected = sum(
        b.outstanding if b.currency == "USD" else in_usd(b.outstanding, b.currency, rates[b.currency]) for b in balances
    )
    converted = BeautifulSoup(shown.text, "html.parser").select_one("#converted")
    assert converted is not None, text_of(shown)
    said = " ".join(converted.get_text(" ").split())
    assert f"Outstanding, every currency in USD {money(expected, 'USD')}" in said
    assert f"1 EUR = 1.1111 USD of {day(today)}" in said and f"1 GBP = 1.2222 USD of {day(today)}" in said


def test_a_currency_without_a_rate_says_so_and_links_to_entering_one(demo):
    admin, _ = signed_in(demo, "admin")
    page = admin.get(f"{HERE}?currency=GBP")
    for rate in exchange_rates.list_rates(admin_principal(demo), "GBP"):
        fields = {"csrf": admin.csrf(page), "do": "delete", "currency": "GBP", "date": rate.date.isoformat()}
        assert "Rate deleted." in text_of(admin.post(HERE, fields))

    shown = BeautifulSoup(admin.get("/analytics").text, "html.parser").select_one("#converted")

    assert "No total: no rate for GBP" in shown.get_text(" ")
    link = shown.find("a", string="enter one")
    assert link["href"] == f"{HERE}?currency=GBP"
    assert BeautifulSoup(admin.get(link["href"]).text, "html.parser").select_one("#f-currency")["value"] == "GBP"


def test_a_csv_with_a_bad_line_imports_nothing_and_names_the_line(demo):
    admin, _ = signed_in(demo, "admin")
    yesterday, today = date.fromordinal(today_of(demo).toordinal() - 1), today_of(demo)
    text = "currency,date,rate\nCHF,{},1.13\nCHF,{},{}\n".format

    refused = admin.post(
        HERE,
        {"csrf": admin.csrf(admin.get(HERE)), "do": "import"},
        files={"file": ("rates.csv", text(yesterday, today, "-1").encode(), "text/csv")},
    )

    assert refused.status_code == 422
    lines = BeautifulSoup(refused.text, "html.parser").select_one("ul[aria-label='Lines at fault']")
    assert "line 3, rate" in lines.get_text(" ")
    assert exchange_rates.list_rates(admin_principal(demo), "CHF") == []

    imported = admin.post(
        HERE,
        {"csrf": admin.csrf(admin.get(HERE)), "do": "import"},
        files={"file": ("rates.csv", text(yesterday, today, "1.14").encode(), "text/csv")},
    )
    assert imported.status_code == 200 and "2 rates imported." in text_of(imported)
    assert [r.rate for r in exchange_rates.list_rates(admin_principal(demo), "CHF")] == ["1.14", "1.13"]


def test_an_account_manager_has_no_exchange_rates_page(demo):
    manager, _ = signed_in(demo, "account_manager")

    assert manager.get(HERE).status_code == 403


def test_a_rate_entered_after_the_nightly_snapshot_converts_the_snapshots_balances(demo):
    admin, _ = signed_in(demo, "admin")
    analytics.take_snapshots(demo.session["organization"]["id"])
    page = admin.get(HERE)
    today = today_of(demo)

    admin.post(HERE, {"csrf": admin.csrf(page), "do": "enter", "currency": "EUR", "date": today, "rate": "1.3333"})
    shown = admin.get("/analytics")

    assert analytics.dashboard(admin_principal(demo), AnalyticsFilter()).from_snapshot
    said = " ".join(BeautifulSoup(shown.text, "html.parser").select_one("#converted").get_text(" ").split())
    assert f"1 EUR = 1.3333 USD of {day(today)}" in said
