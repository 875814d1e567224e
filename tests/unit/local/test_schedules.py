"""AWS schedule expressions, computed on the relance clock."""

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from local.schedules import RATE_FLOOR_SECONDS, Schedule, Scheduler
from local.virtual_time import VirtualTime
from relance import clock


def schedule(expression: str, timezone: str = "UTC") -> Schedule:
    return Schedule(None, "s", expression, ZoneInfo(timezone), None, True, False)  # type: ignore[arg-type]


MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0 2 * * ? *)", datetime(2026, 11, 24, 2, 0, tzinfo=UTC)),
        ("cron(0 9 ? * 1 *)", datetime(2026, 11, 29, 9, 0, tzinfo=UTC)),  # AWS day 1 is Sunday
        ("cron(0 9 ? * SAT *)", datetime(2026, 11, 28, 9, 0, tzinfo=UTC)),
        ("cron(0 0 1 1 ? 2028)", datetime(2028, 1, 1, 0, 0, tzinfo=UTC)),
        ("rate(5 minutes)", datetime(2026, 11, 23, 12, 5, tzinfo=UTC)),
        ("rate(1 day)", datetime(2026, 11, 24, 12, 0, tzinfo=UTC)),
    ],
)
def test_next_occurrence(expression, expected):
    assert schedule(expression).next_after(MONDAY_NOON) == expected


def test_scheduler_expressions_honour_their_time_zone():
    paris_morning = schedule("cron(30 8 ? * MON-FRI *)", "Europe/Paris")

    assert paris_morning.next_after(MONDAY_NOON) == datetime(2026, 11, 24, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["cron(0 2 * * ?)", "every day", "rate(1 fortnight)"])
def test_unreadable_expression_is_refused(expression):
    with pytest.raises(ValueError):
        schedule(expression).next_after(MONDAY_NOON)


def test_rule_event_is_eventbridge_scheduled_event():
    event = schedule("rate(1 day)").event(MONDAY_NOON)

    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2026-11-23T12:00:00Z"


class _Recorder:
    """A function that records the moments it was invoked at."""

    def __init__(self) -> None:
        self.invoked: list[datetime] = []

    def invoke(self, event: object) -> None:
        self.invoked.append(clock.now())


def test_in_a_jump_a_rate_schedule_fires_when_something_else_happens_and_at_the_end_not_at_every_occurrence():
    clock.reset()
    clock.configure(time_scale=0, start=MONDAY_NOON)
    virtual_time = VirtualTime()
    virtual_time.start()
    recorder, nightly_recorder = _Recorder(), _Recorder()
    every_quarter = Schedule(recorder, "quarter", "rate(15 minutes)", ZoneInfo("UTC"), None, True, False)  # type: ignore[arg-type]
    nightly = Schedule(nightly_recorder, "nightly", "cron(0 2 * * ? *)", ZoneInfo("UTC"), None, True, False)  # type: ignore[arg-type]
    scheduler = Scheduler([every_quarter, nightly], virtual_time)
    scheduler.start()
    try:
        clock.advance(timedelta(days=2))
        virtual_time.settle()
    finally:
        scheduler.stop()
        virtual_time.stop()
        clock.reset()

    night = [datetime(2026, 11, 24, 2, 0, tzinfo=UTC), datetime(2026, 11, 25, 2, 0, tzinfo=UTC)]
    assert nightly_recorder.invoked == night  # a cron schedule: every occurrence
    quarter = timedelta(minutes=15)
    end = MONDAY_NOON + timedelta(days=2)
    assert recorder.invoked == [night[0] - quarter, night[1] - quarter, end]  # before each other timer, at the end
    assert scheduler.folded == 2 * 96 - 3


def test_under_a_fast_flowing_clock_a_rate_schedule_fires_at_most_once_every_few_real_seconds():
    clock.reset()
    clock.configure(time_scale=8640, start=MONDAY_NOON)  # make run's: 15 minutes pass every 0.1 s
    virtual_time = VirtualTime()
    virtual_time.start()
    recorder = _Recorder()
    every_quarter = Schedule(recorder, "quarter", "rate(15 minutes)", ZoneInfo("UTC"), None, True, False)  # type: ignore[arg-type]
    scheduler = Scheduler([every_quarter], virtual_time)
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while scheduler.folded < 5 and time.monotonic() < deadline:  # five occurrences due, past the first
            time.sleep(0.05)
        virtual_time.settle()
    finally:
        scheduler.stop()
        virtual_time.stop()
        clock.reset()

    assert scheduler.folded >= 5
    assert len(recorder.invoked) == 1  # the floor is RATE_FLOOR_SECONDS of real time, far from elapsed
    assert RATE_FLOOR_SECONDS >= 5
