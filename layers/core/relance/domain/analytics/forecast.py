"""The cash forecast for the next 13 weeks, and how past weeks' forecasts compared with what came in.

Each open invoice is expected at its due date plus its customer's average payment delay
(amount-weighted over their paid invoices, ``relance.domain.rating``); a customer with no paid
invoice yet gets the organization's (the same average over every customer's paid invoices); an
invoice under a promise to pay is expected on the promised day. Disputed invoices are kept apart,
and so are invoices expected before the current week (late: no date can be honestly given).
Weeks start on Monday in the organization's time zone. Amounts stay per currency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum

from relance.domain.analytics.history import InvoiceHistory, MoneyHistory, MoneyKind
from relance.domain.money import Money
from relance.domain.rating import weighted_days

WEEKS = 13


class ExpectedBy(StrEnum):
    PROMISE = "promise"
    CUSTOMER_DELAY = "customer_delay"
    ORGANIZATION_DELAY = "organization_delay"


@dataclass(frozen=True)
class Expected:
    """An open invoice's outstanding, expected on ``on`` for the reason ``by``."""

    invoice_id: str
    currency: str
    amount: int
    on: date
    by: ExpectedBy


@dataclass(frozen=True)
class Forecast:
    """``weeks[n]`` maps currencies to what is expected in the week starting ``starts[n]``."""

    starts: tuple[date, ...]
    weeks: tuple[dict[str, int], ...]
    late: dict[str, int] = field(default_factory=dict)
    later: dict[str, int] = field(default_factory=dict)
    disputed: dict[str, int] = field(default_factory=dict)
    expected: tuple[Expected, ...] = ()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_day(now: datetime, zone: tzinfo) -> date:
    """The organization's date at ``now`` (an aware datetime)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(zone).date()


def payment_delays(invoices: Iterable[InvoiceHistory], day: date) -> tuple[dict[str, int], int | None]:
    """Each customer's average payment delay on ``day`` (those with an invoice fully paid by then), and
    the organization's: the rating's amount-weighted average (``rating.weighted_days``), computed here
    without the rest of a rating (its letter and drivers), once per invoice."""
    terms: dict[str, list[tuple[Decimal, int]]] = {}
    scale: dict[str, int] = {}
    for invoice in invoices:
        paid = invoice.paid_on(day) if invoice.issued_on <= day else None
        if paid is None:
            continue
        if invoice.currency not in scale:
            scale[invoice.currency] = Money(amount=0, currency=invoice.currency).minor_digits
        weight = Decimal(invoice.amount).scaleb(-scale[invoice.currency])
        terms.setdefault(invoice.customer_id, []).append((weight, (paid - invoice.due_on).days))
    delays = {customer: weighted_days(listed) for customer, listed in terms.items()}
    everyone = weighted_days(term for listed in terms.values() for term in listed)
    return {c: d for c, d in delays.items() if d is not None}, everyone


def _add(totals: dict[str, int], currency: str, amount: int) -> None:
    totals[currency] = totals.get(currency, 0) + amount


def forecast_from(
    invoices: Iterable[InvoiceHistory], known_on: date, first_week: date, weeks: int = WEEKS, marks: bool = True
) -> Forecast:
    """What the ledger at the end of ``known_on`` expects in the ``weeks`` weeks from the Monday
    ``first_week``. ``marks=False`` ignores disputes and promises: they are today's marks, which a
    forecast recomputed for a past week cannot have known."""
    listed = list(invoices)
    delays, organization = payment_delays(listed, known_on)
    starts = tuple(first_week + timedelta(weeks=n) for n in range(weeks))
    amounts: list[dict[str, int]] = [{} for _ in starts]
    late: dict[str, int] = {}
    later: dict[str, int] = {}
    disputed: dict[str, int] = {}
    expected = []
    for invoice in sorted(listed, key=lambda i: i.id):
        owed = invoice.outstanding_on(known_on)
        if owed <= 0:
            continue
        if marks and invoice.disputed:
            _add(disputed, invoice.currency, owed)
            continue
        if marks and invoice.promised_on is not None:
            on, by = invoice.promised_on, ExpectedBy.PROMISE
        elif invoice.customer_id in delays:
            on, by = invoice.due_on + timedelta(days=delays[invoice.customer_id]), ExpectedBy.CUSTOMER_DELAY
        else:
            on, by = invoice.due_on + timedelta(days=organization or 0), ExpectedBy.ORGANIZATION_DELAY
        expected.append(Expected(invoice.id, invoice.currency, owed, on, by))
        week = (on - first_week).days // 7
        if week < 0:
            _add(late, invoice.currency, owed)
        elif week >= weeks:
            _add(later, invoice.currency, owed)
        else:
            _add(amounts[week], invoice.currency, owed)
    return Forecast(starts, tuple(amounts), late, later, disputed, tuple(expected))


def forecast(invoices: Iterable[InvoiceHistory], now: datetime, zone: tzinfo, weeks: int = WEEKS) -> Forecast:
    """The forecast from the current week (its Monday in ``zone``) on, from the ledger as it is now."""
    today = local_day(now, zone)
    return forecast_from(invoices, today, week_start(today), weeks)


@dataclass(frozen=True)
class WeekAccuracy:
    """What was forecast for a past week, on the eve of its Monday, against the payments received in it."""

    start: date
    currency: str
    forecast: int
    actual: int

    @property
    def difference(self) -> int:
        return self.actual - self.forecast


def accuracy(
    invoices: Iterable[InvoiceHistory], money: Iterable[MoneyHistory], now: datetime, zone: tzinfo, weeks: int = WEEKS
) -> list[WeekAccuracy]:
    """For each of the ``weeks`` whole weeks before the current one, oldest first: the forecast
    recomputed from the ledger as it stood on the Sunday before (without disputes and promises),
    and the payments received that week (any invoice, applied or not)."""
    listed = list(invoices)
    payments = [m for m in money if m.kind == MoneyKind.PAYMENT]
    current = week_start(local_day(now, zone))
    rows = []
    for back in range(weeks, 0, -1):
        start = current - timedelta(weeks=back)
        expected = forecast_from(listed, start - timedelta(days=1), start, weeks=1, marks=False).weeks[0]
        actual: dict[str, int] = {}
        for payment in payments:
            if start <= payment.on < start + timedelta(weeks=1):
                _add(actual, payment.currency, payment.amount)
        for currency in sorted(set(expected) | set(actual)):
            rows.append(WeekAccuracy(start, currency, expected.get(currency, 0), actual.get(currency, 0)))
    return rows
