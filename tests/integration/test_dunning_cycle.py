"""A customer's dunning cycle through the real state machine, on simulated time.

Time moves only when a test lets it pass (``jump_until``, ``jump``): each jump returns once every
reminder due inside it has gone, at its own moment. Expectations are computed from the calendar,
so the tests hold whatever day and hour the clock starts at (see ``helpers``).
"""

import io
import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from pypdf import PdfReader

from relance import clock
from relance.services import dunning, nightly
from tests.integration.helpers import (
    DAY,
    actions_of,
    eventually,
    in_send_window,
    jump,
    jump_until,
    new_workflow,
    next_send_day,
    ok,
    organization_settings,
    outbox,
    pay,
    start_customer,
    timeline,
)


def test_cycle_sends_reminders_in_order_and_payment_stops_it(fast):
    customer_id, invoice_id = start_customer(fast, "Cycle Corp", "pat@cycle.example")
    settings = organization_settings(fast)

    first = jump_until(fast, lambda: outbox(fast, "pat@cycle.example"))
    assert first[0]["subject"].startswith("Overdue invoices")  # overdue-1 supersedes the before-due reminder
    assert first[0]["replyTo"][0].startswith("reply+org_")
    assert f"{fast.base_url}/portal/pt_" in first[0]["text"]
    second = jump_until(fast, lambda: outbox(fast, "pat@cycle.example")[1:])
    gap = datetime.fromisoformat(second[0]["sentAt"]) - datetime.fromisoformat(first[0]["sentAt"])
    assert gap >= timedelta(days=7)  # the workflow's minimum contact delay
    assert all(in_send_window(m["sentAt"], settings) for m in (first[0], second[0]))

    ok(pay(fast, customer_id, invoice_id, 50000), 201)
    sent = len(outbox(fast, "pat@cycle.example"))
    jump(fast, timedelta(days=40))

    assert len(outbox(fast, "pat@cycle.example")) == sent
    assert not actions_of(fast, customer_id, "planned")
    assert "action" in [e["kind"] for e in timeline(fast, customer_id)]


def test_twelve_one_day_jumps_send_what_twelve_days_send(fast):
    """The clock jumps a day at a time, each jump landing anywhere in the day: every reminder still
    goes exactly when the planner forecast it, at the send time of a business day, never sooner than
    the minimum delay after the last."""
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, invoice_id = start_customer(fast, "Daily Jumps", "ap@daily.example", due_days_ago=-1)
    settings = organization_settings(fast)
    end = clock.now() + 12 * DAY
    forecast = [
        (e["stepId"], datetime.fromisoformat(e["at"]))
        for e in ok(api.get(f"{base}/actions/forecast", params={"days": 14}))["items"]
        if e["customerId"] == customer_id and datetime.fromisoformat(e["at"]) <= end
    ]

    for _ in range(12):
        jump(fast, DAY)

    sent = sorted(actions_of(fast, customer_id, "sent"), key=lambda a: a["performedAt"])
    assert len(forecast) >= 2
    assert [(a["stepId"], datetime.fromisoformat(a["performedAt"])) for a in sent] == forecast
    emails = outbox(fast, "ap@daily.example")
    assert all(in_send_window(m["sentAt"], settings) for m in emails)
    moments = [datetime.fromisoformat(m["sentAt"]) for m in emails]
    assert all(b - a >= timedelta(days=7) for a, b in itertools.pairwise(moments))

    ok(pay(fast, customer_id, invoice_id, 50000), 201)
    for _ in range(12):
        jump(fast, DAY)
    assert len(outbox(fast, "ap@daily.example")) == len(emails)  # none after payment


def test_a_fault_after_the_send_still_yields_exactly_one_email(fast, monkeypatch):
    """A fault once the email is out and marked sent (here, before Act plans the next action) goes to
    RecordFailure, which finds the action sent and only finishes it: never a second email."""
    real_mark, real_after = dunning._mark_sent, dunning.after_send
    calls = {"faults": 0, "finished": 0}

    def faulty_mark(*args, **kwargs):
        real_mark(*args, **kwargs)
        if calls["faults"] == 0:
            calls["faults"] += 1
            raise RuntimeError("injected fault after the send")

    def finishing(org_id, action):
        calls["finished"] += 1
        return real_after(org_id, action)

    monkeypatch.setattr(dunning, "_mark_sent", faulty_mark)
    monkeypatch.setattr(dunning, "after_send", finishing)
    customer_id, _ = start_customer(fast, "Faulty Ltd", "ap@faulty.example", due_days_ago=2)

    jump_until(fast, lambda: calls["finished"] >= 1, what="the send is finished after the fault")

    assert calls["faults"] == 1
    assert len(outbox(fast, "ap@faulty.example")) == 1
    [sent] = actions_of(fast, customer_id, "sent")
    assert sent["stepId"] == "overdue-1"
    assert [e["status"] for e in timeline(fast, customer_id) if e["id"] == sent["id"]] == ["sent"]


def test_a_failed_step_is_performed_and_the_next_step_follows_once_a_contact_exists(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Nobody Home", None, due_days_ago=2)

    failed = jump_until(fast, lambda: actions_of(fast, customer_id, "failed"))
    assert failed[0]["stepId"] == "overdue-1" and failed[0]["reason"] == "no valid contact to write to"
    events = [e for e in timeline(fast, customer_id) if e.get("status") == "failed"]
    assert events and events[0]["reason"] == "no valid contact to write to"
    ok(api.post(f"{base}/customers/{customer_id}/contacts", json={"email": "found@nobody.example"}), 201)

    later = jump_until(fast, lambda: outbox(fast, "found@nobody.example"))
    assert later[0]["subject"].startswith("Overdue invoices")
    steps = {a["stepId"]: a["status"] for a in actions_of(fast, customer_id)}
    assert steps["overdue-1"] == "failed" and steps["overdue-10"] == "sent"  # not resent: the workflow went on


def test_an_unverified_sender_fails_the_reminder_with_that_reason_and_once_verified_the_next_one_sends(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    settings = organization_settings(fast)
    try:
        ok(api.put(f"{base}/organization/settings", json={**settings, "senderEmail": "billing@relance.example"}))
        assert ok(api.get(f"{base}/organization"))["sender"]["status"] == "pending"
        customer_id, _ = start_customer(fast, "Unverified Sender", "ap@unverified.example", due_days_ago=2)

        failed = jump_until(fast, lambda: actions_of(fast, customer_id, "failed"))
        assert "billing@relance.example is not verified" in failed[0]["reason"]
        told = [e for e in timeline(fast, customer_id) if e.get("status") == "failed"]
        assert told and told[0]["reason"] == failed[0]["reason"]
        assert outbox(fast, "ap@unverified.example") == []

        ok(requests.post(f"{fast.base_url}/dev/ses/verify", json={"email": "billing@relance.example"}, timeout=10))
        assert ok(api.get(f"{base}/organization"))["sender"]["status"] == "verified"
        sent = jump_until(fast, lambda: outbox(fast, "ap@unverified.example"))  # the workflow carried on
        assert "billing@relance.example" in sent[0]["from"]
    finally:
        ok(api.put(f"{base}/organization/settings", json=settings))


def test_a_holiday_declared_after_planning_moves_the_reminder_to_the_next_business_day(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Holiday GmbH", "ap@holiday.example", due_days_ago=2)
    fast.settle()
    [planned] = actions_of(fast, customer_id, "planned")
    settings = organization_settings(fast)
    day = datetime.fromisoformat(planned["scheduledAt"]).astimezone(ZoneInfo(settings["timezone"])).date()

    try:
        ok(api.put(f"{base}/organization/settings", json={**settings, "holidays": [day.isoformat()]}))
        sent = jump_until(fast, lambda: outbox(fast, "ap@holiday.example"))
    finally:
        ok(api.put(f"{base}/organization/settings", json=settings))

    sent_day = datetime.fromisoformat(sent[0]["sentAt"]).astimezone(ZoneInfo(settings["timezone"])).date()
    assert sent_day > day
    assert in_send_window(sent[0]["sentAt"], {**settings, "holidays": [day.isoformat()]})


def test_forecast_comes_from_the_same_planner(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Forecast SA", "ap@forecast.example", due_days_ago=-20)

    entries = [
        e
        for e in ok(api.get(f"{base}/actions/forecast", params={"days": 60}))["items"]
        if e["customerId"] == customer_id
    ]

    assert [e["stepId"] for e in entries] == ["before-due", "overdue-1", "overdue-10", "call-20"]
    assert entries[0]["to"] == ["ap@forecast.example"]
    emails = [datetime.fromisoformat(e["at"]) for e in entries if e["type"] == "email"]
    assert all(b - a >= timedelta(days=7) for a, b in itertools.pairwise(emails))


def test_a_manual_email_counts_as_a_contact(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Manual Mail", "ap@manual.example", due_days_ago=-20)

    sent = ok(api.post(f"{base}/actions", json={"customerId": customer_id, "type": "email"}), 201)

    assert sent["status"] == "sent" and outbox(fast, "ap@manual.example")
    sent_at = datetime.fromisoformat(sent["performedAt"])
    upcoming = [
        e
        for e in ok(api.get(f"{base}/actions/forecast", params={"days": 60}))["items"]
        if e["customerId"] == customer_id and e["type"] == "email"
    ]
    assert datetime.fromisoformat(upcoming[0]["at"]) >= sent_at + timedelta(days=7)


def test_pause_postpones_resume_sends_and_no_action_of_the_paused_round_stays_planned(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Paused Plc", "ap@paused.example", due_days_ago=-2)
    ok(api.post(f"{base}/customers/{customer_id}/pause"))

    events = jump_until(
        fast,
        lambda: [e.get("event") for e in timeline(fast, customer_id) if e.get("event") == "postponed"],
        what="a step falls due while paused",
    )
    assert events and outbox(fast, "ap@paused.example") == []
    kinds = [e.get("event") for e in timeline(fast, customer_id)]
    assert kinds[0] == "collection_paused"  # shown at the top until resumed
    assert "paused" in kinds

    ok(api.post(f"{base}/customers/{customer_id}/resume"))
    assert jump_until(fast, lambda: outbox(fast, "ap@paused.example"))
    fast.settle()
    planned = actions_of(fast, customer_id, "planned")
    assert len(planned) <= 1  # only the next step of the current round
    assert all(p["id"] == dunning.planned_action_id(customer_id, 0, p["stepId"], 1) for p in planned)


def test_resuming_before_the_planned_step_leaves_no_ghost(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Ghostless", "ap@ghostless.example", due_days_ago=-20)
    fast.settle()
    [before] = actions_of(fast, customer_id, "planned")

    ok(api.post(f"{base}/customers/{customer_id}/pause"))
    ok(api.post(f"{base}/customers/{customer_id}/resume"))
    fast.settle()

    statuses = {a["id"]: a["status"] for a in actions_of(fast, customer_id)}
    assert statuses[before["id"]] == "replanned"
    assert list(statuses.values()).count("planned") == 1


def test_a_call_holds_the_workflow_until_completed(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    steps = [{"id": "call", "offsetDays": 0, "action": "call"}, {"id": "mail", "offsetDays": 1, "action": "email"}]
    new_workflow(fast, "Call first", steps, min_contact_delay_days=1)
    # Due on the next send day, the call goes at that send moment; the email, a day later, cannot
    # fall due by then (a call due on a Saturday would be superseded on Monday by the email due Sunday).
    customer_id, _ = start_customer(
        fast, "Callable Co", "ap@callable.example", workflow="Call first", due_at=next_send_day(fast)
    )

    def open_calls():  # the customer's own actions: the organization's list pages through every test's
        return [a for a in actions_of(fast, customer_id, "open") if a["type"] == "call"]

    call = jump_until(fast, open_calls)[0]
    jump(fast, timedelta(days=5))
    assert outbox(fast, "ap@callable.example") == []  # held

    done = ok(api.post(f"{base}/actions/{call['id']}/complete", json={"note": "Minuted call: pays Friday"}))
    assert done["status"] == "done"
    assert jump_until(fast, lambda: outbox(fast, "ap@callable.example"))


def test_letters_become_pdfs_to_post_and_sms_goes_to_the_phone(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    for name in ("Letter first", "SMS first"):
        action = "letter" if name.startswith("Letter") else "sms"
        new_workflow(fast, name, [{"id": action, "offsetDays": 0, "action": action}], language="fr")
    letter_customer, _ = start_customer(
        fast, "Courrier SARL", "compta@courrier.example", due_days_ago=-1, workflow="Letter first"
    )
    sms_customer, _ = start_customer(fast, "Texto SAS", "compta@texto.example", due_days_ago=-1, workflow="SMS first")
    contact = ok(api.get(f"{base}/customers/{sms_customer}/contacts"))["items"][0]
    ok(api.patch(f"{base}/contacts/{contact['id']}", json={"phone": "+33612345678"}))

    letter = jump_until(fast, lambda: actions_of(fast, letter_customer, "to_post"))[0]
    pdf = requests.get(letter["documentUrl"], timeout=10)  # the short-lived link the API gives
    assert pdf.status_code == 200
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Courrier SARL" in text and "Madame, Monsieur" in text
    sms = jump_until(fast, lambda: actions_of(fast, sms_customer, "sent"))[0]
    assert sms["to"] == ["+33612345678"] and sms["type"] == "sms"


def test_a_bounce_invalidates_the_contact_and_the_next_reminder_goes_to_the_fallback(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Bouncy Inc", "bounce@simulator.amazonses.com", due_days_ago=2)
    ok(api.post(f"{base}/customers/{customer_id}/contacts", json={"email": "backup@bouncy.example"}), 201)

    def bounced():
        contacts = ok(api.get(f"{base}/customers/{customer_id}/contacts"))["items"]
        return [c for c in contacts if c["email"] == "bounce@simulator.amazonses.com" and c["invalid"]]

    contact = jump_until(fast, bounced)[0]
    assert contact["invalidSince"] and "550" in contact["invalidReason"]
    undelivered = ok(api.get(f"{base}/analytics/emails-not-delivered"))["items"]
    mine = [u for u in undelivered if u["customerId"] == customer_id]
    assert mine and mine[0]["recipients"] == {"bounce@simulator.amazonses.com": "bounced"}
    assert "contact_invalidated" in [e.get("event") for e in timeline(fast, customer_id)]
    assert jump_until(fast, lambda: outbox(fast, "backup@bouncy.example"))  # the next reminder
    assert len(outbox(fast, "bounce@simulator.amazonses.com")) == 1  # a failed email is not re-sent


def test_delivery_statuses_only_move_forward(fast):
    customer_id, _ = start_customer(fast, "Delivered AG", "success@simulator.amazonses.com", due_days_ago=2)

    def delivered():
        return [a for a in actions_of(fast, customer_id) if a.get("deliveryStatus") == "delivered"]

    action = jump_until(fast, delivered)[0]
    assert action["recipientStatus"] == {"success@simulator.amazonses.com": "delivered"}

    from relance.services.mail_events import handle

    mail = {
        "messageId": "m",
        "destination": ["success@simulator.amazonses.com"],
        "tags": {"organization": [fast.session["organization"]["id"]], "action": [action["id"]]},
    }
    handle({"eventType": "Open", "mail": mail, "open": {}})
    handle({"eventType": "Send", "mail": mail, "send": {}})  # late and out of order: no step back
    handle({"eventType": "Open", "mail": mail, "open": {}})  # twice: the same
    after = next(a for a in actions_of(fast, customer_id) if a["id"] == action["id"])
    assert (after["deliveryStatus"], after["recipientStatus"]) == (
        "opened",
        {"success@simulator.amazonses.com": "opened"},
    )


def test_a_reply_from_the_timeline_quotes_the_exchange_and_moves_the_next_reminder(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Replied Oy", "ap@replied.example", due_days_ago=2)
    jump_until(fast, lambda: outbox(fast, "ap@replied.example"))
    sent = actions_of(fast, customer_id, "sent")[0]

    answer = api.post(
        f"{base}/actions/{sent['id']}/reply",
        json={"body": "Thanks, we will pay on Friday.", "cc": ["boss@replied.example"]},
    )

    assert answer.status_code == 201
    message = next(m for m in outbox(fast, "ap@replied.example") if m["subject"].startswith("Re: "))
    assert message["cc"] == ["boss@replied.example"]
    assert "Thanks, we will pay on Friday." in message["text"] and "> " in message["text"]
    replied_at = datetime.fromisoformat(answer.json()["performedAt"])
    upcoming = [
        e
        for e in ok(api.get(f"{base}/actions/forecast", params={"days": 60}))["items"]
        if e["customerId"] == customer_id and e["type"] == "email"
    ]
    assert all(datetime.fromisoformat(e["at"]) >= replied_at + timedelta(days=7) for e in upcoming)
    assert "reply_out" in [e["kind"] for e in timeline(fast, customer_id)]
    unknown = api.post(f"{base}/actions/act_nothing/reply", json={"body": "x"})
    assert unknown.status_code == 404


def test_account_managers_are_notified_of_a_bounce_and_mark_it_read(fast):
    from relance.domain.organizations import Principal
    from relance.domain.users import UserFields
    from relance.services.notifications import list_notifications, mark_read
    from relance.services.users import create_user

    api, base = fast.api_session, f"{fast.base_url}/v1"
    org = fast.session["organization"]["id"]
    admin = Principal(organization_id=org, role="admin", principal_id="test")
    manager = create_user(
        admin, UserFields(email="am.notify@relance.example", name="Ann Notify", role="account_manager")
    )
    customer_id, _ = start_customer(fast, "Notified BV", "bounce@simulator.amazonses.com", due_days_ago=2)
    ok(api.patch(f"{base}/customers/{customer_id}", json={"accountManagerIds": [manager.id]}))
    me = Principal(organization_id=org, role="account_manager", principal_id="user", user_id=manager.id)

    found = jump_until(fast, lambda: list_notifications(me)["items"])

    assert found[0]["kind"] == "contact_invalidated" and list_notifications(me)["unread"] >= 1
    mark_read(me, found[0]["id"])
    assert list_notifications(me)["unread"] == len(found) - 1


def test_a_broken_promise_resumes_the_reminders_where_they_stopped(fast):
    customer_id, invoice_id = start_customer(fast, "Promise Corp", "pat@promise.example")
    jump_until(fast, lambda: outbox(fast, "pat@promise.example"))  # overdue-1
    org = fast.session["organization"]["id"]
    link = ok(fast.api_session.post(f"{fast.base_url}/v1/customers/{customer_id}/portal-link", json={}))["url"]
    promised_for = clock.now().date() + timedelta(days=3)
    promised = requests.post(
        f"{link}/promise", data={"invoiceIds": [invoice_id], "promisedFor": promised_for.isoformat()}, timeout=10
    )
    assert promised.status_code in (200, 303), promised.text
    sent = len(outbox(fast, "pat@promise.example"))

    jump(fast, timedelta(days=2))  # under the promise, nothing goes
    assert len(outbox(fast, "pat@promise.example")) == sent
    jump(fast, timedelta(days=2))  # the promised day has passed: the nightly run finds it broken
    nightly.run_for_organization(org, clock.now().date())  # (idempotent if the night already did)

    later = jump_until(fast, lambda: outbox(fast, "pat@promise.example")[sent:])
    steps = [a["stepId"] for a in actions_of(fast, customer_id, "sent")]
    assert later and steps.count("overdue-1") == 1  # the cycle went on, it did not start again


def test_waits_poll_recorded_state_and_fail_on_timeout(fast):
    """The helpers fail loudly instead of returning a falsy value that a test could forget to assert."""
    import pytest

    with pytest.raises(AssertionError, match="still not true"):
        eventually(lambda: [], timeout=0.1, what="nothing")
    with pytest.raises(AssertionError, match="simulated time"):
        jump_until(fast, lambda: [], limit=DAY, what="nothing")
