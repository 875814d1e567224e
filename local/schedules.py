"""The template's EventBridge schedules (``Schedule`` rules and ``ScheduleV2``), run on relance.clock.

moto never fires schedules, so this does: each function event of type Schedule or
ScheduleV2 fires at each of its occurrences on the simulated clock (``local/virtual_time.py``):
a clock jump over several nights runs the nightly job once for each night, each seeing its
own moment; disabled schedules never fire.

One shortcut, inside a jump only: an occurrence of a ``rate`` schedule is folded into the next
one when the jump reaches it and nothing else is due before it (no timer but the rate schedules'
own), so a day's jump fires a 15-minute schedule at its last occurrence before each moment something
else happens and at the jump's end, not 96 times in a row over a state nothing changed in between. Cron schedules
(the nightly run: one per night, each with its date) fire every occurrence.

Under flowing time a ``rate`` schedule fires at most once every ``RATE_FLOOR_SECONDS`` of real
time: ``make run``'s clock (a day in 10 s) would otherwise run the 15-minute sync ten times a second.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from local.functions import FunctionError, LambdaFunction
from local.template import ACCOUNT, REGION
from local.virtual_time import STARTED_NOTHING, Timer, VirtualTime
from relance import clock

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
RATE_FLOOR_SECONDS = 5.0


def _aws_day_of_week(field: str) -> str:
    """AWS numbers days 1-7 from Sunday; cron numbers them 0-6."""
    return re.sub(r"\d+", lambda m: str(int(m.group()) - 1), field)


@dataclass
class Schedule:
    function: LambdaFunction
    name: str
    expression: str
    timezone: ZoneInfo
    input: str | None
    enabled: bool
    is_scheduler: bool  # EventBridge Scheduler (ScheduleV2) rather than a rule

    @property
    def is_rate(self) -> bool:
        return bool(_RATE.match(self.expression))

    @classmethod
    def all_in(cls, functions: list[LambdaFunction]) -> list[Schedule]:
        schedules = []
        for function in functions:
            for event_name, event in function.events.items():
                kind, props = event.get("Type"), event.get("Properties", {})
                if kind == "Schedule":
                    expression, tz = props["Schedule"], "UTC"
                    enabled = props.get("Enabled", True) and props.get("State", "ENABLED") == "ENABLED"
                elif kind == "ScheduleV2":
                    expression, tz = (
                        props["ScheduleExpression"],
                        props.get("ScheduleExpressionTimezone", "UTC"),
                    )
                    enabled = props.get("State", "ENABLED") == "ENABLED"
                else:
                    continue
                schedule = cls(
                    function=function,
                    name=props.get("Name") or f"{function.name}-{event_name}",
                    expression=expression,
                    timezone=ZoneInfo(tz),
                    input=props.get("Input"),
                    enabled=bool(enabled),
                    is_scheduler=kind == "ScheduleV2",
                )
                schedule.next_after(clock.now())  # fail at start on an expression we cannot run
                schedules.append(schedule)
        return schedules

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after ``moment`` (rates count from ``moment``)."""
        rate = _RATE.match(self.expression)
        if rate:
            return moment + timedelta(seconds=int(rate.group(1)) * _UNITS[rate.group(2).rstrip("s")])
        cron = _CRON.match(self.expression)
        if not cron:
            raise ValueError(f"{self.name}: cannot read schedule expression {self.expression!r}")
        fields = cron.group(1).split()
        if len(fields) != 6:
            raise ValueError(f"{self.name}: AWS cron takes 6 fields, got {self.expression!r}")
        minute, hour, day, month, weekday, year = (f.replace("?", "*") for f in fields)
        spec = " ".join([minute, hour, day, month, _aws_day_of_week(weekday)])
        local_moment = moment.astimezone(self.timezone)
        iterator = croniter(spec, local_moment)
        for _ in range(400):
            candidate: datetime = iterator.get_next(datetime)
            if year == "*" or str(candidate.year) in year.split(","):
                return candidate.astimezone(UTC)
        raise ValueError(f"{self.name}: no occurrence of {self.expression!r} ahead")

    def event(self, scheduled: datetime) -> Any:
        """What the target receives: the configured Input, else EventBridge's scheduled event."""
        if self.input is not None:
            return json.loads(self.input)
        if self.is_scheduler:
            return {}
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT,
            "time": scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{self.name}"],
            "detail": {},
        }


class Scheduler:
    """Each enabled schedule is a timer of ``VirtualTime`` at its next occurrence: every occurrence
    fires at its own moment, in order with everything else, also inside a clock jump."""

    def __init__(self, schedules: list[Schedule], virtual_time: VirtualTime) -> None:
        self.schedules = [s for s in schedules if s.enabled]
        self.virtual_time = virtual_time
        self.fired: list[tuple[str, datetime]] = []
        self.folded = 0  # occurrences of rate schedules folded into their next one inside a jump
        self._timers: dict[str, Timer] = {}  # each schedule's next occurrence
        self._last_fired: dict[str, float] = {}  # a rate schedule's last firing, in real (monotonic) seconds
        self._lock = threading.Lock()
        self._stopped = False

    def start(self) -> None:
        now = clock.now()
        for schedule in self.schedules:
            self._arm(schedule, schedule.next_after(now))

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            timers, self._timers = list(self._timers.values()), {}
        for timer in timers:
            timer.cancel()

    def _arm(self, schedule: Schedule, moment: datetime) -> None:
        with self._lock:
            if self._stopped:
                return
            self._timers[schedule.name] = self.virtual_time.at(
                moment, f"schedule {schedule.name}", lambda: self._fire(schedule, moment)
            )

    def _fire(self, schedule: Schedule, scheduled: datetime) -> object:
        following = schedule.next_after(scheduled)
        folded = self._folds(schedule, following)
        self._arm(schedule, following)
        if folded:
            self.folded += 1
            return STARTED_NOTHING
        self.fired.append((schedule.name, scheduled))
        self._last_fired[schedule.name] = time.monotonic()
        self.virtual_time.activity.spawn(lambda: _invoke(schedule, scheduled), f"schedule-{schedule.name}")
        return None

    def _folds(self, schedule: Schedule, following: datetime) -> bool:
        """Whether this occurrence of a rate schedule folds into ``following`` (see the module's docstring)."""
        target = self.virtual_time.jump_target()
        if schedule.is_rate and target is None:  # flowing time: at most once every RATE_FLOOR_SECONDS
            last = self._last_fired.get(schedule.name)
            return last is not None and time.monotonic() - last < RATE_FLOOR_SECONDS
        if not schedule.is_rate or target is None or following > target:
            return False
        with self._lock:
            own = {id(self._timers[s.name]) for s in self.schedules if s.is_rate and s.name in self._timers}
        others = [t for t in self.virtual_time.pending() if id(t) not in own]
        return not others or others[0].moment > following


def _invoke(schedule: Schedule, scheduled: datetime) -> None:
    try:
        schedule.function.invoke(schedule.event(scheduled))
    except FunctionError as error:  # EventBridge retries; locally the log says it failed
        print(f"schedule {schedule.name} failed: {error}")
