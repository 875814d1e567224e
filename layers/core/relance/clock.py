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

_lock = threading.RLock()
_anchor_real = time.time()
_anchor_virtual = datetime.fromtimestamp(_anchor_real, UTC)
_scale = 1.0
_listeners: list[AdvanceListener] = []


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    with _lock:
        elapsed = (time.time() - _anchor_real) * _scale
        return _anchor_virtual + timedelta(seconds=elapsed)


def scale() -> float:
    """How many virtual seconds pass per real second (1 in AWS)."""
    return _scale


def configure(*, time_scale: float) -> None:
    """Run the clock ``time_scale`` times faster from this moment on, without a jump."""
    global _anchor_real, _anchor_virtual, _scale
    if time_scale <= 0:
        raise ValueError("time_scale must be positive")
    with _lock:
        current = now()
        _anchor_real, _anchor_virtual, _scale = time.time(), current, float(time_scale)


def advance(delta: timedelta) -> datetime:
    """Jump the clock forward by ``delta`` and tell every listener; returns the new now."""
    global _anchor_virtual
    if delta < timedelta(0):
        raise ValueError("the clock only moves forward")
    with _lock:
        _anchor_virtual += delta
        current = now()
        listeners = list(_listeners)
    for listener in listeners:
        listener(current)
    return current


def on_advance(listener: AdvanceListener) -> Callable[[], None]:
    """Call ``listener(now)`` after every jump; returns a function that unsubscribes it."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def real_seconds_until(moment: datetime) -> float:
    """Real seconds to sleep until the clock shows ``moment`` (0 if it already has)."""
    remaining = (moment - now()).total_seconds()
    return max(0.0, remaining / _scale)


def reset() -> None:
    """Back to the wall clock at normal speed, listeners dropped (tests and restarts)."""
    global _anchor_real, _anchor_virtual, _scale
    with _lock:
        _anchor_real = time.time()
        _anchor_virtual = datetime.fromtimestamp(_anchor_real, UTC)
        _scale = 1.0
        _listeners.clear()
