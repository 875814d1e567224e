"""Does the local runtime keep pace with its clock? The demo at ``make run``'s time scale, for 90 s.

Printed: the reminder lag (performed − scheduled, simulated hours) median and p95, how many
went outside the send window, the runtime's CPU share of one core, and how much simulated
time passed. Everything runs in this one process, so the process's CPU time is the server's.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from local.demo import seed
from local.runtime import LocalRuntime
from relance import clock
from relance.services.organizations import get_organization
from relance.storage import actions as action_store
from tests.bench.conftest import FIGURES

TIME_SCALE = float(os.environ.get("TIME_SCALE", "8640"))
WINDOW_SECONDS = float(os.environ.get("PACE_SECONDS", "90"))
SUNDAY_EVENING = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def test_the_demo_keeps_pace_with_its_clock():
    # Seeded with the clock held on a Sunday evening, then let flow: the window holds a working week's start.
    with LocalRuntime(port=0, smtp_port=0, session_file=None, time_scale=0, clock_start=SUNDAY_EVENING).start(
        seed=lambda: seed(demo=True)
    ) as runtime:
        org_id = runtime.session["organization"]["id"]
        runtime.settle()
        clock.configure(time_scale=TIME_SCALE)
        before = {a["id"] for a in action_store.actions_of_organization(org_id) if a["status"] != "planned"}
        started_at, cpu_before, real_before = clock.now(), time.process_time(), time.monotonic()
        time.sleep(WINDOW_SECONDS)
        cpu = time.process_time() - cpu_before
        real = time.monotonic() - real_before
        ended_at = clock.now()

        org = get_organization(org_id)
        zone = ZoneInfo(org.settings.timezone)
        performed = [
            a
            for a in action_store.actions_of_organization(org_id)
            if a["status"] in ("sent", "open", "to_post", "failed")
            and a.get("performedAt")
            and started_at <= datetime.fromisoformat(a["performedAt"]) <= ended_at
        ]
        lags = sorted(
            _hours(datetime.fromisoformat(a["performedAt"]) - datetime.fromisoformat(a["scheduledAt"]))
            for a in performed
            if not a.get("manual")
        )
        hour, minute = (int(p) for p in org.settings.send_time.split(":"))
        outside = [
            a
            for a in performed
            if (local := datetime.fromisoformat(a["performedAt"]).astimezone(zone)).weekday()
            not in org.settings.business_days
            or (local.hour, local.minute) != (hour, minute)
        ]
        skipped = [
            a
            for a in action_store.actions_of_organization(org_id)
            if a["status"] == "skipped" and a["id"] not in before
        ]

    assert lags, "no reminder went out in the window"
    p95 = lags[min(len(lags) - 1, int(0.95 * len(lags)))]
    FIGURES["pace: time scale"] = (
        f"{TIME_SCALE:g}× ({_hours(ended_at - started_at) / 24:.1f} simulated days in {real:.0f} s)"
    )
    FIGURES["pace: actions performed / skipped as superseded"] = f"{len(performed)} / {len(skipped)}"
    FIGURES["pace: reminder lag median / p95 (simulated hours)"] = f"{statistics.median(lags):.2f} / {p95:.2f}"
    FIGURES["pace: performed outside the send window"] = str(len(outside))
    FIGURES["pace: server CPU (share of one core)"] = f"{100 * cpu / real:.0f} %"
    assert not outside
    assert statistics.median(lags) <= 1 and p95 <= 3
