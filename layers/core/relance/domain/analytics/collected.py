"""Cash collected per day, week (starting Monday) or month, by how it came in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from relance.domain.analytics.history import Method, MoneyHistory, MoneyKind, Month


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def period_start(day: date, period: Period) -> date:
    """The first day of the day, week (Monday) or month holding ``day``."""
    if period == Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period == Period.MONTH:
        return day.replace(day=1)
    return day


def _next_start(start: date, period: Period) -> date:
    if period == Period.WEEK:
        return start + timedelta(days=7)
    if period == Period.MONTH:
        return Month.of(start).next().first_day
    return start + timedelta(days=1)


@dataclass(frozen=True)
class Collected:
    """Payments received in one currency during the period starting ``start``."""

    start: date
    currency: str
    online: int = 0
    recorded: int = 0

    @property
    def total(self) -> int:
        return self.online + self.recorded


def collected(money: Iterable[MoneyHistory], period: Period, first: date, last: date) -> list[Collected]:
    """Payments received from ``first`` to ``last`` (both included), for every period touching them
    and every currency paid in them, ordered by period then currency. Credit notes bring no cash and
    refunds are money going out: neither counts."""
    sums: dict[tuple[date, str, Method], int] = {}
    for record in money:
        if record.kind == MoneyKind.PAYMENT and first <= record.on <= last:
            key = (period_start(record.on, period), record.currency, record.method)
            sums[key] = sums.get(key, 0) + record.amount
    currencies = sorted({currency for _, currency, _ in sums})
    rows = []
    start = period_start(first, period)
    while start <= last:
        for currency in currencies:
            rows.append(
                Collected(
                    start,
                    currency,
                    online=sums.get((start, currency, Method.ONLINE), 0),
                    recorded=sums.get((start, currency, Method.RECORDED), 0),
                )
            )
        start = _next_start(start, period)
    return rows
