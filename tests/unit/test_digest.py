"""The weekly digest's content, on a hand-built ledger (docs/analytics.md, "The weekly digest").

The week is Monday 2026-11-23 to Sunday 2026-11-29, amounts in cents:

- Acme Ltd (EUR): I1 €1,000 due 2026-10-31, €600 of it paid on Wednesday; I2 €2,000 issued on
  2026-11-01, due on Tuesday. Overdue: €1,000 the Sunday before, €400 + €2,000 = €2,400 this Sunday
  (grew by €1,400). Collected: €600. DSO at the end of November: €2,400 owed, November billed €2,000
  (30 days, €400 left), October billed €1,000 (400 / 1,000 × 31 = 12.4 days): 42.4 days.
- Globex (USD): I3 $500 due 2026-12-10 (not overdue); $50 paid on 2026-11-20 and applied to nothing
  (credit); $100 paid on Monday 2026-11-30, after the week. Outstanding $500 − $50 = $450, nothing
  collected in the week, DSO: $500 owed, November billed $500: 30.0 days.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

from relance.domain.analytics.history import InvoiceHistory, MoneyHistory, MoneyKind, Month, Settlement
from relance.domain.organizations import OrganizationSettings
from relance.services.analytics import Books
from relance.services.digest import CurrencyFigures, Week, render_digest, week_ended, weekly_digest
from relance.settings import get_settings

WEEK = Week(date(2026, 11, 23), date(2026, 11, 29))
LEDGER = Books(
    customers={"cus_1": {"id": "cus_1", "name": "Acme Ltd"}, "cus_2": {"id": "cus_2", "name": "Globex"}},
    invoices=[
        InvoiceHistory(
            "I1",
            "cus_1",
            "EUR",
            100000,
            date(2026, 10, 1),
            date(2026, 10, 31),
            (Settlement(date(2026, 11, 25), 60000),),
        ),
        InvoiceHistory("I2", "cus_1", "EUR", 200000, date(2026, 11, 1), date(2026, 11, 24)),
        InvoiceHistory("I3", "cus_2", "USD", 50000, date(2026, 11, 10), date(2026, 12, 10)),
    ],
    money=[
        MoneyHistory("P1", "cus_1", MoneyKind.PAYMENT, "EUR", 60000, date(2026, 11, 25), allocated=60000),
        MoneyHistory("P2", "cus_2", MoneyKind.PAYMENT, "USD", 5000, date(2026, 11, 20)),
        MoneyHistory("P3", "cus_2", MoneyKind.PAYMENT, "USD", 10000, date(2026, 11, 30)),
    ],
    settings=OrganizationSettings(),
    now=datetime(2026, 11, 30, 2, tzinfo=UTC),
)


def digest(whole_organization: bool = True):
    return weekly_digest(
        LEDGER,
        WEEK,
        organization_name="Demo Trading",
        person_name="Alice Martin",
        whole_organization=whole_organization,
    )


def test_a_digest_covers_the_week_that_ended_the_day_before_a_monday():
    assert week_ended(date(2026, 11, 30)) == WEEK
    assert [week_ended(date(2026, 11, 30 - n)) for n in range(1, 7)] == [None] * 6


def test_the_figures_are_the_balances_at_the_end_of_sunday_the_week_s_cash_and_the_month_s_dso():
    shown = digest()

    assert shown.figures == (
        CurrencyFigures("EUR", outstanding=240000, overdue=240000, collected=60000, dso_days=Decimal("42.4")),
        CurrencyFigures("USD", outstanding=45000, overdue=0, collected=0, dso_days=Decimal("30.0")),
    )
    assert shown.dso_month == Month(2026, 11)
    assert [(s.name, s.currency, s.overdue, s.growth) for s in shown.slipping] == [("Acme Ltd", "EUR", 240000, 140000)]


def test_the_email_formats_amounts_per_currency_and_links_to_analytics():
    email = render_digest(digest())
    analytics = f"{get_settings().public_base_url}/analytics"

    assert email.subject == "Demo Trading: your week in receivables, Nov 23, 2026 – Nov 29, 2026"
    assert "for all customers" in email.text
    assert "EUR\n- Outstanding: €2,400.00\n- Overdue: €2,400.00\n- Collected this week: €600.00" in email.text
    assert "- DSO, November 2026: 42.4 days" in email.text
    assert "USD\n- Outstanding: $450.00\n- Overdue: $0.00\n- Collected this week: $0.00" in email.text
    assert "- Acme Ltd: €2,400.00 overdue, up €1,400.00 (rating: not rated)" in email.text
    assert f"Open Analytics: {analytics}" in email.text
    assert f'<a href="{analytics}">Open Analytics</a>' in email.html
    assert "<td>Acme Ltd</td>" in email.html and "€1,400.00" in email.html


def test_an_account_manager_s_digest_says_it_covers_their_customers():
    email = render_digest(digest(whole_organization=False))

    assert "for your customers" in email.text


def test_customer_names_are_escaped_in_the_html():
    named = Books(
        customers={"cus_1": {"id": "cus_1", "name": "<b>Acme</b> & Co"}},
        invoices=[InvoiceHistory("I2", "cus_1", "EUR", 200000, date(2026, 11, 1), date(2026, 11, 24))],
        money=[],
        settings=OrganizationSettings(),
        now=LEDGER.now,
    )
    shown = weekly_digest(named, WEEK, organization_name="Demo", person_name="Alice", whole_organization=True)

    email = render_digest(shown)

    assert "&lt;b&gt;Acme&lt;/b&gt; &amp; Co" in email.html
    assert "<b>Acme</b> & Co: €2,000.00 overdue" in email.text
