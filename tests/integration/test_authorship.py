"""Who wrote a note, sent an email or paused a customer: a person by their name, an API key by its label."""

from __future__ import annotations

import requests

from tests.integration.helpers import ok, start_customer
from tests.integration.test_account_manager_scope import notifications_of, signed_in


def api_key(runtime, name: str) -> tuple[dict, requests.Session]:
    created = ok(runtime.api_session.post(f"{runtime.base_url}/v1/api-keys", json={"name": name}), 201)
    session = requests.Session()
    session.headers["X-Api-Key"] = created["key"]
    return created, session


def entry(runtime, customer_id: str, entry_id: str) -> dict:
    items = ok(runtime.api_session.get(f"{runtime.base_url}/v1/customers/{customer_id}/timeline"))["items"]
    return next(e for e in items if e["id"] == entry_id)


def test_a_note_written_with_an_api_key_names_the_key_as_its_author_and_in_its_mentions(fast):
    base = f"{fast.base_url}/v1"
    key, erp = api_key(fast, "ERP sync")
    admin, _ = signed_in(fast, role="admin", name="Ada Admin")
    customer_id, _ = start_customer(fast, "Authored Co", "ap@authored.example")

    note = ok(erp.post(f"{base}/customers/{customer_id}/notes", json={"body": f"@{admin['id']} disputed"}), 201)

    assert note["owner"] == f"apikey:{key['id']}" and note["ownerName"] == "ERP sync"
    [told] = [n for n in notifications_of(fast, admin["id"]) if n["kind"] == "mention"]
    assert told["summary"].startswith("ERP sync mentioned you on Authored Co")
    ok(fast.api_session.delete(f"{base}/api-keys/{key['id']}"))  # what it wrote keeps its name
    shown = entry(fast, customer_id, note["id"])
    assert (shown["owner"], shown["ownerName"]) == (f"apikey:{key['id']}", "ERP sync")


def test_a_manual_email_and_a_reply_record_who_sent_them(fast):
    base = f"{fast.base_url}/v1"
    manager, manager_api = signed_in(fast, name="Manon Manager")
    key, erp = api_key(fast, "Collections bot")
    customer_id, _ = start_customer(fast, "Emailed Co", "ap@emailed.example")
    ok(fast.api_session.patch(f"{base}/customers/{customer_id}", json={"accountManagerIds": [manager["id"]]}))

    by_person = ok(manager_api.post(f"{base}/actions", json={"customerId": customer_id, "type": "email"}), 201)
    by_key = ok(erp.post(f"{base}/actions", json={"customerId": customer_id, "type": "email"}), 201)
    answered = ok(erp.post(f"{base}/actions/{by_person['id']}/reply", json={"body": "Any news?"}), 201)

    assert by_person["status"] == "sent" and by_person["owner"] == manager["id"]
    shown = entry(fast, customer_id, by_person["id"])
    assert (shown["owner"], shown["ownerName"]) == (manager["id"], "Manon Manager")
    assert (by_key["owner"], by_key["ownerName"]) == (f"apikey:{key['id']}", "Collections bot")
    shown = entry(fast, customer_id, by_key["id"])
    assert (shown["owner"], shown["ownerName"]) == (f"apikey:{key['id']}", "Collections bot")
    shown = entry(fast, customer_id, answered["id"])
    assert shown["kind"] == "reply_out" and shown["ownerName"] == "Collections bot"


def test_who_paused_a_customer_is_named_on_the_timeline(fast):
    base = f"{fast.base_url}/v1"
    manager, manager_api = signed_in(fast, name="Paula Pause")
    _, erp = api_key(fast, "Pause bot")
    customer_id, _ = start_customer(fast, "Paused Co", "ap@paused.example")
    ok(fast.api_session.patch(f"{base}/customers/{customer_id}", json={"accountManagerIds": [manager["id"]]}))

    ok(manager_api.post(f"{base}/customers/{customer_id}/pause"))
    ok(erp.post(f"{base}/customers/{customer_id}/resume"))

    items = ok(fast.api_session.get(f"{base}/customers/{customer_id}/timeline"))["items"]
    events = {e["event"]: e for e in items if e.get("event") in ("paused", "resumed")}
    assert events["paused"]["byName"] == "Paula Pause" and events["paused"]["byInitials"] == "PP"
    assert events["resumed"]["byName"] == "Pause bot"
