"""A collections day in headless Chromium, through `python -m local serve` and its demo, end to end:
a customer's reply sent over SMTP shows on the timeline and the account manager answers it from
there (the answer reaches the outbox); a workflow's call lands in the account manager's To do, is
logged with what was said and the workflow's next reminder follows; an admin builds a workflow
with the organization's own template, assigns it from the customers list and its first reminder
reaches the outbox; an admin switches automatic actions off, every page says so and the reminder
falling due is held. Every page passes axe-core with no serious or critical violation.

The runtime's clock holds still (``--time-scale 0``); a test lets time pass with ``POST /dev/clock``,
which answers once everything due inside the jump has happened, and then reads what was recorded
(the outbox, the customer's actions and timeline). Each test makes its own customers and workflows
(unique names and addresses), and its reminders fall on the organization's next send day,
whatever the day and hour of the run.
"""

from __future__ import annotations

import re
import smtplib
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any, TypeVar

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.test_serve import Served
from tests.e2e.test_web_app import app, check, chromium, new_context, person, session, sign_in  # noqa: F401
from tests.integration.helpers import eventually, ok, send_window

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

T = TypeVar("T")


# ------------------------------------------------------------ the runtime, over HTTP


def admin_api(facts: dict) -> requests.Session:
    api = requests.Session()
    api.headers["X-Api-Key"] = facts["apiKey"]
    return api


def runtime_now(served: Served) -> datetime:
    return datetime.fromisoformat(ok(requests.get(f"{served.base_url}/dev/clock", timeout=10))["now"])


def jump_until(served: Served, check: Callable[[], T], *, days: float = 1, limit: int = 14, what: str = "") -> T:
    """Let time pass, ``days`` at a time, until ``check`` returns something truthy (the runtime's
    ``POST /dev/clock`` returns once everything due inside the jump has happened)."""
    for _ in range(limit):
        if result := check():
            return result
        ok(requests.post(f"{served.base_url}/dev/clock", json={"advanceDays": days}, timeout=600))
    if result := check():
        return result
    raise AssertionError(f"still not true after {limit * days:g} simulated days: {what}")


def next_send_day(served: Served, api: requests.Session) -> date:
    """The day, in the organization's time zone, of its next send moment on the runtime's clock."""
    window = send_window(ok(api.get(f"{served.base_url}/v1/organization"))["settings"])
    return window.first_at_or_after(runtime_now(served)).astimezone(window.timezone).date()


def outbox(served: Served, to: str) -> list[dict[str, Any]]:
    """Every email sent to ``to``, oldest first."""
    return [m for m in ok(requests.get(f"{served.base_url}/dev/outbox", timeout=30)) if to in m["to"]]


def user_id(served: Served, api: requests.Session, who: dict) -> str:
    users = ok(api.get(f"{served.base_url}/v1/users"))["items"]
    return next(u["id"] for u in users if u["email"] == who["email"])


def new_customer(
    served: Served,
    api: requests.Session,
    name: str,
    email: str,
    *,
    due_at: date,
    workflow_id: str | None = None,
    manager_id: str | None = None,
) -> str:
    """A customer with one contact and one invoice of €500 due ``due_at``, then under ``workflow_id``."""
    base = f"{served.base_url}/v1"
    body: dict[str, Any] = {"name": name, "currency": "EUR", "accountManagerIds": [manager_id] if manager_id else []}
    customer = ok(api.post(f"{base}/customers", json=body), 201)
    ok(api.post(f"{base}/customers/{customer['id']}/contacts", json={"email": email, "firstName": "Pat"}), 201)
    invoice = {
        "customerId": customer["id"],
        "number": f"CD-{uuid.uuid4().hex[:8]}",
        "currency": "EUR",
        "amount": 50000,
        "issuedAt": str(due_at - timedelta(days=30)),
        "dueAt": str(due_at),
    }
    ok(api.post(f"{base}/invoices", json=invoice), 201)
    if workflow_id:
        ok(api.patch(f"{base}/customers/{customer['id']}", json={"dunningPlanId": workflow_id}))
    return str(customer["id"])


def new_workflow(served: Served, api: requests.Session, name: str, steps: list[dict[str, Any]]) -> str:
    body = {"name": name, "language": "en", "tone": "formal", "minContactDelayDays": 1, "steps": steps}
    return str(ok(api.post(f"{served.base_url}/v1/workflows", json=body), 201)["id"])


def actions_of(served: Served, api: requests.Session, customer_id: str) -> list[dict[str, Any]]:
    return ok(api.get(f"{served.base_url}/v1/customers/{customer_id}/actions"))["items"]


def timeline_of(served: Served, api: requests.Session, customer_id: str) -> list[dict[str, Any]]:
    return ok(api.get(f"{served.base_url}/v1/customers/{customer_id}/timeline"))["items"]


def unique(label: str) -> tuple[str, str]:
    """A customer name and a contact address no other test (or run) uses."""
    token = uuid.uuid4().hex[:8]
    return f"{label} {token}", f"ap.{token}@collections-day.example"


# ------------------------------------------------------------ the proofs


def test_a_customer_reply_over_smtp_shows_on_the_timeline_and_the_account_manager_answers_it(app, session, chromium):  # noqa: F811
    api, manager = admin_api(session), person(session, "account_manager")
    name, address = unique("Replying Ltd")
    today = runtime_now(app).date()
    customer_id = new_customer(
        app, api, name, address, due_at=today - timedelta(days=10), manager_id=user_id(app, api, manager)
    )
    reminder = ok(api.post(f"{app.base_url}/v1/actions", json={"customerId": customer_id, "type": "email"}), 201)
    [sent] = eventually(lambda: outbox(app, address), timeout=30, what="the reminder in the outbox")
    assert reminder["status"] == "sent"

    message = EmailMessage()
    message["From"] = f"Pat Payer <{address}>"
    message["To"] = sent["replyTo"][0]
    message["Subject"] = f"Re: {sent['subject']}"
    message["In-Reply-To"] = sent["messageId"]
    message.set_content("We never received invoice CD, could you send it again?\n\nPat\n")
    with smtplib.SMTP("127.0.0.1", session["smtpPort"], timeout=10) as smtp:
        smtp.send_message(message)
    eventually(
        lambda: [e for e in timeline_of(app, api, customer_id) if e["kind"] == "reply_in"],
        timeout=30,
        what="the reply on the customer's timeline",
    )

    context = new_context(chromium, app)
    page = sign_in(context, manager, f"/customers/{customer_id}")
    reply = page.locator("#timeline-list li.tl-reply_in", has_text="We never received invoice CD")
    expect(reply).to_contain_text("Reply from Pat Payer")
    check(page, "collections-day-reply-in")
    reply.locator("summary", has_text="Reply").click()
    expect(reply).to_contain_text(f"To {address}")
    reply.get_by_label("Your reply").fill("Here it is again, attached to this email. Kind regards, Marc")
    check(page, "collections-day-reply-form")
    reply.get_by_role("button", name="Send reply").click()

    ours = page.locator("#timeline-list li.tl-reply_out", has_text="Here it is again")
    expect(ours).to_contain_text(f"To {address}")
    check(page, "collections-day-reply-out")
    answer = eventually(
        lambda: [m for m in outbox(app, address) if "Here it is again" in m["text"]],
        timeout=30,
        what="the answer in the outbox",
    )[0]
    assert answer["to"] == [address]
    assert "> We never received invoice CD" in answer["text"]  # the customer's mail quoted under it
    context.close()


def test_a_call_step_shows_in_the_to_do_is_logged_with_a_note_and_the_next_reminder_follows(app, session, chromium):  # noqa: F811
    api, manager = admin_api(session), person(session, "account_manager")
    name, address = unique("Calling SA")
    steps = [
        {"id": "call", "offsetDays": 0, "action": "call", "assignee": "account_manager"},
        {"id": "remind", "offsetDays": 1, "action": "email"},
    ]
    workflow = new_workflow(app, api, f"Call then remind {name[-8:]}", steps)
    customer_id = new_customer(
        app,
        api,
        name,
        address,
        due_at=next_send_day(app, api),
        workflow_id=workflow,
        manager_id=user_id(app, api, manager),
    )

    def open_call() -> list[dict[str, Any]]:
        return [a for a in actions_of(app, api, customer_id) if a["type"] == "call" and a["status"] == "open"]

    [call] = jump_until(app, open_call, what="the workflow's call is open")
    assert call["stepId"] == "call" and outbox(app, address) == []  # the call holds the workflow

    context = new_context(chromium, app)
    page = sign_in(context, manager, "/actions")
    row = page.locator("tbody tr", has_text=name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Call")
    check(page, "collections-day-to-do")
    row.get_by_label(re.compile(r"^Call notes")).fill("Spoke to Pat: they pay next week")
    row.get_by_role("button", name="Log the call").click()
    expect(page.locator("tbody tr", has_text=name)).to_have_count(0)
    check(page, "collections-day-call-logged")
    logged = next(a for a in actions_of(app, api, customer_id) if a["id"] == call["id"])
    assert logged["status"] == "done"

    [reminder] = jump_until(app, lambda: outbox(app, address), what="the next reminder after the call")
    sent = [a for a in actions_of(app, api, customer_id) if a["status"] == "sent"]
    assert [a["stepId"] for a in sent] == ["remind"] and reminder["to"] == [address]

    page.goto(f"/customers/{customer_id}")
    timeline = page.locator("#timeline-list")
    expect(timeline).to_contain_text("Spoke to Pat: they pay next week")
    expect(timeline.locator("li.tl-action", has_text="Email")).to_contain_text(reminder["subject"])
    check(page, "collections-day-call-then-reminder")
    context.close()


def test_an_admin_builds_a_workflow_assigns_it_from_the_list_and_its_first_reminder_goes(app, session, chromium):  # noqa: F811
    api = admin_api(session)
    name, address = unique("Assigned Later GmbH")
    token = name[-8:]
    template = api.post(
        f"{app.base_url}/v1/templates",
        json={
            "name": f"Heads-up {token}",
            "language": "en",
            "tone": "informal",
            "subject": f"Heads-up {token}: an invoice falls due soon",
            "text": "Hello, an invoice of yours falls due in a few days.",
            "html": "<p>Hello, an invoice of yours falls due in a few days.</p>",
        },
    )
    assert template.status_code == 201, template.text
    workflow_name = f"Three steps {token}"
    # The first step is three days before the due date: it falls on the organization's next send day.
    customer_id = new_customer(app, api, name, address, due_at=next_send_day(app, api) + timedelta(days=3))

    context = new_context(chromium, app)
    page = sign_in(context, person(session, "admin"), "/workflows/new")
    page.emulate_media(reduced_motion="reduce")  # axe reads the open menu's button at rest, not mid-transition
    steps = page.locator("fieldset.step-row")
    page.get_by_label("Name").fill(workflow_name)
    steps.nth(0).get_by_label("Days").fill("3")
    steps.nth(0).get_by_label("Before or after").select_option("before")
    steps.nth(0).get_by_label("Template").select_option(template.json()["id"])
    page.get_by_role("button", name="Add a step").click()
    expect(steps).to_have_count(2)
    steps.nth(1).get_by_label("Days").fill("2")
    page.get_by_role("button", name="Add a step").click()
    expect(steps).to_have_count(3)
    steps.nth(2).get_by_label("Days").fill("12")
    steps.nth(2).get_by_label("Action").select_option("call")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.locator("#preview tbody tr")).to_have_count(3)
    check(page, "collections-day-workflow-preview")
    page.get_by_role("button", name="Save workflow").click()
    expect(page).to_have_url(re.compile(r"/workflows#workflow-wf"))

    page.goto(f"/customers?q={token}")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    rows.get_by_label(f"Select {name}").check()
    page.locator("summary", has_text="Change customers").click()
    expect(page.locator("#scope-selected")).to_be_checked()
    page.locator("#bulk-workflow").select_option(label=workflow_name)
    check(page, "collections-day-bulk-assign")
    page.get_by_role("button", name="Assign…").click()
    expect(page.locator("h1")).to_have_text("Change 1 customer?")
    expect(page.locator("main")).to_contain_text(workflow_name)
    check(page, "collections-day-bulk-confirm")
    page.get_by_role("button", name="Change 1 customer").click()
    expect(page.get_by_role("status").filter(has_text="updated")).to_contain_text("1 customer updated")
    page.goto(f"/customers/{customer_id}")
    expect(page.locator("#workflow option:checked")).to_have_text(workflow_name)
    check(page, "collections-day-assigned")

    [reminder] = jump_until(app, lambda: outbox(app, address), what="the workflow's first reminder")
    assert reminder["subject"] == f"Heads-up {token}: an invoice falls due soon"  # the organization's template
    [first] = [a for a in actions_of(app, api, customer_id) if a["status"] == "sent"]
    workflows = ok(api.get(f"{app.base_url}/v1/workflows"))["items"]
    built = next(w for w in workflows if w["name"] == workflow_name)
    assert first["stepId"] == built["steps"][0]["id"] and first["type"] == "email"
    context.close()


def test_switching_automatic_actions_off_holds_the_next_reminder_and_shows_the_banner(app, session, chromium):  # noqa: F811
    api = admin_api(session)
    name, address = unique("Held Back Sarl")
    steps = [{"id": "first", "offsetDays": 0, "action": "email"}, {"id": "later", "offsetDays": 60, "action": "email"}]
    workflow = new_workflow(app, api, f"Held {name[-8:]}", steps)
    customer_id = new_customer(app, api, name, address, due_at=next_send_day(app, api), workflow_id=workflow)
    eventually(
        lambda: [a for a in actions_of(app, api, customer_id) if a["status"] == "planned"],
        timeout=30,
        what="the first reminder is planned",
    )

    context = new_context(chromium, app)
    page = sign_in(context, person(session, "admin"), "/settings")
    switch = page.get_by_label("Automatic actions")
    try:
        expect(switch).to_be_checked()
        switch.uncheck()
        page.get_by_role("button", name="Save settings").click()
        expect(page).to_have_url(re.compile(r"/settings$"))
        expect(page.get_by_label("Automatic actions")).not_to_be_checked()
        page.goto("/customers")
        banner = page.locator("#automatic-actions")  # loaded by htmx with the bell
        expect(banner).to_contain_text("Automatic actions are off")
        expect(banner.get_by_role("link", name="Turn them back on in the settings")).to_be_visible()
        check(page, "collections-day-automatic-actions-off")

        def held() -> list[dict[str, Any]]:
            return [e for e in timeline_of(app, api, customer_id) if e.get("event") == "held"]

        [event] = jump_until(app, held, what="the due reminder is held")
        assert event["reason"] == "automatic actions are off" and event["stepId"] == "first"
        ok(requests.post(f"{app.base_url}/dev/clock", json={"advanceDays": 2}, timeout=600))
        assert outbox(app, address) == []  # nothing automatic left
        page.goto(f"/customers/{customer_id}")
        expect(page.locator("#timeline-list")).to_contain_text("Held: automatic actions are off")
        expect(page.locator("#automatic-actions")).to_contain_text("Automatic actions are off")
        check(page, "collections-day-held")

        page.goto("/settings")
        page.get_by_label("Automatic actions").check()
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_label("Automatic actions")).to_be_checked()
        expect(page.locator("#automatic-actions")).not_to_contain_text("Automatic actions are off")
    finally:
        settings = ok(api.get(f"{app.base_url}/v1/organization"))["settings"]
        if not settings["automaticActions"]:
            ok(api.put(f"{app.base_url}/v1/organization/settings", json={**settings, "automaticActions": True}))
        context.close()
