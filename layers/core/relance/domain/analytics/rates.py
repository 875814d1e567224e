"""Converting to the organization's currency with stored daily rates: the latest rate on or before
the day is used and its date is given with the result; a missing rate is reported, never guessed."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from relance.domain.money import Money


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
    base_digits = Money.zero(table.base).minor_digits
    exact = money.to_decimal() * rate.value
    minor = exact.scaleb(base_digits).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Converted(money, Money(amount=int(minor), currency=table.base), rate)


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
