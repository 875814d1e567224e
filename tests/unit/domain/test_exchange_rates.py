"""Rates as entered, and balances converted figure by figure (docs/analytics.md, "Conversion")."""

from datetime import date
from decimal import Decimal

import pytest

from relance.domain.analytics.rates import MAX_DECIMALS, Rate, RateTable, convert_figures, rate_value

EUR_BOOKS = RateTable.of(
    "EUR",
    [
        Rate("USD", date(2026, 3, 27), Decimal("0.9200")),
        Rate("USD", date(2026, 3, 30), Decimal("0.9250")),
        Rate("GBP", date(2026, 3, 2), Decimal("1.1700")),
    ],
)


def test_a_rate_is_read_exactly_as_entered():
    assert rate_value(" 1.0843 ") == Decimal("1.0843")
    assert rate_value("150") == Decimal(150)
    assert rate_value("0.0000587") == Decimal("0.0000587")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1,0843", "a decimal number with a point"),
        ("-1.2", "a decimal number with a point"),
        ("1e3", "a decimal number with a point"),
        ("", "a decimal number with a point"),
        ("NaN", "a decimal number with a point"),
        ("0", "more than 0"),
        ("0.000", "more than 0"),
        ("0." + "1" * (MAX_DECIMALS + 1), f"at most {MAX_DECIMALS} decimal places"),
        ("1000000001", "at most 1,000,000,000"),
    ],
)
def test_a_rate_that_is_not_a_positive_decimal_is_refused_with_its_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        rate_value(text)


def test_each_figure_is_converted_at_the_latest_rate_on_or_before_the_day():
    balances = {
        "EUR": {"due": 80000, "overdue": 290000, "credit": 10000, "outstanding": 360000},
        "USD": {"due": 0, "overdue": 150000, "credit": 0, "outstanding": 150000},
        "GBP": {"due": 10001, "overdue": 0, "credit": 0, "outstanding": 10001},
    }

    parts, totals = convert_figures(balances, EUR_BOOKS, date(2026, 3, 31))

    by_currency = {p.currency: p for p in parts}
    assert by_currency["USD"].rate == Rate("USD", date(2026, 3, 30), Decimal("0.9250"))
    assert by_currency["USD"].figures == {"due": 0, "overdue": 138750, "credit": 0, "outstanding": 138750}
    assert by_currency["GBP"].figures == {"due": 11701, "overdue": 0, "credit": 0, "outstanding": 11701}  # 117.0117
    assert by_currency["EUR"].rate is not None and by_currency["EUR"].rate.value == 1
    assert totals == {"credit": 10000, "due": 91701, "outstanding": 510451, "overdue": 428750}


def test_no_total_while_a_currency_has_no_rate_but_the_others_are_still_converted():
    balances = {"EUR": {"outstanding": 360000}, "USD": {"outstanding": 150000}}

    parts, totals = convert_figures(balances, EUR_BOOKS, date(2026, 3, 26))  # before the first USD rate

    assert totals is None
    assert [(p.currency, p.figures) for p in parts] == [("EUR", {"outstanding": 360000}), ("USD", None)]


def test_each_figure_is_rounded_on_its_own_half_up():
    table = RateTable.of("EUR", [Rate("USD", date(2026, 1, 1), Decimal("0.5"))])

    parts, totals = convert_figures({"USD": {"due": 1, "overdue": 1, "outstanding": 2}}, table, date(2026, 1, 1))

    assert parts[0].figures == {"due": 1, "overdue": 1, "outstanding": 1}  # 0.005 → 0.01 each; 0.01 whole
    assert totals == {"due": 1, "outstanding": 1, "overdue": 1}
