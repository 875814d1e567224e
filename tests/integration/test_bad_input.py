"""Bad input through the HTTP front: each is a 4xx naming the field, writes nothing and changes nothing."""

import csv
import io
from datetime import timedelta

import pytest

from relance import clock
from relance.services import customers as customers_service
from relance.storage import customers as customer_store
from relance.storage import ledger as ledger_store
from tests.integration.helpers import ok


@pytest.fixture
def url(runtime):
    return lambda path: f"{runtime.base_url}/v1{path}"


@pytest.mark.parametrize("field", ["accountManagerIds", "tags", "customFields"])
def test_null_collections_on_a_customer_are_refused_and_change_nothing(api, url, field):
    customer = ok(api.post(url("/customers"), json={"name": f"Null {field}", "tags": ["kept"]}), 201)

    patched = api.patch(url(f"/customers/{customer['id']}"), json={field: None})
    bulk = api.post(url("/customers/bulk"), json={"ids": [customer["id"]], "set": {field: None}})

    assert patched.status_code == 422 and field in patched.json()["error"]["fields"]
    if field != "tags":  # bulk sets no tags
        assert bulk.status_code == 422 and f"set.{field}" in bulk.json()["error"]["fields"]
    after = ok(api.get(url(f"/customers/{customer['id']}")))
    assert after["tags"] == ["kept"] and after["accountManagerIds"] == [] and after["customFields"] == {}
    assert customer["id"] in [c["id"] for c in ok(api.get(url("/customers"), params={"limit": 200}))["items"]]


def test_sort_by_last_reminder_with_customers_never_reminded_puts_them_last(runtime, api, url):
    org_id = runtime.session["organization"]["id"]
    tag = "reminded-sort"
    made = {
        name: ok(api.post(url("/customers"), json={"name": name, "tags": [tag]}), 201)["id"]
        for name in ("Never reminded", "Reminded long ago", "Reminded lately")
    }
    now = clock.now()
    customer_store.mark_step_performed(org_id, made["Reminded long ago"], None, (now - timedelta(days=9)).isoformat())
    customer_store.mark_step_performed(org_id, made["Reminded lately"], None, (now - timedelta(days=1)).isoformat())

    def names(sort, limit=200):
        rows, cursor = [], None
        while True:
            params = {"tag": tag, "sort": sort, "limit": limit, **({"cursor": cursor} if cursor else {})}
            page = ok(api.get(url("/customers"), params=params))
            rows += [c["name"] for c in page["items"]]
            if not (cursor := page["nextCursor"]):
                return rows

    def exported(sort):
        response = api.get(url("/customers/export.csv"), params={"tag": tag, "sort": sort})
        assert response.status_code == 200, response.text
        return [row["Name"] for row in csv.DictReader(io.StringIO(response.text))]

    ascending = ["Reminded long ago", "Reminded lately", "Never reminded"]
    descending = ["Reminded lately", "Reminded long ago", "Never reminded"]
    assert names("lastReminderAt") == names("lastReminderAt", limit=1) == exported("lastReminderAt") == ascending
    assert names("-lastReminderAt") == names("-lastReminderAt", limit=1) == exported("-lastReminderAt") == descending
    for sort in ("averagePaymentDelayDays", "-averagePaymentDelayDays", "rating", "-rating"):
        assert sorted(names(sort, limit=1)) == sorted(made), sort


@pytest.mark.parametrize("external_id", ["x" * 150, "x" * 101, "%20%20"])
def test_upsert_by_an_external_id_in_the_path_that_the_body_would_refuse_is_refused(api, url, external_id):
    before = ok(api.get(url("/customers"), params={"limit": 200}))["items"]

    response = api.put(url(f"/customers/external/{external_id}"), json={"name": "Path external id"})

    assert response.status_code == 422, response.text
    assert "externalId" in response.json()["error"]["fields"]
    assert ok(api.get(url("/customers"), params={"limit": 200}))["items"] == before


def test_csv_export_neutralises_formulas_but_keeps_negative_numbers(api, url):
    ok(api.post(url("/custom-fields"), json={"key": "note", "label": "Note", "type": "text"}), 201)
    ok(api.post(url("/custom-fields"), json={"key": "score", "label": "Score", "type": "number"}), 201)
    tag = "formulas"
    hostile = ok(
        api.post(
            url("/customers"),
            json={
                "name": '=HYPERLINK("https://evil.example","click")',
                "externalId": "@SUM(1+1)",
                "currency": "EUR",
                "tags": ["+cmd", tag],
                "customFields": {"note": "-2+3", "score": -5},
            },
        ),
        201,
    )
    tabbed = ok(
        api.post(url("/customers"), json={"name": "Tab", "tags": [tag], "customFields": {"note": "\tTabbed"}}), 201
    )
    ok(
        api.post(
            url("/payments"),
            json={"customerId": hostile["id"], "amount": 1250, "currency": "EUR", "receivedAt": "2026-01-02"},
        ),
        201,
    )

    response = api.get(url("/customers/export.csv"), params={"tag": tag})
    rows = {row["ID"]: row for row in csv.DictReader(io.StringIO(response.text))}

    row = rows[hostile["id"]]
    assert row["Name"] == '\'=HYPERLINK("https://evil.example","click")'
    assert row["External ID"] == "'@SUM(1+1)"
    assert row["Tags"] == f"'+cmd;{tag}"
    assert row["note"] == "'-2+3"
    assert row["score"] == "-5" and row["Outstanding"] == "-12.50"
    assert rows[tabbed["id"]]["note"] == "'\tTabbed"


def test_one_note_file_over_15_mb_is_a_413_naming_the_limit_and_writes_nothing(api, url):
    customer = ok(api.post(url("/customers"), json={"name": "Big file"}), 201)
    note = ok(api.post(url(f"/customers/{customer['id']}/notes"), json={"body": "kept"}), 201)
    huge = {"filename": "huge.pdf", "size": 16 * 1024 * 1024}

    created = api.post(url(f"/customers/{customer['id']}/notes"), json={"body": "with a file", "attachments": [huge]})
    added = api.post(url(f"/notes/{note['id']}/attachments"), json=huge)

    for response in (created, added):
        assert response.status_code == 413, response.text
        assert "15 MB" in response.json()["error"]["message"] and "attachments" in response.json()["error"]["fields"]
    notes = ok(api.get(url(f"/customers/{customer['id']}/notes")))["items"]
    assert [(n["body"], n.get("attachments", [])) for n in notes] == [("kept", [])]


def _invoice(api, url, customer_id, **fields):
    today = clock.now().date()
    body = {
        "customerId": customer_id,
        "number": "B-1",
        "currency": "EUR",
        "amount": 10000,
        "issuedAt": str(today - timedelta(days=20)),
        "dueAt": str(today - timedelta(days=5)),
        **fields,
    }
    return api.post(url("/invoices"), json=body)


def test_amounts_and_numbers_too_large_for_the_ledger_are_refused_naming_the_field(api, url):
    customer = ok(api.post(url("/customers"), json={"name": "Huge amounts", "currency": "EUR"}), 201)
    invoice = ok(_invoice(api, url, customer["id"]), 201)
    huge = 10**38
    money = {"customerId": customer["id"], "currency": "EUR", "receivedAt": "2026-01-02"}
    ok(api.post(url("/custom-fields"), json={"key": "size", "label": "Size", "type": "number"}), 201)

    refused = {
        "amount": _invoice(api, url, customer["id"], number="B-2", amount=huge),
        "amount ": api.patch(url(f"/invoices/{invoice['id']}"), json={"amount": 10**15 + 1}),
        " amount": api.post(url("/payments"), json={**money, "amount": huge}),
        "allocations[0].amount": api.post(
            url("/payments"),
            json={**money, "amount": 100, "allocations": [{"invoiceId": invoice["id"], "amount": huge}]},
        ),
        "amount  ": api.post(url("/credit-notes"), json={**money, "amount": huge, "issuedAt": "2026-01-02"}),
        "  amount": api.post(url("/refunds"), json={**money, "amount": huge, "refundedAt": "2026-01-02"}),
        "customFields.size": api.patch(url(f"/customers/{customer['id']}"), json={"customFields": {"size": huge}}),
        "outstandingMin": api.get(url("/customers"), params={"outstandingMin": -huge}),
        "filter.outstandingMax": api.post(url("/views"), json={"name": "Huge", "filter": {"outstandingMax": huge}}),
    }

    for field, response in refused.items():
        assert response.status_code == 422, f"{field}: {response.status_code} {response.text}"
        assert field.strip() in response.json()["error"]["fields"], response.text
    after = ok(api.get(url(f"/customers/{customer['id']}")))
    assert after["customFields"] == {} and after["outstanding"] == {"EUR": 10000}
    assert [v["name"] for v in ok(api.get(url("/views")))["items"] if v["name"] == "Huge"] == []
    assert ok(api.get(url(f"/invoices/{invoice['id']}")))["amount"] == 10000


def test_resolving_a_dispute_with_an_unbounded_comment_keeps_the_dispute(runtime, api, url):
    org_id = runtime.session["organization"]["id"]
    customer = ok(api.post(url("/customers"), json={"name": "Disputing", "currency": "EUR"}), 201)
    invoice = ok(_invoice(api, url, customer["id"]), 201)
    dispute = {"reason": "wrong_amount", "comment": None, "at": clock.now().isoformat(), "by": "portal"}
    ledger_store.set_invoice_mark(org_id, invoice["id"], "disputed", dispute)

    refused = api.post(url(f"/invoices/{invoice['id']}/resolve-dispute"), json={"comment": "x" * 500_000})
    still = ok(api.get(url(f"/invoices/{invoice['id']}")))
    resolved = api.post(url(f"/invoices/{invoice['id']}/resolve-dispute"), json={"comment": "credit note sent"})

    assert refused.status_code == 422 and "comment" in refused.json()["error"]["fields"]
    assert still["disputed"]["reason"] == "wrong_amount"
    assert ok(resolved)["disputed"] is None
    events = [e for e in ok(api.get(url(f"/invoices/{invoice['id']}/timeline")))["items"] if e["kind"] == "event"]
    assert [(e["event"], e["comment"]) for e in events] == [("dispute_resolved", "credit note sent")]


def test_line_breaks_in_names_that_become_email_headers_are_refused(api, url):
    settings = ok(api.get(url("/organization")))["settings"]
    customer = ok(api.post(url("/customers"), json={"name": "Header names"}), 201)
    injected = "Ada\r\nBcc: thief@evil.example"

    refused = {
        "name": api.post(url("/users"), json={"email": "ada@relance.example", "name": injected, "role": "admin"}),
        "senderName": api.put(url("/organization/settings"), json={**settings, "senderName": injected}),
        "name ": api.post(url("/customers"), json={"name": injected}),
        "firstName": api.post(
            url(f"/customers/{customer['id']}/contacts"), json={"email": "a@b.example", "firstName": injected}
        ),
        "attachments[0].filename": api.post(
            url(f"/customers/{customer['id']}/notes"),
            json={"body": "file", "attachments": [{"filename": "a\r\n.pdf", "size": 10}]},
        ),
        "name  ": api.post(url("/api-keys"), json={"name": "key\tname"}),
    }

    for field, response in refused.items():
        assert response.status_code == 422, f"{field}: {response.text}"
        assert field.strip() in response.json()["error"]["fields"], response.text
    assert ok(api.get(url("/organization")))["settings"]["senderName"] == settings["senderName"]
    assert ok(api.get(url(f"/customers/{customer['id']}/contacts")))["items"] == []
    assert ok(api.get(url(f"/customers/{customer['id']}/notes")))["items"] == []


TEMPLATE = {
    "name": "Gentle",
    "language": "en",
    "tone": "formal",
    "subject": "About {{ customer.name }}",
    "text": "Dear {{ contact.first_name or 'customer' }}, {{ totals|join(', ') }} is due.",
    "html": "<p>{{ totals|join(', ') }} is due.</p>",
}


def test_unknown_templates_are_refused_before_anything_is_written(api, url):
    customer = ok(api.post(url("/customers"), json={"name": "Template less", "currency": "EUR"}), 201)
    ok(_invoice(api, url, customer["id"]), 201)
    step = {"id": "first", "offsetDays": 1, "action": "email"}

    previews = [
        api.post(url(f"/templates/{t}/preview"), json={"customerId": customer["id"]})
        for t in ("default.nope", "tpl_nope")
    ]
    manual = [
        api.post(url("/actions"), json={"customerId": customer["id"], "type": "email", "templateId": t})
        for t in ("default.nope", "tpl_nope")
    ]
    workflow = api.post(url("/workflows"), json={"name": "Ghost", "steps": [{**step, "templateId": "tpl_nope"}]})
    existing = ok(api.post(url("/workflows"), json={"name": "Real", "steps": [step]}), 201)
    replaced = api.put(
        url(f"/workflows/{existing['id']}"), json={"name": "Real", "steps": [{**step, "templateId": "default.x"}]}
    )

    assert [p.status_code for p in previews] == [404, 404], [p.text for p in previews]
    for response in manual:
        assert response.status_code == 422 and "templateId" in response.json()["error"]["fields"], response.text
    for response in (workflow, replaced):
        assert response.status_code == 422 and "steps[0].templateId" in response.json()["error"]["fields"], (
            response.text
        )
    assert ok(api.get(url(f"/customers/{customer['id']}/actions")))["items"] == []
    assert "Ghost" not in [w["name"] for w in ok(api.get(url("/workflows")))["items"]]
    assert ok(api.get(url(f"/workflows/{existing['id']}")))["steps"][0]["templateId"] is None


def test_a_template_a_workflow_uses_cannot_be_deleted(api, url):
    template = ok(api.post(url("/templates"), json=TEMPLATE), 201)
    step = {"id": "first", "offsetDays": 1, "action": "email", "templateId": template["id"]}
    workflow = ok(api.post(url("/workflows"), json={"name": "Uses Gentle", "steps": [step]}), 201)

    refused = api.delete(url(f"/templates/{template['id']}"))

    assert refused.status_code == 409 and "Uses Gentle" in refused.json()["error"]["message"]
    assert ok(api.get(url(f"/templates/{template['id']}")))["name"] == "Gentle"
    assert api.delete(url(f"/workflows/{workflow['id']}")).status_code == 204
    assert api.delete(url(f"/templates/{template['id']}")).status_code == 204


def test_an_edit_racing_a_dunning_write_keeps_the_dunning_state(runtime, api, url, monkeypatch):
    org_id = runtime.session["organization"]["id"]
    customer = ok(api.post(url("/customers"), json={"name": "Racing edit", "tags": ["before"]}), 201)
    reminded = clock.now().isoformat()
    checked = customers_service.check_references

    def dunning_writes_meanwhile(principal, fields):  # between update_customer's read and its write
        customer_store.update_dunning(
            org_id, customer["id"], {"execution": "exec-after-nudge", "collectionPaused": True, "pauseRound": 3}
        )
        customer_store.mark_step_performed(org_id, customer["id"], "overdue-1", reminded)
        return checked(principal, fields)

    monkeypatch.setattr(customers_service, "check_references", dunning_writes_meanwhile)
    edited = ok(
        api.patch(url(f"/customers/{customer['id']}"), json={"name": "Racing edit (renamed)", "tags": ["after"]})
    )

    stored = customer_store.get_customer(org_id, customer["id"], consistent=True)
    assert (stored["name"], stored["nameLower"], stored["tags"]) == (
        "Racing edit (renamed)",
        "racing edit (renamed)",
        ["after"],
    )
    assert (stored["execution"], stored["collectionPaused"], stored["pauseRound"]) == ("exec-after-nudge", True, 3)
    assert stored["performedSteps"] == ["overdue-1"] and stored["lastReminderAt"] == reminded
    assert edited["collectionPaused"] is True and edited["lastReminderAt"] is not None


def test_an_edit_moves_the_external_id_guard_with_it(api, url):
    customer = ok(api.post(url("/customers"), json={"name": "Moving id"}), 201)
    other = ok(api.post(url("/customers"), json={"name": "Holds id", "externalId": "HELD-1"}), 201)

    for external_id in ("MOVE-1", "MOVE-2"):
        ok(api.patch(url(f"/customers/{customer['id']}"), json={"externalId": external_id}))
    taken = api.patch(url(f"/customers/{customer['id']}"), json={"externalId": "HELD-1"})
    ok(api.patch(url(f"/customers/{customer['id']}"), json={"externalId": None}))

    assert taken.status_code == 409 and "externalId" in taken.json()["error"]["fields"]
    assert ok(api.put(url("/customers/external/MOVE-1"), json={"name": "New one"}), 201)["id"] != customer["id"]
    assert ok(api.put(url("/customers/external/HELD-1"), json={"name": "Holds id"}), 200)["id"] == other["id"]
    assert ok(api.get(url(f"/customers/{customer['id']}")))["externalId"] is None


def test_an_address_pydantic_takes_but_cognito_refuses_is_a_422_on_email(api, url):
    response = api.post(url("/users"), json={"name": "Pipe", "email": "|@d1.example", "role": "account_manager"})

    assert response.status_code == 422 and "email" in response.json()["error"]["fields"], response.text
    assert "|@d1.example" not in [u["email"] for u in ok(api.get(url("/users")))["items"]]
