import time
from datetime import UTC, datetime, timedelta

import pytest

from relance import clock

SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def wall_clock():
    clock.reset()
    yield
    clock.reset()


def test_now_is_timezone_aware_utc():
    assert clock.now().tzinfo is UTC


def test_advance_moves_now_forward():
    before = clock.now()

    after = clock.advance(timedelta(days=3))

    assert after - before >= timedelta(days=3)
    assert clock.now() >= after


def test_clock_never_moves_backwards():
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-1))


def test_time_scale_runs_the_clock_faster_without_a_jump():
    before = clock.now()
    clock.configure(time_scale=86400)

    assert clock.now() - before < timedelta(hours=1)  # no jump at the switch
    assert clock.scale() == 86400


def test_a_clock_can_start_at_any_moment_and_hold_still_until_told():
    clock.configure(time_scale=0, start=SATURDAY)

    assert clock.now() == SATURDAY
    assert clock.advance(timedelta(hours=2)) == SATURDAY + timedelta(hours=2) == clock.now()


def test_the_start_must_say_its_offset():
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.configure(time_scale=1, start=datetime(2026, 11, 28))


def test_a_flowing_clock_stops_at_its_horizon_and_resumes_from_there():
    horizon = SATURDAY + timedelta(hours=1)
    clock.configure(time_scale=86400 * 30, start=SATURDAY)  # a month a second
    clock.run_until(horizon)  # the next thing due: time does not pass it
    time.sleep(0.01)  # seven simulated hours

    assert clock.now() == horizon
    clock.run_until(None)
    assert horizon <= clock.now() < horizon + timedelta(days=10)  # flows on from the horizon, no catch-up jump


def test_holding_never_moves_the_clock_back():
    clock.configure(time_scale=0, start=SATURDAY)

    assert clock.hold_at(SATURDAY - timedelta(days=1)) == SATURDAY
    assert clock.hold_at(SATURDAY + timedelta(minutes=5)) == SATURDAY + timedelta(minutes=5) == clock.now()


def test_a_jump_is_handed_to_the_driver_when_one_is_installed():
    asked = []
    clock.drive_jumps(lambda delta: asked.append(delta) or SATURDAY)

    assert clock.advance(timedelta(days=1)) == SATURDAY
    assert asked == [timedelta(days=1)]
    clock.drive_jumps(None)
    assert clock.advance(timedelta(0)) != SATURDAY


def test_real_seconds_until_divides_by_the_scale():
    clock.configure(time_scale=3600)
    target = clock.now() + timedelta(hours=10)

    assert 9.0 < clock.real_seconds_until(target) <= 10.0
    assert clock.real_seconds_until(clock.now() - timedelta(days=1)) == 0.0


def test_a_clock_that_holds_still_never_gets_there_by_itself():
    clock.configure(time_scale=0)

    assert clock.real_seconds_until(clock.now() + timedelta(seconds=1)) == float("inf")


def test_scale_cannot_be_negative():
    with pytest.raises(ValueError):
        clock.configure(time_scale=-1)
