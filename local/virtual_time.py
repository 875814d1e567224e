"""Simulated time for the local runtime: every wait ends at its moment, in order, and the clock waits for the work.

In AWS, time is the wall clock: a Wait state, a retried message or a schedule ends when its
moment comes. Locally ``relance.clock`` runs faster and jumps, so a real sleep would be
wrong twice: a jump would be a teleport (every wait inside it ending late, at once, after
it) and a busy runtime would fall behind its own clock. Instead every local wait is a
``Timer`` here, and one driver moves the clock:

- The clock flows (at its scale) up to the next timer's moment and no further. There it
  holds still: every timer of that moment ends, the work they start runs and sees that
  moment, and only when the runtime is quiet again does the clock flow on.
- A jump (``relance.clock.advance``) walks through the timers that end inside it the same
  way, each at its own moment, timers created meanwhile included, then shows the jump's
  end: twelve one-day jumps are twelve days.
- The runtime is quiet when no Lambda invocation, execution step (between two waits),
  event publication or SQS batch is in progress and no polled queue holds a message that
  is not waiting for a timer (``Activity``).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from relance import clock

log = logging.getLogger("local.time")

QUIET_TIMEOUT = 120.0
"""Real seconds a step may take before the driver moves on anyway (and says so)."""
STARTED_NOTHING = object()
"""What a timer's action returns when it started no work: the driver need not wait for quiet after it."""


class Timer:
    """Something due at ``moment``: ``action`` runs (quickly, in the driver) when the clock shows it."""

    def __init__(self, moment: datetime, label: str, action: Callable[[], object]) -> None:
        self.moment = moment
        self.label = label
        self._action = action
        self._lock = threading.Lock()
        self._state = "pending"  # → fired | cancelled
        self.started_work = True

    def fire(self) -> bool:
        with self._lock:
            if self._state != "pending":
                return False
            self._state = "fired"
        self.started_work = self._action() is not STARTED_NOTHING
        return True

    def cancel(self) -> bool:
        """True if it will never fire (it had not fired yet)."""
        with self._lock:
            if self._state == "fired":
                return False
            self._state = "cancelled"
            return True


class Activity:
    """A count of the work in progress, and extra checks (queues) that must hold for quiet."""

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()
        self.checks: list[Callable[[], bool]] = []

    def enter(self) -> None:
        with self._changed:
            self._count += 1

    def leave(self) -> None:
        with self._changed:
            self._count -= 1
            if self._count < 0:
                raise RuntimeError("activity left more often than entered")
            self._changed.notify_all()

    @contextmanager
    def busy(self) -> Iterator[None]:
        self.enter()
        try:
            yield
        finally:
            self.leave()

    def spawn(self, target: Callable[[], object], name: str) -> threading.Thread:
        """Run ``target`` in a thread that counts as work from this moment until it ends."""
        self.enter()

        def run() -> None:
            try:
                target()
            finally:
                self.leave()

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        return thread

    def _idle(self) -> bool:
        return self._count == 0 and all(check() for check in self.checks)

    def wait_quiet(self, timeout: float = QUIET_TIMEOUT, cancelled: threading.Event | None = None) -> bool:
        """Until nothing is in progress (twice in a row, a moment apart); False after ``timeout`` or once cancelled."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not (cancelled is not None and cancelled.is_set()):
            with self._changed:
                if self._count:
                    self._changed.wait(0.05)
                    continue
            if self._idle():
                time.sleep(0.005)
                if self._idle():
                    return True
            else:
                time.sleep(0.01)
        return False


class VirtualTime:
    """The timers of the local runtime and the one driver of the clock."""

    def __init__(self, activity: Activity | None = None) -> None:
        self.activity = activity or Activity()
        self._timers: list[tuple[datetime, int, Timer]] = []
        self._sequence = itertools.count()
        self._lock = threading.Lock()
        self._driving = threading.RLock()  # the flowing loop or a jump, one at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._jump_target: datetime | None = None
        self.late: list[tuple[str, datetime, datetime]] = []  # (label, due, fired at): timers fired after their moment

    # ------------------------------------------------------------ timers
    def at(self, moment: datetime, label: str, action: Callable[[], object]) -> Timer:
        timer = Timer(moment, label, action)
        with self._lock:
            heapq.heappush(self._timers, (moment, next(self._sequence), timer))
        self._wake.set()
        return timer

    def sleep_until(self, moment: datetime, label: str, still_waiting: Callable[[], bool]) -> bool:
        """Block the calling thread (counted as work) until ``moment``; it does not count as work
        while it sleeps. False if ``still_waiting()`` turned false first (the execution stopped)."""
        woken = threading.Event()

        def wake() -> None:
            self.activity.enter()  # on behalf of the sleeper, so no gap shows as quiet
            woken.set()

        timer = self.at(moment, label, wake)
        self.activity.leave()
        while not woken.wait(0.2):
            if not still_waiting() and timer.cancel():
                self.activity.enter()
                return False
        return True

    def jump_target(self) -> datetime | None:
        """Where the jump under way ends; None while the clock flows."""
        return self._jump_target

    def pending(self) -> list[Timer]:
        with self._lock:
            return [t for _, _, t in sorted(self._timers) if t._state == "pending"]

    def _next_moment(self) -> datetime | None:
        with self._lock:
            while self._timers and self._timers[0][2]._state != "pending":
                heapq.heappop(self._timers)
            return self._timers[0][0] if self._timers else None

    def _fire_through(self, moment: datetime) -> None:
        """Fire every pending timer due at or before ``moment`` (the clock shows ``moment``), then wait for quiet."""
        due: list[Timer] = []
        with self._lock:
            while self._timers and self._timers[0][0] <= moment:
                due.append(heapq.heappop(self._timers)[2])
        now = clock.now()
        for timer in due:
            if timer.fire() and now - timer.moment > timedelta(seconds=1):
                self.late.append((timer.label, timer.moment, now))
        if not any(timer.started_work for timer in due):
            return  # nothing was started: nothing to wait for
        if not self.activity.wait_quiet(cancelled=self._stop) and not self._stop.is_set():
            log.warning("the runtime is still busy %.0f s after %s: the clock moves on", QUIET_TIMEOUT, moment)

    # ------------------------------------------------------------ driving
    def start(self) -> None:
        clock.drive_jumps(self.advance)
        self._thread = threading.Thread(target=self._flow, name="virtual-time", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        clock.drive_jumps(None)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            timers, self._timers = self._timers, []
        for _, _, timer in timers:
            timer.cancel()
        clock.run_until(None)

    def _flow(self) -> None:
        """Let the clock flow from one timer to the next, holding at each while its work runs."""
        while not self._stop.is_set():
            with self._driving:
                moment = self._next_moment()
                clock.run_until(moment)
                if moment is not None and clock.now() >= moment:
                    self._fire_through(clock.hold_at(moment))
                    continue
            wait = clock.real_seconds_until(moment) if moment is not None else 1.0
            self._wake.wait(min(wait, 1.0))
            self._wake.clear()

    def advance(self, delta: timedelta) -> datetime:
        """A jump: everything due inside it happens, in order, each at its moment; then the jump's end."""
        with self._driving:
            self.activity.wait_quiet(cancelled=self._stop)  # what was asked before the jump is in place first
            target = clock.hold_at(clock.now()) + delta
            self._jump_target = target
            try:
                while (moment := self._next_moment()) is not None and moment <= target:
                    self._fire_through(clock.hold_at(moment))
            finally:
                self._jump_target = None
            clock.hold_at(target)
            clock.run_until(self._next_moment())
        self._wake.set()
        return clock.now()

    def settle(self, timeout: float = QUIET_TIMEOUT) -> bool:
        """Wait until the runtime is quiet (what was just asked is done, up to its next wait)."""
        with self._driving:
            return self.activity.wait_quiet(timeout, cancelled=self._stop)
