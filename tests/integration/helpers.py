"""What the integration tests share: waiting on recorded state, time passing, customers under a workflow.

Time in the local runtime is simulated (``local/virtual_time.py``): a clock jump returns once
everything due inside it has happened, so a test lets time pass with ``jump_until`` and checks
what was recorded, instead of sleeping and hoping the runtime was quick. Every wait polls
recorded state and fails with a message when its limit runs out.

The calendar of a run is set by the environment, so the suite can prove it holds on any day:
``RELANCE_TEST_CLOCK_START`` (an ISO moment with its offset, e.g. ``2026-11-30T23:30:00+09:00``)
starts every runtime's clock there; ``RELANCE_TEST_TIMEZONE`` (default ``Europe/Paris``) is the
time zone of the organizations the dunning tests create.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import requests

from relance import clock
from relance.domain.send_window import SendWindow

T = TypeVar("T")

DAY = timedelta(days=1)
TIMEZONE = os.environ.get("RELANCE_TEST_TIMEZONE", "Europe/Paris")


def clock_start() -> datetime | None:
    """Where the tests' runtimes start their clock (None: now)."""
    text = os.environ.get("RELANCE_TEST_CLOCK_START")
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("RELANCE_TEST_CLOCK_START needs an offset, e.g. 2026-11-30T23:30:00+09:00")
    return moment


def eventually(check: Callable[[], T], timeout: float = 20.0, what: str = "") -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` real seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout:.0f} s: {what or check.__doc__ or check}")
        time.sleep(0.05)


def jump_until(
    runtime: Any, check: Callable[[], T], *, step: timedelta = DAY, limit: timedelta = 21 * DAY, what: str = ""
) -> T:
    """Let time pass, ``step`` by ``step``, until ``check`` returns something truthy; fail after ``limit``."""
    runtime.settle()
    passed = timedelta(0)
    while not (result := check()):
        if passed >= limit:
            raise AssertionError(f"still not true after {limit} of simulated time: {what or check}")
        clock.advance(step)
        passed += step
    return result


def jump(runtime: Any, span: timedelta) -> datetime:
    """Let ``span`` of time pass (everything due inside it happens, in order); returns the new now."""
    runtime.settle()
    return clock.advance(span)


def ok(response: requests.Response, *statuses: int) -> Any:
    """The JSON of a response that must have succeeded (any 2xx, or one of ``statuses``)."""
    expected = statuses or (200, 201, 202, 204)
    assert response.status_code in expected, (
        f"{response.request.method} {response.url}: {response.status_code} {response.text}"
    )
    return response.json() if response.content else None


def outbox(runtime: Any, to: str) -> list[dict[str, Any]]:
    """Every email sent to ``to``, oldest first."""
    return [m for m in ok(requests.get(f"{runtime.base_url}/dev/outbox", timeout=10)) if to in m["to"]]


def new_workflow(
    runtime: Any, name: str, steps: list[dict[str, Any]], *, min_contact_delay_days: int = 3, language: str = "en"
) -> dict[str, Any]:
    """A workflow of the organization, formal, through ``POST /v1/workflows``; steps as the API takes them."""
    body = {
        "name": name,
        "language": language,
        "tone": "formal",
        "minContactDelayDays": min_contact_delay_days,
        "steps": steps,
    }
    return ok(runtime.api_session.post(f"{runtime.base_url}/v1/workflows", json=body), 201)


def workflow_id(runtime: Any, name: str) -> str:
    workflows = ok(runtime.api_session.get(f"{runtime.base_url}/v1/workflows"))["items"]
    return next(w["id"] for w in workflows if w["name"] == name)


def start_customer(
    runtime: Any,
    name: str,
    email: str | None,
    due_days_ago: int = 2,
    workflow: str = "Standard",
    *,
    due_at: date | None = None,
) -> tuple[str, str]:
    """A customer with one contact (unless ``email`` is None) and one invoice of €500 due
    ``due_days_ago`` days ago (negative: ahead), or on ``due_at`` when given, then put under
    ``workflow``: its dunning starts."""
    api, base = runtime.api_session, f"{runtime.base_url}/v1"
    chosen = workflow_id(runtime, workflow)
    customer = ok(api.post(f"{base}/customers", json={"name": name, "currency": "EUR"}), 201)
    if email is not None:
        ok(api.post(f"{base}/customers/{customer['id']}/contacts", json={"email": email, "firstName": "Pat"}), 201)
    today = clock.now().date()
    if due_at is not None:
        due_days_ago = (today - due_at).days
    invoice = ok(
        api.post(
            f"{base}/invoices",
            json={
                "customerId": customer["id"],
                "number": f"{name[:3]}-1",
                "currency": "EUR",
                "amount": 50000,
                "issuedAt": str(today - timedelta(days=30)),
                "dueAt": str(today - timedelta(days=due_days_ago)),
            },
        ),
        201,
    )
    ok(api.patch(f"{base}/customers/{customer['id']}", json={"dunningPlanId": chosen}))
    return customer["id"], invoice["id"]


def pay(runtime: Any, customer_id: str, invoice_id: str, amount: int) -> requests.Response:
    """A payment in EUR received today, all of it on the invoice."""
    return runtime.api_session.post(
        f"{runtime.base_url}/v1/payments",
        json={
            "customerId": customer_id,
            "amount": amount,
            "currency": "EUR",
            "receivedAt": str(clock.now().date()),
            "allocations": [{"invoiceId": invoice_id, "amount": amount}],
        },
    )


def actions_of(runtime: Any, customer_id: str, status: str | None = None) -> list[dict[str, Any]]:
    items = ok(runtime.api_session.get(f"{runtime.base_url}/v1/customers/{customer_id}/actions"))["items"]
    return [a for a in items if status is None or a["status"] == status]


def timeline(runtime: Any, customer_id: str) -> list[dict[str, Any]]:
    return ok(runtime.api_session.get(f"{runtime.base_url}/v1/customers/{customer_id}/timeline"))["items"]


def organization_settings(runtime: Any) -> dict[str, Any]:
    return ok(runtime.api_session.get(f"{runtime.base_url}/v1/organization"))["settings"]


def send_window(settings: dict[str, Any]) -> SendWindow:
    """The organization's send window, as the planner reads it (for a customer without a time zone)."""
    hour, minute = (int(part) for part in settings["sendTime"].split(":"))
    return SendWindow(
        timezone=ZoneInfo(settings["timezone"]),
        send_time=time_of_day(hour, minute),
        business_days=frozenset(settings["businessDays"]),
        holidays=frozenset(date.fromisoformat(day) for day in settings["holidays"]),
    )


def next_send_day(runtime: Any) -> date:
    """The day, in the organization's time zone, of its next send moment: a step due that day goes
    at that moment, alone, whatever day and hour the clock shows (a step due on a weekend would
    go on the Monday, with a later step due by then superseding it)."""
    window = send_window(organization_settings(runtime))
    return window.first_at_or_after(clock.now()).astimezone(window.timezone).date()


def in_send_window(moment: str, settings: dict[str, Any]) -> bool:
    """Sent at the organization's send time, on one of its business days that is no holiday."""
    local = datetime.fromisoformat(moment).astimezone(ZoneInfo(settings["timezone"]))
    return (
        local.strftime("%H:%M") == settings["sendTime"]
        and local.weekday() in settings["businessDays"]
        and local.date().isoformat() not in settings["holidays"]
    )


_NIGHTLY = re.search(
    r"NightlyScheduleFunction:.*?Schedule: cron\((\d+) (\d+) \* \* \? \*\)",
    (Path(__file__).resolve().parents[2] / "template.yaml").read_text(),
    re.DOTALL,
)


def nightly_run_of(day: date) -> datetime:
    """When the nightly run whose run date is ``day`` starts (template.yaml's schedule, UTC): a test
    jumping "a night" must jump past it, whatever the hour it starts from."""
    if _NIGHTLY is None:
        raise AssertionError("template.yaml: no daily NightlyScheduleFunction schedule found")
    minute, hour = int(_NIGHTLY.group(1)), int(_NIGHTLY.group(2))
    return datetime.combine(day, time_of_day(hour, minute), UTC)


def last_nightly_run(moment: datetime) -> date:
    """The run date of the last nightly run started at or before ``moment``."""
    day = moment.astimezone(UTC).date()
    return day if nightly_run_of(day) <= moment else day - timedelta(days=1)
