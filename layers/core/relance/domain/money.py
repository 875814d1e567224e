"""Money: an integer amount in minor units of an ISO-4217 currency. Never a float."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Self

from babel.numbers import format_currency, get_currency_precision, list_currencies
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def _iso_currency(code: str) -> str:
    if code not in _currencies():
        raise ValueError(f"'{code}' is not an ISO-4217 currency code")
    return code


CurrencyCode = Annotated[str, AfterValidator(_iso_currency)]
"""An upper-case ISO-4217 code such as ``EUR``; validated against Babel's list."""

MAX_AMOUNT = 10**15
"""The largest amount the API takes, in minor units (10 trillion euros): sums of many stay far
inside DynamoDB's 38 digits and a float's exact integers."""

Amount = Annotated[int, Field(gt=0, le=MAX_AMOUNT)]
"""A positive amount in minor units, at most ``MAX_AMOUNT``."""

SignedAmount = Annotated[int, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)]
"""An amount or a whole number that may be negative (a filter bound, a number custom field)."""


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


class Money(BaseModel):
    """An amount in minor units (cents for USD, yen for JPY) with its currency."""

    model_config = ConfigDict(frozen=True)

    amount: StrictInt
    currency: CurrencyCode

    @classmethod
    def zero(cls, currency: str) -> Self:
        return cls(amount=0, currency=currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    @property
    def minor_digits(self) -> int:
        """How many decimal places the currency has (2 for EUR, 0 for JPY, 3 for KWD)."""
        return int(get_currency_precision(self.currency))

    def to_decimal(self) -> Decimal:
        """The amount in major units, exactly (for display and export only)."""
        return Decimal(self.amount).scaleb(-self.minor_digits)

    def format(self, locale: str = "en") -> str:
        """The amount as a reader in ``locale`` expects it, e.g. ``$1,234.50`` or ``1 234,50 €``."""
        return str(format_currency(self.to_decimal(), self.currency, locale=locale))
