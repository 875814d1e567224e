"""The one source of "now" in Relance.

In AWS the clock is the wall clock. The local runtime runs it faster (``configure``) and
jumps it forward (``advance``) so a demo shows a whole dunning cycle in minutes; code that
waits for a moment in virtual time asks ``real_seconds_until`` how long to sleep for real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

AdvanceListener = Callable[[datetime], None]


class Clock:
    """Virtual time = anchor + (real time since the anchor) × scale."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._listeners: list[AdvanceListener] = []
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._anchor_real = time.time()
            self._anchor_virtual = datetime.fromtimestamp(self._anchor_real, UTC)
            self._scale = 1.0
            self._listeners.clear()

    def now(self) -> datetime:
        with self._lock:
            elapsed = (time.time() - self._anchor_real) * self._scale
            return self._anchor_virtual + timedelta(seconds=elapsed)

    def scale(self) -> float:
        return self._scale

    def configure(self, time_scale: float) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        with self._lock:
            current = self.now()
            self._anchor_real, self._anchor_virtual, self._scale = time.time(), current, float(time_scale)

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._anchor_virtual += delta
            current = self.now()
            listeners = list(self._listeners)
        for listener in listeners:
            listener(current)
        return current

    def on_advance(self, listener: AdvanceListener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe


_clock = Clock()


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _clock.now()


def scale() -> float:
    """How many virtual seconds pass per real second (1 in AWS)."""
    return _clock.scale()


def configure(*, time_scale: float) -> None:
    """Run the clock ``time_scale`` times faster from this moment on, without a jump."""
    _clock.configure(time_scale)


def advance(delta: timedelta) -> datetime:
    """Jump the clock forward by ``delta`` and tell every listener; returns the new now."""
    return _clock.advance(delta)


def on_advance(listener: AdvanceListener) -> Callable[[], None]:
    """Call ``listener(now)`` after every jump; returns a function that unsubscribes it."""
    return _clock.on_advance(listener)


def real_seconds_until(moment: datetime) -> float:
    """Real seconds to sleep until the clock shows ``moment`` (0 if it already has)."""
    return max(0.0, (moment - now()).total_seconds() / scale())


def reset() -> None:
    """Back to the wall clock at normal speed, listeners dropped (tests and restarts)."""
    _clock.reset()
