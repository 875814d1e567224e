from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from relance.domain.money import CurrencyMismatch, Money

amounts = st.integers(min_value=-(10**15), max_value=10**15)


def test_amount_is_integer_minor_units():
    with pytest.raises(ValidationError):
        Money(amount=12.5, currency="EUR")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Money(amount="1250", currency="EUR")  # type: ignore[arg-type]


def test_currency_must_be_iso_4217():
    with pytest.raises(ValidationError, match="ISO-4217"):
        Money(amount=100, currency="EURO")
    with pytest.raises(ValidationError, match="ISO-4217"):
        Money(amount=100, currency="eur")


def test_currencies_do_not_mix():
    with pytest.raises(CurrencyMismatch):
        Money(amount=1, currency="EUR") + Money(amount=1, currency="USD")


@given(amounts, amounts)
def test_addition_is_exact_and_commutative(a, b):
    left = Money(amount=a, currency="USD") + Money(amount=b, currency="USD")
    right = Money(amount=b, currency="USD") + Money(amount=a, currency="USD")

    assert left == right == Money(amount=a + b, currency="USD")


@given(amounts, amounts)
def test_subtraction_undoes_addition(a, b):
    total = Money(amount=a, currency="EUR") + Money(amount=b, currency="EUR")

    assert total - Money(amount=b, currency="EUR") == Money(amount=a, currency="EUR")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [(123456, "USD", Decimal("1234.56")), (1234, "JPY", Decimal("1234")), (1234, "KWD", Decimal("1.234"))],
)
def test_minor_units_follow_the_currency(amount, currency, expected):
    assert Money(amount=amount, currency=currency).to_decimal() == expected


def test_format_follows_the_locale():
    money = Money(amount=123450, currency="EUR")

    assert money.format("en") == "€1,234.50"
    assert money.format("fr").replace("\u202f", " ").replace("\xa0", " ") == "1 234,50 €"
