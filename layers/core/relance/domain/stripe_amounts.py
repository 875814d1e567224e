"""Amounts as Stripe counts them, and what Stripe can charge: pure rules, no I/O.

Relance keeps money in the currency's minor units as ISO 4217 and CLDR (Babel) define them; Stripe
has its own rules (https://docs.stripe.com/currencies), and the two differ:

- **zero-decimal** currencies (JPY, KRW, CLP, XOF…) are whole units on both sides;
- **three-decimal** currencies (BHD, JOD, KWD, OMR, TND) are thousandths on both sides, but for card
  payments Stripe needs the last digit to be 0: an amount is charged in multiples of ten;
- **ISK and UGX** are whole units for Babel but two-decimal for Stripe, with ``00`` as decimals
  (5 ISK is ``500``); **HUF and TWD** are two-decimal for charges (HUF is whole forints for Babel);
- every other currency is two-decimal for Stripe, including some that Babel counts in whole units
  (IDR, COP, LAK, MMK…).

``to_stripe`` converts at the boundary, rounding **up** to the next amount Stripe can charge (a
three-decimal amount ending in 1–9): the invoice is settled in full and the few thousandths over
stay unapplied on the payment. ``from_stripe`` is its exact inverse; an amount that has no exact
value in our units is refused. ``check_charge`` says, before anything is written or sent, whether
Stripe would take the charge: a currency Stripe charges, at most ``MAX_LINE_ITEMS`` lines, at least
Stripe's documented minimum, at most ``MAX_STRIPE_AMOUNT`` in Stripe's units.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from babel.numbers import get_currency_precision

ZERO_DECIMAL = frozenset(
    {
        "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "VND", "VUV", "XAF", "XOF",
        "XPF",
    }
)  # fmt: skip
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
WHOLE_IN_TWO_DECIMALS = frozenset({"ISK", "UGX"})
"""Two-decimal for Stripe, but the decimals are always ``00``: no fraction can be charged."""

PRESENTMENT = frozenset(
    {
        "USD", "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
        "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF",
        "CLP", "CNY", "COP", "CRC", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ETB", "EUR", "FJD",
        "FKP", "GBP", "GEL", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS",
        "INR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KRW", "KWD", "KYD", "KZT", "LAK",
        "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MUR", "MVR", "MWK",
        "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP",
        "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SEK", "SGD", "SHP",
        "SLE", "SOS", "SRD", "STD", "SZL", "THB", "TJS", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH",
        "UGX", "UYU", "UZS", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW",
    }
)  # fmt: skip
"""The currencies Stripe charges in (its presentment currencies)."""

MINIMUMS = {
    "USD": "0.50", "AED": "2.00", "AUD": "0.50", "BGN": "1.00", "BRL": "0.50", "CAD": "0.50",
    "CHF": "0.50", "CZK": "15.00", "DKK": "2.50", "EUR": "0.50", "GBP": "0.30", "HKD": "4.00",
    "HUF": "175.00", "INR": "0.50", "JPY": "50", "MXN": "10", "MYR": "2", "NOK": "3.00",
    "NZD": "0.50", "PLN": "2.00", "RON": "2.00", "SEK": "3.00", "SGD": "0.50", "THB": "10",
}  # fmt: skip
"""Stripe's documented minimum charge per currency, in major units. For other currencies Stripe's
minimum is the equivalent of 0.50 USD at the day's rate, which only Stripe can check."""

MAX_STRIPE_AMOUNT = 99_999_999
"""Stripe's amounts have at most eight digits (999,999.99 in a two-decimal currency)."""
MAX_LINE_ITEMS = 100
"""A Checkout session in payment mode takes at most 100 line items."""


def stripe_exponent(currency: str) -> int:
    """How many decimals Stripe's amounts have in ``currency``."""
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def _our_exponent(currency: str) -> int:
    return int(get_currency_precision(currency))


def stripe_step(currency: str) -> int:
    """The smallest amount, in Stripe's units, that Stripe charges in ``currency``."""
    if currency in THREE_DECIMAL:
        return 10
    if currency in WHOLE_IN_TWO_DECIMALS:
        return 100
    return 1


def _ten_to(power: int) -> int:
    return int(10**power)


def _ceil_to(value: int, step: int) -> int:
    return -(-value // step) * step


def to_stripe(amount: int, currency: str) -> int:
    """``amount`` (our minor units) as Stripe's ``unit_amount``, rounded up to what Stripe can charge."""
    shift = stripe_exponent(currency) - _our_exponent(currency)
    scaled = amount * _ten_to(shift) if shift >= 0 else _ceil_to(amount, _ten_to(-shift)) // _ten_to(-shift)
    return _ceil_to(scaled, stripe_step(currency))


class NotRepresentable(ValueError):
    """A Stripe amount that has no exact value in our minor units (e.g. 100.50 HUF)."""


def from_stripe(stripe_amount: int, currency: str) -> int:
    """A Stripe amount (``amount_total``) in our minor units, exactly; NotRepresentable otherwise."""
    shift = _our_exponent(currency) - stripe_exponent(currency)
    if shift >= 0:
        return stripe_amount * _ten_to(shift)
    whole, rest = divmod(stripe_amount, _ten_to(-shift))
    if rest:
        raise NotRepresentable(f"{stripe_amount} in Stripe's units of {currency} is not a whole amount of ours")
    return whole


def from_stripe_down(stripe_amount: int, currency: str) -> int:
    """A Stripe amount in our minor units, rounded down (for showing a limit)."""
    shift = _our_exponent(currency) - stripe_exponent(currency)
    return stripe_amount * _ten_to(shift) if shift >= 0 else stripe_amount // _ten_to(-shift)


def stripe_minimum(currency: str) -> int | None:
    """Stripe's documented minimum charge in ``currency``, in Stripe's units (None: not documented)."""
    major = MINIMUMS.get(currency)
    return None if major is None else int(Decimal(major).scaleb(stripe_exponent(currency)))


class Refusal(StrEnum):
    CURRENCY = "currency"
    TOO_MANY_LINES = "too_many_lines"
    BELOW_MINIMUM = "below_minimum"
    ABOVE_MAXIMUM = "above_maximum"


class ChargeRefused(ValueError):
    """Stripe would refuse the charge; ``limit`` is the limit passed, in our minor units, if any."""

    def __init__(self, reason: Refusal, limit: int | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.limit = limit


def check_charge(currency: str, amounts: list[int]) -> list[int]:
    """The lines' amounts in Stripe's units if Stripe can charge them in one Checkout; else ChargeRefused."""
    if currency not in PRESENTMENT:
        raise ChargeRefused(Refusal.CURRENCY)
    if len(amounts) > MAX_LINE_ITEMS:
        raise ChargeRefused(Refusal.TOO_MANY_LINES, MAX_LINE_ITEMS)
    lines = [to_stripe(amount, currency) for amount in amounts]
    total = sum(lines)
    minimum = stripe_minimum(currency)
    if minimum is not None and total < minimum:
        raise ChargeRefused(Refusal.BELOW_MINIMUM, from_stripe(_ceil_to(minimum, stripe_step(currency)), currency))
    if total > MAX_STRIPE_AMOUNT:
        step = stripe_step(currency)
        raise ChargeRefused(Refusal.ABOVE_MAXIMUM, from_stripe_down(MAX_STRIPE_AMOUNT // step * step, currency))
    return lines
