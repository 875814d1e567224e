"""Amounts at the Stripe boundary: Stripe's own decimals per currency, and what Stripe can charge."""

import pytest

from relance.domain.money import Money
from relance.domain.stripe_amounts import (
    MAX_STRIPE_AMOUNT,
    PRESENTMENT,
    THREE_DECIMAL,
    ZERO_DECIMAL,
    ChargeRefused,
    NotRepresentable,
    Refusal,
    check_charge,
    from_stripe,
    stripe_exponent,
    stripe_minimum,
    to_stripe,
)


@pytest.mark.parametrize(
    ("amount", "currency", "stripe_amount"),
    [
        (100_000, "HUF", 10_000_000),  # 100,000 Ft: Babel counts forints, Stripe fillér
        (5, "ISK", 500),  # 5 ISK: two decimals for Stripe, always 00
        (60_000, "UGX", 6_000_000),
        (12_345, "TWD", 12_345),  # 123.45 TWD: two decimals on both sides
        (1_500_000, "IDR", 150_000_000),  # Babel whole rupiah, Stripe two decimals
        (5_000, "JPY", 5_000),  # zero-decimal on both sides
        (5_000, "KRW", 5_000),
        (5_120, "KWD", 5_120),  # 5.120 KWD: three decimals, last digit 0
        (12_340, "BHD", 12_340),
        (15_400, "USD", 15_400),
        (15_400, "EUR", 15_400),
    ],
)
def test_amounts_go_to_stripe_in_stripes_units_and_come_back(amount, currency, stripe_amount):
    assert to_stripe(amount, currency) == stripe_amount
    assert from_stripe(stripe_amount, currency) == amount


def test_a_100000_huf_invoice_is_charged_100000_huf():
    stripe_amount = to_stripe(100_000, "HUF")

    assert stripe_amount / 10 ** stripe_exponent("HUF") == 100_000
    assert Money(amount=from_stripe(stripe_amount, "HUF"), currency="HUF").format("en") == "HUF100,000"


@pytest.mark.parametrize("currency", sorted(THREE_DECIMAL))
def test_three_decimal_amounts_are_rounded_up_to_a_multiple_of_ten(currency):
    assert to_stripe(5_124, currency) == 5_130
    assert to_stripe(5_121, currency) == 5_130
    assert to_stripe(5_130, currency) == 5_130
    assert from_stripe(5_130, currency) == 5_130


@pytest.mark.parametrize("currency", sorted(ZERO_DECIMAL))
def test_zero_decimal_currencies_are_whole_units_on_both_sides(currency):
    assert stripe_exponent(currency) == 0
    assert to_stripe(1_234, currency) == 1_234 and from_stripe(1_234, currency) == 1_234


@pytest.mark.parametrize("currency", ["HUF", "ISK", "UGX", "TWD"])
def test_the_special_currencies_are_two_decimal_for_stripe(currency):
    assert stripe_exponent(currency) == 2
    assert to_stripe(from_stripe(700, currency), currency) == 700


@pytest.mark.parametrize("currency", ["HUF", "ISK", "UGX", "IDR"])
def test_a_stripe_amount_with_a_fraction_we_cannot_keep_is_refused(currency):
    with pytest.raises(NotRepresentable):
        from_stripe(10_050, currency)


@pytest.mark.parametrize("currency", sorted(PRESENTMENT))
def test_every_stripe_currency_round_trips(currency):
    for amount in (1, 7, 10, 999, 123_456):
        charged = to_stripe(amount, currency)
        assert from_stripe(charged, currency) >= amount  # never less than owed
        assert to_stripe(from_stripe(charged, currency), currency) == charged
    assert from_stripe(to_stripe(1_000, currency), currency) == 1_000


def test_a_currency_stripe_does_not_charge_is_refused():
    with pytest.raises(ChargeRefused) as refused:
        check_charge("IRR", [1_000])
    assert refused.value.reason == Refusal.CURRENCY


def test_more_than_100_lines_are_refused():
    assert len(check_charge("USD", [100] * 100)) == 100
    with pytest.raises(ChargeRefused) as refused:
        check_charge("USD", [100] * 101)
    assert refused.value.reason == Refusal.TOO_MANY_LINES


@pytest.mark.parametrize(
    ("currency", "minimum_ours"), [("USD", 50), ("GBP", 30), ("HUF", 175), ("JPY", 50), ("MXN", 1_000)]
)
def test_below_stripes_minimum_is_refused_naming_the_minimum(currency, minimum_ours):
    assert check_charge(currency, [minimum_ours])
    with pytest.raises(ChargeRefused) as refused:
        check_charge(currency, [minimum_ours - 1])
    assert (refused.value.reason, refused.value.limit) == (Refusal.BELOW_MINIMUM, minimum_ours)


def test_the_minimum_is_of_the_total_not_of_each_line():
    assert check_charge("USD", [20, 30]) == [20, 30]


def test_above_eight_digits_in_stripes_units_is_refused():
    assert check_charge("USD", [MAX_STRIPE_AMOUNT]) == [MAX_STRIPE_AMOUNT]
    with pytest.raises(ChargeRefused) as refused:
        check_charge("USD", [MAX_STRIPE_AMOUNT - 1, 2])
    assert (refused.value.reason, refused.value.limit) == (Refusal.ABOVE_MAXIMUM, MAX_STRIPE_AMOUNT)


def test_the_maximum_counts_in_stripes_units_not_ours():
    assert check_charge("HUF", [999_999])  # 999,999 Ft = 99,999,900 in Stripe's units
    with pytest.raises(ChargeRefused) as refused:
        check_charge("HUF", [1_000_000])  # 100,000,000 in Stripe's units
    assert (refused.value.reason, refused.value.limit) == (Refusal.ABOVE_MAXIMUM, 999_999)


def test_documented_minimums_are_in_stripes_units():
    assert (stripe_minimum("USD"), stripe_minimum("HUF"), stripe_minimum("JPY")) == (50, 17_500, 50)
    assert stripe_minimum("KWD") is None
