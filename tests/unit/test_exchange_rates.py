"""A CSV of exchange rates is checked whole, naming each line and column at fault; the summary's
conversion gives its rates with their dates and no totals while a rate is missing."""

from datetime import date
from decimal import Decimal

import pytest

from relance.domain.analytics.rates import Rate
from relance.domain.organizations import OrganizationSettings
from relance.errors import Invalid
from relance.services.exchange_rates import conversion, parse_import, usable_rates

EUR = OrganizationSettings(default_currency="EUR", timezone="Europe/Paris")
TODAY = date(2026, 4, 1)


def test_a_good_file_gives_every_rate_canonical_and_in_upper_case():
    text = "\ufeffDate,Currency,Rate\r\n2026-03-30,usd,0.9250\r\n\r\n2026-03-31,GBP, 1.17 \r\n"

    rates = parse_import(text, EUR, TODAY)

    assert rates == [
        {"date": "2026-03-30", "currency": "USD", "rate": "0.9250"},
        {"date": "2026-03-31", "currency": "GBP", "rate": "1.17"},
    ]


def test_each_line_at_fault_is_named_with_its_column():
    text = (
        "currency,date,rate\n"
        "USD,2026-03-30,0.9250\n"
        "USD,2026-03-31,-1\n"  # line 3
        "XYZ,2026-04-02,1.1\n"  # line 4: no such currency, and after today
        "EUR,2026-03-30,1\n"  # line 5: the organization's own currency
        "USD,2026-03-30,0.93\n"  # line 6: USD already has 03-30 (line 2)
        "GBP,31/03/2026,1.17\n"  # line 7
        "GBP,2026-03-31\n"  # line 8
    )

    with pytest.raises(Invalid) as refused:
        parse_import(text, EUR, TODAY)

    assert refused.value.fields == {
        "line 3, rate": "a decimal number with a point, such as 1.0843",
        "line 4, currency": "a three-letter ISO 4217 code, such as USD",
        "line 4, date": "today (2026-04-01) or before, in the organization's time zone",
        "line 5, currency": "EUR is the organization's currency: its rate is always 1",
        "line 6, date": "USD already has a rate on 2026-03-30 at line 2",
        "line 7, date": "a date, YYYY-MM-DD",
        "line 8": "3 values expected, found 2",
    }
    assert refused.value.message.startswith("nothing was imported: line 3, rate:")
    assert "(and 6 more)" in refused.value.message


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "body"),
        ("currency,date,rate\n", "body"),
        ("currency,day,rate\nUSD,2026-03-30,1\n", "line 1"),
        ("currency,date,rate,note\nUSD,2026-03-30,1,x\n", "line 1"),
    ],
)
def test_a_file_without_a_proper_header_or_rates_is_refused(text, field):
    with pytest.raises(Invalid) as refused:
        parse_import(text, EUR, TODAY)

    assert field in refused.value.fields


def test_the_conversion_lists_each_rate_with_its_date_and_the_currencies_missing_one():
    rates = [Rate("USD", date(2026, 3, 30), Decimal("0.9250"))]
    balances = {
        "EUR": {"due": 80000, "overdue": 290000, "credit": 10000, "outstanding": 360000},
        "GBP": {"due": 0, "overdue": 5000, "credit": 0, "outstanding": 5000},
        "USD": {"due": 0, "overdue": 150000, "credit": 0, "outstanding": 150000},
    }

    converted = conversion(balances, rates, "EUR", date(2026, 3, 31))

    assert not converted.complete
    assert converted.missing == ["GBP"]
    assert converted.outstanding is None and converted.overdue is None  # never guessed
    usd = next(i for i in converted.items if i.currency == "USD")
    assert (usd.rate, usd.rate_date, usd.outstanding) == ("0.9250", date(2026, 3, 30), 138750)

    whole = conversion({c: b for c, b in balances.items() if c != "GBP"}, rates, "EUR", date(2026, 3, 31))

    assert whole.complete and whole.outstanding == 498750 and whole.due == 80000


def test_rates_into_a_former_organization_currency_are_not_used():
    stored = [
        {"currency": "USD", "date": "2026-03-30", "rate": "0.9250", "into": "EUR"},
        {"currency": "GBP", "date": "2026-03-30", "rate": "1.27", "into": "USD"},
    ]

    assert usable_rates(stored, "EUR") == (Rate("USD", date(2026, 3, 30), Decimal("0.9250")),)
