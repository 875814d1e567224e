from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.domain.money import Money
from relance.domain.rating import RatedInvoice, RatingBasis, expected_payment_date, letter_for, rate

DUE = date(2026, 1, 31)
TODAY = date(2026, 6, 1)


def paid(amount: int, days_late: int, currency: str = "USD", number: str = "INV") -> RatedInvoice:
    return RatedInvoice(number, number, Money(amount=amount, currency=currency), DUE, DUE + timedelta(days=days_late))


def open_invoice(amount: int, due: date, number: str = "OPEN") -> RatedInvoice:
    return RatedInvoice(number, number, Money(amount=amount, currency="USD"), due, None, open_outstanding=amount)


def test_worked_example_gives_25_days_and_an_a():
    rating = rate([paid(14000, 7, number="A"), paid(8500, 55, number="B")], TODAY)

    assert rating.average_payment_delay_days == 25
    assert rating.letter == "A"
    assert [d.number for d in rating.drivers] == ["B", "A"]
    assert sum(d.share for d in rating.drivers) == 100


@pytest.mark.parametrize(
    ("days", "letter"),
    [(-10, "A"), (0, "A"), (30, "A"), (31, "B"), (60, "B"), (61, "C"), (90, "C"), (91, "D")],
)
def test_fixed_brackets(days, letter):
    assert letter_for(days) == letter
    assert rate([paid(1000, days)], TODAY).letter == letter


def test_no_paid_invoice_no_rating():
    rating = rate([open_invoice(5000, DUE)], TODAY)

    assert rating.letter is None
    assert rating.average_payment_delay_days is None
    assert rating.drivers == []


def test_early_payment_is_a_negative_delay():
    assert rate([paid(1000, -5)], TODAY).average_payment_delay_days == -5


def test_overdue_aware_delay_counts_open_overdue_invoices_at_their_age():
    invoices = [paid(10000, 0), open_invoice(10000, TODAY - timedelta(days=120), "LATE")]

    by_paid = rate(invoices, TODAY)
    aware = rate(invoices, TODAY, RatingBasis.OVERDUE_AWARE)

    assert by_paid.letter == "A"
    assert aware.overdue_aware_delay_days == 60
    assert aware.letter == "B"
    assert aware.drivers[0].number == "LATE"


def test_open_invoices_not_yet_due_do_not_count():
    invoices = [paid(10000, 10), open_invoice(10000, TODAY + timedelta(days=10))]

    assert rate(invoices, TODAY, RatingBasis.OVERDUE_AWARE).overdue_aware_delay_days == 10


def test_amounts_weigh_in_major_units_across_currencies():
    rating = rate([paid(10000, 10, "USD"), paid(10000, 40, "JPY")], TODAY)  # $100 and ¥10,000

    assert rating.average_payment_delay_days == 40  # ¥10,000 weighs 100 times $100 by face value


@given(st.lists(st.tuples(st.integers(1, 10**9), st.integers(-60, 400)), min_size=1, max_size=30))
def test_average_lies_between_the_smallest_and_largest_delay(terms):
    rating = rate([paid(amount, days) for amount, days in terms], TODAY)

    delays = [days for _, days in terms]
    assert min(delays) <= rating.average_payment_delay_days <= max(delays)


def test_expected_payment_date_is_due_date_plus_average_delay():
    assert expected_payment_date(DUE, 25) == date(2026, 2, 25)
    assert expected_payment_date(DUE, None) == DUE
