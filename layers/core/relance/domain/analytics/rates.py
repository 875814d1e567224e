"""Converting to the organization's currency with stored daily rates: the latest rate on or before
the day is used and its date is given with the result; a missing rate is reported, never guessed."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from relance.domain.money import Money

MAX_DECIMALS = 10
"""Decimal places a rate may have (1 IDR is 0.0000587 EUR: published rates carry 4 to 8)."""
MAX_RATE = Decimal(10**9)
_RATE_TEXT = re.compile(r"[0-9]{1,30}(\.[0-9]{1,30})?")


def rate_value(text: str) -> Decimal:
    """A rate as entered or imported (``"1.0843"``): digits with a decimal point, above 0, at most
    ``MAX_DECIMALS`` decimal places and ``MAX_RATE``; ValueError says what is wrong, in a reader's words."""
    text = text.strip()
    if not _RATE_TEXT.fullmatch(text):
        raise ValueError("a decimal number with a point, such as 1.0843")
    value = Decimal(text)
    places = len(text.partition(".")[2])
    if places > MAX_DECIMALS:
        raise ValueError(f"at most {MAX_DECIMALS} decimal places")
    if value <= 0:
        raise ValueError("more than 0")
    if value > MAX_RATE:
        raise ValueError(f"at most {MAX_RATE:,}")
    return value


@dataclass(frozen=True)
class Rate:
    """One unit of ``currency`` is worth ``value`` units of the organization's currency on ``on``."""

    currency: str
    on: date
    value: Decimal


@dataclass(frozen=True)
class RateTable:
    """The rates entered or imported, into the organization's currency ``base``."""

    base: str
    rates: tuple[Rate, ...] = ()
    _by_currency: dict[str, list[Rate]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_currency: dict[str, list[Rate]] = {}
        for rate in sorted(self.rates, key=lambda r: (r.currency, r.on)):
            days = by_currency.setdefault(rate.currency, [])
            if days and days[-1].on == rate.on:
                raise ValueError(f"two {rate.currency} rates on {rate.on}")
            if rate.value <= 0:
                raise ValueError(f"the {rate.currency} rate on {rate.on} is not positive")
            days.append(rate)
        object.__setattr__(self, "_by_currency", by_currency)

    @classmethod
    def of(cls, base: str, rates: Iterable[Rate]) -> RateTable:
        return cls(base, tuple(rates))

    def rate(self, currency: str, day: date) -> Rate | None:
        """The latest rate of ``currency`` on or before ``day``; the base currency is 1 on any day."""
        if currency == self.base:
            return Rate(currency, day, Decimal(1))
        days = self._by_currency.get(currency, [])
        index = bisect_right([r.on for r in days], day)
        return days[index - 1] if index else None


@dataclass(frozen=True)
class Converted:
    source: Money
    amount: Money
    rate: Rate


@dataclass(frozen=True)
class MissingRate:
    source: Money
    day: date


def convert(money: Money, table: RateTable, day: date) -> Converted | MissingRate:
    """``money`` in the base currency at the rate of ``day``, rounded half up to the base's minor unit."""
    rate = table.rate(money.currency, day)
    if rate is None:
        return MissingRate(money, day)
    amount = Money(amount=_at(money.amount, money.currency, rate, table.base), currency=table.base)
    return Converted(money, amount, rate)


def _at(amount: int, currency: str, rate: Rate, base: str) -> int:
    """``amount`` (minor units of ``currency``) times ``rate``, in minor units of ``base``, rounded half up."""
    exact = Money(amount=amount, currency=currency).to_decimal() * rate.value
    minor = exact.scaleb(Money.zero(base).minor_digits).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(minor)


@dataclass(frozen=True)
class ConvertedTotal:
    """Amounts in several currencies brought to one; no total when any rate is missing."""

    currency: str
    parts: tuple[Converted | MissingRate, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(p.source.currency for p in self.parts if isinstance(p, MissingRate))

    @property
    def total(self) -> Money | None:
        if self.missing:
            return None
        return Money(
            amount=sum(p.amount.amount for p in self.parts if isinstance(p, Converted)), currency=self.currency
        )


def convert_total(amounts: Mapping[str, int], table: RateTable, day: date) -> ConvertedTotal:
    """Per-currency ``amounts`` (minor units) converted and added up in the base currency."""
    parts = tuple(convert(Money(amount=amounts[c], currency=c), table, day) for c in sorted(amounts))
    return ConvertedTotal(table.base, parts)


@dataclass(frozen=True)
class ConvertedFigures:
    """Several figures of one currency (due, overdue…) in the base currency at one rate; ``figures`` is None
    when the currency has no rate on or before the day."""

    currency: str
    rate: Rate | None
    figures: Mapping[str, int] | None


def convert_figures(
    by_currency: Mapping[str, Mapping[str, int]], table: RateTable, day: date
) -> tuple[tuple[ConvertedFigures, ...], Mapping[str, int] | None]:
    """Each currency's named figures converted on their own (each rounded half up), and their sums in the
    base currency — None when any currency has no rate: a total is never made of guesses."""
    parts = []
    for currency in sorted(by_currency):
        rate = table.rate(currency, day)
        figures = by_currency[currency]
        converted = None if rate is None else {n: _at(a, currency, rate, table.base) for n, a in figures.items()}
        parts.append(ConvertedFigures(currency, rate, converted))
    if any(p.figures is None for p in parts):
        return tuple(parts), None
    names = sorted({name for figures in by_currency.values() for name in figures})
    return tuple(parts), {name: sum((p.figures or {}).get(name, 0) for p in parts) for name in names}
