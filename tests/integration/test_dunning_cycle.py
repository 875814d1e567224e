"""A customer's dunning cycle through the real state machine, on a clock a day per second."""

import itertools
import time
from datetime import datetime, timedelta

import requests

from relance import clock
from relance.services import dunning, nightly
from tests.integration.conftest import outbox
from tests.integration.test_local_runtime import eventually


def start_customer(
    runtime, name: str, email: str, due_days_ago: int = 2, workflow: str = "Standard"
) -> tuple[str, str]:
    api, base = runtime.api_session, f"{runtime.base_url}/v1"
    standard = next(w["id"] for w in api.get(f"{base}/workflows").json()["items"] if w["name"] == workflow)
    customer = api.post(f"{base}/customers", json={"name": name, "currency": "EUR"}).json()
    api.post(f"{base}/customers/{customer['id']}/contacts", json={"email": email, "firstName": "Pat"})
    today = clock.now().date()
    invoice = api.post(
        f"{base}/invoices",
        json={
            "customerId": customer["id"],
            "number": f"{name[:3]}-1",
            "currency": "EUR",
            "amount": 50000,
            "issuedAt": str(today - timedelta(days=30)),
            "dueAt": str(today - timedelta(days=due_days_ago)),
        },
    ).json()
    api.patch(f"{base}/customers/{customer['id']}", json={"dunningPlanId": standard})
    return customer["id"], invoice["id"]


def pay(runtime, customer_id: str, invoice_id: str, amount: int) -> requests.Response:
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


def test_cycle_sends_reminders_in_order_and_payment_stops_it(fast):
    customer_id, invoice_id = start_customer(fast, "Cycle Corp", "pat@cycle.example")

    first = eventually(lambda: outbox(fast, "pat@cycle.example"), timeout=20)
    assert first[0]["subject"].startswith("Overdue invoices")
    assert first[0]["replyTo"][0].startswith("reply+org_")
    assert f"{fast.base_url}/portal/pt_" in first[0]["text"]
    second = eventually(lambda: outbox(fast, "pat@cycle.example")[1:], timeout=30)
    gap = datetime.fromisoformat(second[0]["sentAt"]) - datetime.fromisoformat(first[0]["sentAt"])
    assert gap >= timedelta(days=7)  # the workflow's minimum contact delay

    pay(fast, customer_id, invoice_id, 50000)
    sent = len(outbox(fast, "pat@cycle.example"))
    clock.advance(timedelta(days=40))

    time.sleep(4)  # the nudged executions plan again: nothing is left to chase
    assert len(outbox(fast, "pat@cycle.example")) == sent
    kinds = [
        e["kind"] for e in fast.api_session.get(f"{fast.base_url}/v1/customers/{customer_id}/timeline").json()["items"]
    ]
    assert "action" in kinds


def test_a_fault_after_the_send_still_yields_exactly_one_email(fast, monkeypatch):
    real = dunning.after_send
    calls = {"n": 0}

    def flaky(org_id, action):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("injected fault after the send")
        return real(org_id, action)

    monkeypatch.setattr(dunning, "after_send", flaky)
    start_customer(fast, "Faulty Ltd", "ap@faulty.example", due_days_ago=2)

    eventually(lambda: calls["n"] >= 2, timeout=30)
    assert len(outbox(fast, "ap@faulty.example")) == 1


def test_forecast_comes_from_the_same_planner(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Forecast SA", "ap@forecast.example", due_days_ago=-20)

    entries = [
        e
        for e in api.get(f"{base}/actions/forecast", params={"days": 60}).json()["items"]
        if e["customerId"] == customer_id
    ]

    assert [e["stepId"] for e in entries] == ["before-due", "overdue-1", "overdue-10", "call-20"]
    assert entries[0]["to"] == ["ap@forecast.example"]
    emails = [datetime.fromisoformat(e["at"]) for e in entries if e["type"] == "email"]
    assert all(b - a >= timedelta(days=7) for a, b in itertools.pairwise(emails))


def test_a_manual_email_counts_as_a_contact(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Manual Mail", "ap@manual.example", due_days_ago=-20)

    sent = api.post(f"{base}/actions", json={"customerId": customer_id, "type": "email"}).json()

    assert sent["status"] == "sent" and outbox(fast, "ap@manual.example")
    sent_at = datetime.fromisoformat(sent["performedAt"])
    upcoming = [
        e
        for e in api.get(f"{base}/actions/forecast", params={"days": 60}).json()["items"]
        if e["customerId"] == customer_id and e["type"] == "email"
    ]
    assert datetime.fromisoformat(upcoming[0]["at"]) >= sent_at + timedelta(days=7)


def test_pause_postpones_and_resume_sends(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Paused Plc", "ap@paused.example", due_days_ago=-2)
    api.post(f"{base}/customers/{customer_id}/pause")

    time.sleep(4)  # four days pass: the before-due and overdue-1 steps fall due while paused
    assert outbox(fast, "ap@paused.example") == []
    events = [e.get("event") for e in api.get(f"{base}/customers/{customer_id}/timeline").json()["items"]]
    assert events[0] == "collection_paused"  # shown at the top until resumed
    assert "paused" in events and "postponed" in events

    api.post(f"{base}/customers/{customer_id}/resume")
    assert eventually(lambda: outbox(fast, "ap@paused.example"), timeout=20)


def test_a_call_holds_the_workflow_until_completed(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    api.post(
        f"{base}/workflows",
        json={
            "name": "Call first",
            "language": "en",
            "tone": "formal",
            "minContactDelayDays": 1,
            "steps": [
                {"id": "call", "offsetDays": 0, "action": "call"},
                {"id": "mail", "offsetDays": 1, "action": "email"},
            ],
        },
    ).json()
    customer_id, _ = start_customer(fast, "Callable Co", "ap@callable.example", due_days_ago=-1, workflow="Call first")

    def open_calls():
        items = api.get(f"{base}/actions", params={"status": "open", "type": "call"}).json()["items"]
        return [a for a in items if a["customerId"] == customer_id]

    call = eventually(open_calls, timeout=20)[0]
    time.sleep(3)
    assert outbox(fast, "ap@callable.example") == []  # held

    done = api.post(f"{base}/actions/{call['id']}/complete", json={"note": "Minuted call: pays Friday"})
    assert done.json()["status"] == "done"
    assert eventually(lambda: outbox(fast, "ap@callable.example"), timeout=20)


def test_letters_become_pdfs_to_post_and_sms_goes_to_the_phone(fast):
    import io

    from pypdf import PdfReader

    api, base = fast.api_session, f"{fast.base_url}/v1"
    for name in ("Letter first", "SMS first"):
        action = "letter" if name.startswith("Letter") else "sms"
        api.post(
            f"{base}/workflows",
            json={
                "name": name,
                "language": "fr",
                "tone": "formal",
                "minContactDelayDays": 3,
                "steps": [{"id": action, "offsetDays": 0, "action": action}],
            },
        )
    letter_customer, _ = start_customer(
        fast, "Courrier SARL", "compta@courrier.example", due_days_ago=-1, workflow="Letter first"
    )
    sms_customer, _ = start_customer(fast, "Texto SAS", "compta@texto.example", due_days_ago=-1, workflow="SMS first")
    contact = api.get(f"{base}/customers/{sms_customer}/contacts").json()["items"][0]
    api.patch(f"{base}/contacts/{contact['id']}", json={"phone": "+33612345678"})

    def done(customer_id, status):
        return [a for a in api.get(f"{base}/customers/{customer_id}/actions").json()["items"] if a["status"] == status]

    letter = eventually(lambda: done(letter_customer, "to_post"), timeout=20)[0]
    pdf = requests.get(letter["documentUrl"], timeout=10)  # the short-lived link the API gives
    assert pdf.status_code == 200
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Courrier SARL" in text and "Madame, Monsieur" in text
    sms = eventually(lambda: done(sms_customer, "sent"), timeout=20)[0]
    assert sms["to"] == ["+33612345678"] and sms["type"] == "sms"


def test_a_bounce_invalidates_the_contact_and_the_next_reminder_goes_to_the_fallback(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Bouncy Inc", "bounce@simulator.amazonses.com", due_days_ago=2)
    api.post(f"{base}/customers/{customer_id}/contacts", json={"email": "backup@bouncy.example"})

    def bounced():
        contacts = api.get(f"{base}/customers/{customer_id}/contacts").json()["items"]
        return [c for c in contacts if c["email"] == "bounce@simulator.amazonses.com" and c["invalid"]]

    contact = eventually(bounced, timeout=30)[0]
    assert contact["invalidSince"] and "550" in contact["invalidReason"]
    undelivered = api.get(f"{base}/analytics/emails-not-delivered").json()["items"]
    mine = [u for u in undelivered if u["customerId"] == customer_id]
    assert mine and mine[0]["recipients"] == {"bounce@simulator.amazonses.com": "bounced"}
    events = [e.get("event") for e in api.get(f"{base}/customers/{customer_id}/timeline").json()["items"]]
    assert "contact_invalidated" in events
    assert eventually(lambda: outbox(fast, "backup@bouncy.example"), timeout=30)  # the next reminder
    assert len(outbox(fast, "bounce@simulator.amazonses.com")) == 1  # a failed email is not re-sent


def test_delivery_statuses_only_move_forward(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Delivered AG", "success@simulator.amazonses.com", due_days_ago=2)

    def delivered():
        return [
            a
            for a in api.get(f"{base}/customers/{customer_id}/actions").json()["items"]
            if a.get("deliveryStatus") == "delivered"
        ]

    action = eventually(delivered, timeout=30)[0]
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
    after = next(
        a for a in api.get(f"{base}/customers/{customer_id}/actions").json()["items"] if a["id"] == action["id"]
    )
    assert (after["deliveryStatus"], after["recipientStatus"]) == (
        "opened",
        {"success@simulator.amazonses.com": "opened"},
    )


def test_a_reply_from_the_timeline_quotes_the_exchange_and_moves_the_next_reminder(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Replied Oy", "ap@replied.example", due_days_ago=2)
    eventually(lambda: outbox(fast, "ap@replied.example"), timeout=20)
    sent = next(a for a in api.get(f"{base}/customers/{customer_id}/actions").json()["items"] if a["status"] == "sent")

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
        for e in api.get(f"{base}/actions/forecast", params={"days": 60}).json()["items"]
        if e["customerId"] == customer_id and e["type"] == "email"
    ]
    assert all(datetime.fromisoformat(e["at"]) >= replied_at + timedelta(days=7) for e in upcoming)
    kinds = [e["kind"] for e in api.get(f"{base}/customers/{customer_id}/timeline").json()["items"]]
    assert "reply_out" in kinds
    unknown = api.post(f"{base}/actions/act_nothing/reply", json={"body": "x"})
    assert unknown.status_code == 404


def test_account_managers_are_notified_of_a_bounce_and_mark_it_read(fast):
    from relance.domain.organizations import Principal
    from relance.domain.users import UserFields
    from relance.services.notifications import list_notifications
    from relance.services.users import create_user

    api, base = fast.api_session, f"{fast.base_url}/v1"
    org = fast.session["organization"]["id"]
    admin = Principal(organization_id=org, role="admin", principal_id="test")
    manager = create_user(
        admin, UserFields(email="am.notify@relance.example", name="Ann Notify", role="account_manager")
    )
    customer_id, _ = start_customer(fast, "Notified BV", "bounce@simulator.amazonses.com", due_days_ago=2)
    api.patch(f"{base}/customers/{customer_id}", json={"accountManagerIds": [manager.id]})
    me = Principal(organization_id=org, role="account_manager", principal_id="user", user_id=manager.id)

    found = eventually(lambda: list_notifications(me)["items"], timeout=30)

    assert found[0]["kind"] == "contact_invalidated" and list_notifications(me)["unread"] >= 1
    from relance.services.notifications import mark_read

    mark_read(me, found[0]["id"])
    assert list_notifications(me)["unread"] == len(found) - 1


def test_a_broken_promise_resumes_the_reminders_where_they_stopped(fast):
    customer_id, invoice_id = start_customer(fast, "Promise Corp", "pat@promise.example")
    eventually(lambda: outbox(fast, "pat@promise.example"), timeout=20)  # overdue-1
    org = fast.session["organization"]["id"]
    link = fast.api_session.post(f"{fast.base_url}/v1/customers/{customer_id}/portal-link", json={}).json()["url"]
    promised_for = clock.now().date() + timedelta(days=3)
    requests.post(f"{link}/promise", data={"invoiceIds": [invoice_id], "promisedFor": promised_for.isoformat()})
    sent = len(outbox(fast, "pat@promise.example"))

    time.sleep(2)  # two days: under the promise, nothing goes
    assert len(outbox(fast, "pat@promise.example")) == sent
    clock.advance(timedelta(days=3))
    nightly.run_for_organization(org, clock.now().date())  # the promise is broken: back to dunning

    later = eventually(lambda: outbox(fast, "pat@promise.example")[sent:], timeout=30)
    steps = [
        a["stepId"]
        for a in fast.api_session.get(f"{fast.base_url}/v1/customers/{customer_id}/actions").json()["items"]
        if a["status"] == "sent"
    ]
    assert later and steps.count("overdue-1") == 1  # the cycle went on, it did not start again
