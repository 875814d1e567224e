from datetime import UTC, timedelta

import pytest

from relance import clock


@pytest.fixture(autouse=True)
def wall_clock():
    clock.reset()
    yield
    clock.reset()


def test_now_is_timezone_aware_utc():
    assert clock.now().tzinfo is UTC


def test_advance_moves_now_forward_and_tells_listeners():
    heard = []
    clock.on_advance(heard.append)
    before = clock.now()

    after = clock.advance(timedelta(days=3))

    assert after - before >= timedelta(days=3)
    assert clock.now() >= after
    assert heard == [after]


def test_unsubscribed_listener_is_not_told():
    heard = []
    unsubscribe = clock.on_advance(heard.append)
    unsubscribe()

    clock.advance(timedelta(hours=1))

    assert heard == []


def test_clock_never_moves_backwards():
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-1))


def test_time_scale_runs_the_clock_faster_without_a_jump():
    before = clock.now()
    clock.configure(time_scale=86400)

    assert clock.now() - before < timedelta(hours=1)  # no jump at the switch
    assert clock.scale() == 86400


def test_real_seconds_until_divides_by_the_scale():
    clock.configure(time_scale=3600)
    target = clock.now() + timedelta(hours=10)

    assert 9.0 < clock.real_seconds_until(target) <= 10.0
    assert clock.real_seconds_until(clock.now() - timedelta(days=1)) == 0.0


def test_scale_must_be_positive():
    with pytest.raises(ValueError):
        clock.configure(time_scale=0)
