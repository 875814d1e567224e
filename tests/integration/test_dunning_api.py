"""Workflows and templates through the HTTP front."""

import pytest


@pytest.fixture
def url(runtime):
    return lambda path: f"{runtime.base_url}/v1{path}"


def test_default_workflows_ship_in_english_and_french(api, url):
    workflows = api.get(url("/workflows")).json()["items"]

    assert {(w["name"], w["language"]) for w in workflows} >= {
        ("Standard", "en"),
        ("Firm — bad payers", "en"),
        ("Standard (FR)", "fr"),
        ("Ferme — mauvais payeurs", "fr"),
    }
    standard = next(w for w in workflows if w["name"] == "Standard")
    assert [s["offsetDays"] for s in standard["steps"]] == [-3, 1, 10, 20, 30]
    assert standard["steps"][1]["cc"]  # the Purchaser is copied on the first overdue email


def test_workflow_is_validated_and_versioned(api, url):
    body = {
        "name": "Gentle",
        "language": "en",
        "tone": "informal",
        "minContactDelayDays": 10,
        "steps": [{"id": "one", "offsetDays": 5, "action": "email"}, {"id": "two", "offsetDays": 20, "action": "sms"}],
    }

    created = api.post(url("/workflows"), json=body).json()
    edited = api.put(url(f"/workflows/{created['id']}"), json={**body, "minContactDelayDays": 14}).json()
    bad = api.post(url("/workflows"), json={**body, "steps": [{"id": "x", "offsetDays": 1, "action": "fax", "cc": 3}]})
    duplicate = api.post(url("/workflows"), json={**body, "steps": [body["steps"][0], body["steps"][0]]})
    unknown_position = api.post(url("/workflows"), json={**body, "steps": [{**body["steps"][0], "to": ["pos_x"]}]})

    assert (edited["version"], edited["minContactDelayDays"]) == (1, 14)
    assert bad.status_code == 422 and {"steps[0].action", "steps[0].cc"} <= set(bad.json()["error"]["fields"])
    assert duplicate.status_code == 422
    assert unknown_position.json()["error"]["fields"] == {"steps[0].to": "unknown position"}
    assert api.delete(url(f"/workflows/{created['id']}")).status_code == 204


def test_a_followed_workflow_cannot_be_deleted(api, url):
    workflow = api.get(url("/workflows")).json()["items"][0]["id"]
    api.post(url("/customers"), json={"name": "Follower", "dunningPlanId": workflow})

    assert api.delete(url(f"/workflows/{workflow}")).status_code == 409


def test_preview_renders_a_shipped_template_for_a_real_customer(api, url):
    customer = api.post(url("/customers"), json={"name": "Préview & Fils", "currency": "EUR", "language": "fr"}).json()
    api.post(url(f"/customers/{customer['id']}/contacts"), json={"email": "ap@fils.example", "firstName": "Zoé"})
    api.post(
        url("/invoices"),
        json={
            "customerId": customer["id"],
            "number": "F-77",
            "currency": "EUR",
            "amount": 123450,
            "issuedAt": "2026-01-01",
            "dueAt": "2026-01-31",
        },
    )

    preview = api.post(
        url("/templates/default.overdue/preview"), json={"customerId": customer["id"], "tone": "informal"}
    )

    body = preview.json()
    assert preview.status_code == 200
    assert body["subject"].replace("\u202f", " ").replace("\xa0", " ") == "Rappel : 1 234,50 € en retard"
    assert "Bonjour Zoé" in body["text"] and "F-77" in body["text"]
    assert "Préview &amp; Fils" in body["html"] or "Zoé" in body["html"]


def test_own_templates_are_checked_sandboxed_and_previewed(api, url):
    customer = api.post(url("/customers"), json={"name": "Sandboxed", "currency": "USD"}).json()
    body = {
        "name": "Short",
        "language": "en",
        "tone": "formal",
        "subject": "{{ customer.name }}: {{ totals|join(', ') }}",
        "text": "Please pay {{ invoices|length }} invoice(s).",
        "html": "<p>{{ customer.name }}</p>",
    }

    created = api.post(url("/templates"), json=body).json()
    broken = api.post(url("/templates"), json={**body, "html": "<p>{% if %}</p>"})
    escape = api.post(
        url("/templates"), json={**body, "subject": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}
    ).json()
    preview = api.post(url(f"/templates/{created['id']}/preview"), json={"customerId": customer["id"]}).json()
    escaped = api.post(url(f"/templates/{escape['id']}/preview"), json={"customerId": customer["id"]})

    assert broken.status_code == 422 and broken.json()["error"]["fields"]["html"].startswith("line 1")
    assert preview["subject"] == "Sandboxed:" and preview["text"] == "Please pay 0 invoice(s)."
    assert escaped.status_code == 422 and "template" in escaped.json()["error"]["fields"]
