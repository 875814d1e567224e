"""Days sales outstanding, by the countback method and the classic ratio, and the at-risk rate.

All per currency: a month's billings in two currencies are never added without a rate.
Receivables are the open invoice balances at the end of the month (unapplied credit is not
taken off: it is not a billing). Days are exact fractions rounded half up to one decimal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from relance.domain.analytics.history import InvoiceHistory, Month

AT_RISK_DAYS = 90


def _one_decimal(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def billings(invoices: Iterable[InvoiceHistory], currency: str, month: Month) -> int:
    """The amounts of the invoices in ``currency`` issued during ``month``."""
    return sum(i.amount for i in invoices if i.currency == currency and Month.of(i.issued_on) == month)


def receivables(invoices: Iterable[InvoiceHistory], currency: str, month: Month) -> int:
    """What the invoices in ``currency`` still owed at the end of ``month``."""
    end = month.last_day
    return sum(i.outstanding_on(end) for i in invoices if i.currency == currency)


@dataclass(frozen=True)
class CountbackStep:
    """One month of the walk back: its billings, how much of the receivables they absorbed, its days."""

    month: Month
    billings: int
    absorbed: int
    days: Fraction


@dataclass(frozen=True)
class Dso:
    month: Month
    currency: str
    receivables: int
    billings: int
    countback_days: Decimal
    classic_days: Decimal | None
    steps: tuple[CountbackStep, ...]


def dso(invoices: Iterable[InvoiceHistory], currency: str, month: Month) -> Dso:
    """DSO at the end of ``month``.

    Countback: walk back month by month from ``month``; a month whose billings do not cover the
    receivables left counts all its days and takes its billings off them; the month that covers
    them counts its days × (receivables left / its billings), and the walk stops. A month with
    no billings covers nothing: it counts all its days. Classic: receivables / the month's
    billings × its days (none without billings).
    """
    listed = [i for i in invoices if i.currency == currency]
    return _dso(listed, _monthly_billings(listed), currency, month)


def _monthly_billings(invoices: Iterable[InvoiceHistory]) -> dict[Month, int]:
    """The billings of each month, summed once for every month's walk back."""
    monthly: dict[Month, int] = {}
    for invoice in invoices:
        month = Month.of(invoice.issued_on)
        monthly[month] = monthly.get(month, 0) + invoice.amount
    return monthly


def _dso(listed: list[InvoiceHistory], monthly: dict[Month, int], currency: str, month: Month) -> Dso:
    owed = receivables(listed, currency, month)
    billed = monthly.get(month, 0)
    first = min(monthly, default=month)
    steps: list[CountbackStep] = []
    left, walked = owed, month
    while left > 0 and walked >= first:  # receivables come from these billings: the walk ends by ``first``
        amount = monthly.get(walked, 0)
        if amount >= left:
            steps.append(CountbackStep(walked, amount, left, Fraction(left * walked.days, amount)))
            left = 0
        else:
            steps.append(CountbackStep(walked, amount, amount, Fraction(walked.days)))
            left -= amount
        walked = walked.previous()
    classic = _one_decimal(Fraction(owed * month.days, billed)) if billed else None
    countback = _one_decimal(sum((s.days for s in steps), Fraction(0)))
    return Dso(month, currency, owed, billed, countback, classic, tuple(steps))


def dso_by_month(invoices: Iterable[InvoiceHistory], currency: str, last: Month, months: int = 12) -> list[Dso]:
    """``dso`` for each of the ``months`` months ending with ``last``, oldest first."""
    listed = [i for i in invoices if i.currency == currency]
    monthly = _monthly_billings(listed)
    return [_dso(listed, monthly, currency, month) for month in last.back(months)]


@dataclass(frozen=True)
class AtRisk:
    """How much of a month's billings was still unpaid 90 days after each invoice's issue date.

    ``unpaid`` and ``rate`` (percent, one decimal) are None until every invoice of the month is
    90 days old on the day asked.
    """

    month: Month
    currency: str
    billed: int
    unpaid: int | None
    rate: Decimal | None


def at_risk(invoices: Iterable[InvoiceHistory], currency: str, month: Month, today: date) -> AtRisk:
    """The at-risk rate of ``month``'s billings in ``currency``, as known on ``today``."""
    issued = [i for i in invoices if i.currency == currency and Month.of(i.issued_on) == month]
    billed = sum(i.amount for i in issued)
    if month.last_day + timedelta(days=AT_RISK_DAYS) > today:
        return AtRisk(month, currency, billed, None, None)
    unpaid = sum(i.outstanding_on(i.issued_on + timedelta(days=AT_RISK_DAYS)) for i in issued)
    rate = _one_decimal(Fraction(unpaid * 100, billed)) if billed else None
    return AtRisk(month, currency, billed, unpaid, rate)


def at_risk_by_month(
    invoices: Iterable[InvoiceHistory], currency: str, last: Month, today: date, months: int = 12
) -> list[AtRisk]:
    listed = list(invoices)
    return [at_risk(listed, currency, month, today) for month in last.back(months)]
