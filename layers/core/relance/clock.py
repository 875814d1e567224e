"""The one source of "now" in Relance.

In AWS the clock is the wall clock. The local runtime simulates time on it: it starts the
clock at any moment, runs it faster (or holds it still, scale 0), lets it flow no further
than the next moment something is due (``run_until``), holds it at that moment while the
work runs (``hold_at``), and hands jumps (``advance``) to a driver that walks through every
moment inside the jump in order (``drive_jumps``; see ``local/virtual_time.py``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

JumpDriver = Callable[[timedelta], datetime]


def real_seconds() -> float:
    """Seconds since the epoch on the wall clock, however fast the simulated time runs: for what is
    about real load (a request rate), never for business time."""
    return time.time()


class Clock:
    """Virtual time = anchor + (real time since the anchor) × scale, never past the horizon."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._anchor_real = time.time()
            self._anchor_virtual = datetime.fromtimestamp(self._anchor_real, UTC)
            self._scale = 1.0
            self._horizon: datetime | None = None
            self._driver: JumpDriver | None = None

    def now(self) -> datetime:
        with self._lock:
            flowed = self._anchor_virtual + timedelta(seconds=(time.time() - self._anchor_real) * self._scale)
            return min(flowed, self._horizon) if self._horizon is not None else flowed

    def scale(self) -> float:
        return self._scale

    def _anchor(self, moment: datetime) -> None:
        self._anchor_real, self._anchor_virtual = time.time(), moment

    def configure(self, time_scale: float, start: datetime | None = None) -> None:
        if time_scale < 0:
            raise ValueError("time_scale must be 0 (time moves only by jumps) or positive")
        if start is not None and start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        with self._lock:
            self._anchor(start.astimezone(UTC) if start is not None else self.now())
            self._scale = float(time_scale)

    def run_until(self, horizon: datetime | None) -> None:
        with self._lock:
            current = self.now()
            self._anchor(current)  # flowing resumes from here, not from where it would have been
            self._horizon = None if horizon is None else max(horizon, current)

    def hold_at(self, moment: datetime) -> datetime:
        with self._lock:
            current = self.now()
            held = max(moment, current)  # never backwards
            self._anchor(held)
            self._horizon = held
            return held

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        with self._lock:
            driver = self._driver
            if driver is None:
                target = self.now() + delta
                self._anchor(target)
                if self._horizon is not None:
                    self._horizon = max(self._horizon, target)
                return target
        return driver(delta)  # outside the lock: the driver runs work that reads the clock

    def drive_jumps(self, driver: JumpDriver | None) -> None:
        with self._lock:
            self._driver = driver


_clock = Clock()


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _clock.now()


def scale() -> float:
    """How many virtual seconds pass per real second (1 in AWS; 0 when time moves only by jumps)."""
    return _clock.scale()


def configure(*, time_scale: float, start: datetime | None = None) -> None:
    """Run the clock ``time_scale`` times faster from this moment (or from ``start``) on."""
    _clock.configure(time_scale, start)


def advance(delta: timedelta) -> datetime:
    """Let ``delta`` of time pass at once; returns the new now. With a driver installed (the
    local runtime), everything due inside the jump happens first, in order, each at its moment."""
    return _clock.advance(delta)


def run_until(horizon: datetime | None) -> None:
    """Let the clock flow up to ``horizon`` and no further (None: without limit)."""
    _clock.run_until(horizon)


def hold_at(moment: datetime) -> datetime:
    """Set the clock to ``moment`` (never backwards) and hold it there; returns the moment shown."""
    return _clock.hold_at(moment)


def drive_jumps(driver: JumpDriver | None) -> None:
    """Hand ``advance`` to ``driver(delta) -> now`` (None: a plain jump)."""
    _clock.drive_jumps(driver)


def real_seconds_until(moment: datetime) -> float:
    """Real seconds until the clock, flowing, shows ``moment`` (0 if it does; inf when it does not flow)."""
    remaining = (moment - now()).total_seconds()
    if remaining <= 0:
        return 0.0
    return remaining / scale() if scale() > 0 else float("inf")


def reset() -> None:
    """Back to the wall clock at normal speed, without horizon or driver (tests and restarts)."""
    _clock.reset()
