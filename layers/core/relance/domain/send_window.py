"""When automatic actions may go out: the send time, on business days, in the recipient's time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class SendWindow:
    """``send_time`` local to ``timezone``, on ``business_days`` (Monday = 0) that are not holidays."""

    timezone: ZoneInfo
    send_time: time = time(8, 30)
    business_days: frozenset[int] = frozenset(range(5))
    holidays: frozenset[date] = field(default_factory=frozenset)

    def is_open_on(self, day: date) -> bool:
        return day.weekday() in self.business_days and day not in self.holidays

    def first_at_or_after(self, moment: datetime) -> datetime:
        """The first send moment at or after ``moment`` (UTC)."""
        local = moment.astimezone(self.timezone)
        day = local.date()
        for _ in range(366 * 2):
            candidate = datetime.combine(day, self.send_time, self.timezone)
            if self.is_open_on(day) and candidate >= local:
                return candidate.astimezone(UTC)
            day += timedelta(days=1)
        raise ValueError("no business day in two years: check the organization's calendar")

    def on_or_after(self, day: date) -> datetime:
        """The send moment of ``day``, or of the first business day after it."""
        return self.first_at_or_after(datetime.combine(day, time.min, self.timezone))

    def still_allows(self, planned: datetime, now: datetime) -> bool:
        """Whether an action planned for ``planned`` may go at ``now`` under this (perhaps changed)
        calendar: ``planned`` is still a send moment (not a day made a holiday, the same send time
        and time zone) and ``now`` is on that same local day, not before it."""
        if self.first_at_or_after(planned) != planned or now < planned:
            return False
        return now.astimezone(self.timezone).date() == planned.astimezone(self.timezone).date()
