"""The answers of the actions, notes, notifications and collection operations through the HTTP front, each
as functions/api/openapi.json documents it: an attribute a record does not have is absent, not null."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import jsonschema
import pytest
import requests

from relance import clock
from tests.conftest import ROOT
from tests.integration.helpers import ok
from tests.integration.test_account_manager_scope import signed_in

DOCUMENT = json.loads((ROOT / "functions" / "api" / "openapi.json").read_text(encoding="utf-8"))


def documented(answer: requests.Response, method: str, path: str) -> Any:
    """The answer's JSON, checked against the schema the document gives for the operation and its status."""
    body = ok(answer)
    response = DOCUMENT["paths"][path][method]["responses"][str(answer.status_code)]
    schema = response["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": DOCUMENT["components"]})
    return body


@pytest.fixture
def url(runtime):
    return lambda path: f"{runtime.base_url}/v1{path}"


@pytest.fixture
def customer(api, url) -> dict[str, Any]:
    """A customer with an invoice 5 days overdue."""
    made = ok(api.post(url("/customers"), json={"name": "Answered SA", "currency": "EUR"}))
    today = clock.now().date()
    invoice = {
        "customerId": made["id"],
        "number": "ANS-1",
        "currency": "EUR",
        "amount": 12_000,
        "issuedAt": str(today - timedelta(days=35)),
        "dueAt": str(today - timedelta(days=5)),
    }
    return {**made, "invoice": ok(api.post(url("/invoices"), json=invoice))}


def test_tasks_are_answered_as_they_stand_listed_with_their_customer_reassigned_skipped_and_done(
    runtime, api, url, customer
):
    admin, admin_api = signed_in(runtime, role="admin", name="Ada")
    task = {"customerId": customer["id"], "type": "task"}

    opened = documented(api.post(url("/actions"), json=task), "post", "/v1/actions")
    listed = documented(api.get(url("/actions"), params={"status": "open"}), "get", "/v1/actions")
    reassigned = documented(
        api.post(url(f"/actions/{opened['id']}/reassign"), json={"owner": admin["id"]}),
        "post",
        "/v1/actions/{action_id}/reassign",
    )
    done = documented(
        api.post(url(f"/actions/{opened['id']}/complete"), json={"note": "called"}),
        "post",
        "/v1/actions/{action_id}/complete",
    )
    other = documented(api.post(url("/actions"), json={**task, "type": "call"}), "post", "/v1/actions")
    skipped = documented(api.post(url(f"/actions/{other['id']}/skip"), json={}), "post", "/v1/actions/{action_id}/skip")
    told = documented(admin_api.get(url("/notifications")), "get", "/v1/notifications")

    assert (opened["status"], opened["owner"], opened["note"]) == ("open", None, None)  # null, as stored
    assert {"subject", "performedAt", "deliveryStatus", "outcome"}.isdisjoint(opened)  # not there: absent
    assert [(a["id"], a["customerName"]) for a in listed["items"]] == [(opened["id"], "Answered SA")]
    assert reassigned["owner"] == admin["id"] and reassigned["assignedBy"].startswith("apikey:")
    assert (done["status"], done["note"], done["closedBy"]) == ("done", "called", reassigned["assignedBy"])
    assert (skipped["status"], skipped["note"]) == ("skipped", None)
    [assigned] = told["items"]
    assert (assigned["kind"], assigned["actionId"], assigned["customerId"]) == (
        "assigned",
        opened["id"],
        customer["id"],
    )
    assert {"noteId", "replyId", "received"}.isdisjoint(assigned) and told["unread"] == 1


def test_a_note_answers_its_uploads_and_a_file_added_later_its_own(api, url, customer):
    declared = {"filename": "minutes.txt", "contentType": "text/plain", "size": 5}

    written = api.post(url(f"/customers/{customer['id']}/notes"), json={"body": "Called", "attachments": [declared]})
    note = documented(written, "post", "/v1/customers/{customer_id}/notes")
    added = documented(
        api.post(url(f"/notes/{note['id']}/attachments"), json={**declared, "filename": "more.txt"}),
        "post",
        "/v1/notes/{note_id}/attachments",
    )
    read = documented(api.get(url(f"/notes/{note['id']}")), "get", "/v1/notes/{note_id}")

    [upload] = note["uploads"]
    assert upload["attachmentId"] == note["attachments"][0]["id"] and "key" not in note["attachments"][0]
    assert (added["attachment"]["name"], added["upload"]["maxBytes"]) == ("more.txt", 5)
    assert [a["name"] for a in read["attachments"]] == ["minutes.txt", "more.txt"] and "uploads" not in read


def test_pausing_answers_the_state_and_heads_the_timeline_until_resumed(api, url, customer):
    paused = documented(
        api.post(url(f"/customers/{customer['id']}/pause")), "post", "/v1/customers/{customer_id}/pause"
    )
    timeline = documented(
        api.get(url(f"/customers/{customer['id']}/timeline")), "get", "/v1/customers/{customer_id}/timeline"
    )
    resumed = documented(
        api.post(url(f"/customers/{customer['id']}/resume")), "post", "/v1/customers/{customer_id}/resume"
    )

    assert paused == {"collectionPaused": True} and resumed == {"collectionPaused": False}
    banner, event = timeline["items"][:2]
    assert banner == {"kind": "event", "event": "collection_paused", "pinned": True, "since": banner["since"]}
    assert event["event"] == "paused" and event["by"].startswith("apikey:") and event["id"].startswith("evt_")
