"""Simulated time: timers end in order at their own moment, a jump is time passing, the clock waits for work."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from local.virtual_time import Activity, VirtualTime
from relance import clock

START = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


@pytest.fixture
def simulated():
    clock.reset()
    clock.configure(time_scale=0, start=START)
    virtual_time = VirtualTime()
    virtual_time.start()
    yield virtual_time
    virtual_time.stop()
    clock.reset()


def test_a_jump_fires_every_timer_inside_it_in_order_each_at_its_moment(simulated):
    seen: list[tuple[str, datetime]] = []
    for hours, label in [(30, "third"), (2, "first"), (10, "second"), (50, "after")]:
        simulated.at(START + timedelta(hours=hours), label, lambda label=label: seen.append((label, clock.now())))

    assert clock.advance(timedelta(days=2)) == START + timedelta(days=2)

    assert seen == [
        ("first", START + timedelta(hours=2)),
        ("second", START + timedelta(hours=10)),
        ("third", START + timedelta(hours=30)),
    ]


def test_a_timer_made_during_a_jump_fires_inside_it_when_due(simulated):
    seen: list[datetime] = []

    def again() -> None:
        seen.append(clock.now())
        if len(seen) < 3:
            simulated.at(clock.now() + timedelta(days=1), "again", again)

    simulated.at(START + timedelta(hours=1), "first", again)
    clock.advance(timedelta(days=5))

    assert seen == [START + timedelta(hours=1 + 24 * n) for n in range(3)]


def test_the_clock_holds_at_a_timers_moment_until_the_work_it_started_is_done(simulated):
    started, release = threading.Event(), threading.Event()
    seen: list[datetime] = []

    def slow_work() -> None:
        started.set()
        release.wait(5)
        seen.append(clock.now())

    simulated.at(START + timedelta(hours=1), "slow", lambda: simulated.activity.spawn(slow_work, "slow"))
    jump = threading.Thread(target=clock.advance, args=(timedelta(hours=3),))
    jump.start()
    assert started.wait(5)
    assert not simulated.activity.wait_quiet(0.2)  # the work is not done: the clock must not move on

    assert clock.now() == START + timedelta(hours=1)
    release.set()
    jump.join(5)
    assert seen == [START + timedelta(hours=1)] and clock.now() == START + timedelta(hours=3)


def test_a_sleeper_wakes_at_its_moment_and_is_not_work_while_it_sleeps(simulated):
    woke: list[datetime] = []

    def execution() -> None:
        woke.append(clock.now()) if simulated.sleep_until(START + timedelta(days=1), "wait", lambda: True) else None

    simulated.activity.spawn(execution, "execution")
    assert simulated.settle(5)  # quiet while it sleeps

    clock.advance(timedelta(days=2))

    assert woke == [START + timedelta(days=1)]


def test_a_stopped_sleeper_gives_up_its_timer(simulated):
    running = threading.Event()
    running.set()
    outcome: list[bool] = []
    simulated.activity.spawn(
        lambda: outcome.append(simulated.sleep_until(START + timedelta(days=1), "wait", running.is_set)), "execution"
    )
    simulated.settle(5)

    running.clear()  # StopExecution: the sleeper notices within its poll interval
    deadline = time.monotonic() + 5
    while not outcome and time.monotonic() < deadline:
        time.sleep(0.02)

    assert outcome == [False] and simulated.pending() == []


def test_a_flowing_clock_never_passes_a_timer_that_has_not_fired():
    clock.reset()
    clock.configure(time_scale=3600 * 24, start=START)
    virtual_time = VirtualTime()
    seen: list[datetime] = []
    virtual_time.at(START + timedelta(hours=6), "soon", lambda: seen.append(clock.now()))
    virtual_time.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while not seen and datetime.now(UTC) < deadline:
            threading.Event().wait(0.01)
    finally:
        virtual_time.stop()
        clock.reset()

    assert seen == [START + timedelta(hours=6)]


def test_activity_counts_work_and_refuses_to_go_below_zero():
    activity = Activity()
    with activity.busy():
        assert not activity.wait_quiet(0.05)
    assert activity.wait_quiet(1)
    with pytest.raises(RuntimeError):
        activity.leave()
