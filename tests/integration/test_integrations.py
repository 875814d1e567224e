"""Source-system sync through the local runtime: the API, the sync queue and its worker, the 15-minute
schedule and the public webhook, with the fake source of ``fake_source.py`` in place of the connectors.
Each test has an organization of its own (its API key), so none meets another's connection."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
import requests

from local.functions import FunctionError
from relance import clock
from relance.domain.sync import Batch, SourceContact, SourceCustomer, SourceInvoice
from relance.services.organization_admin import create_organization
from relance.storage import integrations as store
from tests.integration.fake_source import fake_source, sign  # noqa: F401 (a fixture)
from tests.integration.helpers import eventually, ok
from tests.integration.test_account_manager_scope import signed_in

CONNECT = {"enabled": True, "settings": {"account": "acct_1"}, "secret": {"apiKey": "sk_test_secret_1"}}


class Org:
    """An organization of the test and an API session as its admin key."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        organization, key = create_organization("Sync Test Ltd")
        self.id = organization.id
        self.http = requests.Session()
        self.http.headers["X-Api-Key"] = key

    def url(self, path: str) -> str:
        return f"{self.runtime.base_url}{path}"

    def get(self, path: str, *statuses: int) -> Any:
        return ok(self.http.get(self.url(path)), *statuses)

    def last_run(self, started_after: str = "") -> dict[str, Any]:
        """The connection's last finished run (after ``started_after``), once the worker has run it."""

        def finished() -> dict[str, Any] | None:
            run = self.get("/v1/integrations/stripe").get("lastRun") or {}
            done = run.get("finishedAt") and run["startedAt"] > started_after
            return run if done else None

        return eventually(finished, what="a finished sync run")


@pytest.fixture
def org(runtime, fake_source) -> Org:  # noqa: F811
    return Org(runtime)


def acme_pages(source) -> None:
    source.pages[None] = Batch(
        records=[
            SourceCustomer(
                external_id="cus_acme",
                name="Acme Trading",
                currency="EUR",
                contacts=[SourceContact(email="ann@acme.example", first_name="Ann", is_main=True)],
            ),
            SourceInvoice(
                external_id="in_1",
                customer_external_id="cus_acme",
                number="F-1",
                currency="EUR",
                amount=120_00,
                issued_at=date(2026, 1, 5),
                due_at=date(2026, 2, 4),
            ),
        ],
        cursor="c1",
    )


def connect(org: Org) -> dict[str, Any]:
    return ok(org.http.put(org.url("/v1/integrations/stripe"), json=CONNECT))


def customer_of(org: Org, external_id: str) -> dict[str, Any]:
    [customer] = org.get(f"/v1/customers?externalId={external_id}")["items"]
    return customer


def test_connecting_a_source_runs_it_and_brings_its_customers_and_invoices(org, fake_source):  # noqa: F811
    acme_pages(fake_source)

    connection = connect(org)
    run = org.last_run()

    assert connection["enabled"] and connection["status"] == "connected"
    assert connection["secretFieldsSet"] == ["apiKey", "webhookSecret"]
    assert "sk_test_secret_1" not in json.dumps(connection)
    assert run["outcome"] == "done" and run["counts"]["invoice"]["created"] == 1
    customer = customer_of(org, "cus_acme")
    assert customer["outstanding"] == {"EUR": 120_00} and customer["syncedFrom"] == "stripe"
    assert "sk_test_secret_1" not in json.dumps(org.get("/v1/integrations/stripe"))


def test_every_source_is_listed_with_its_state(org):
    listed = org.get("/v1/integrations")["items"]

    assert [(c["name"], c["label"], c["status"]) for c in listed] == [
        ("stripe", "Stripe Billing", "disabled"),
        ("quickbooks", "QuickBooks Online", "disabled"),
        ("salesforce", "Salesforce", "disabled"),
    ]
    assert listed[0]["webhookUrl"].endswith(f"/v1/integrations/stripe/webhooks/{org.id}")


def test_a_bad_setting_is_a_422_naming_it_and_an_unknown_source_a_404(org):
    refused = org.http.put(org.url("/v1/integrations/stripe"), json={**CONNECT, "settings": {}})
    unknown = org.http.get(org.url("/v1/integrations/xero"))

    assert refused.status_code == 422 and "settings.account" in refused.json()["error"]["fields"]
    assert unknown.status_code == 404


def test_sync_now_queues_a_run_and_the_errors_are_listed(org, fake_source):  # noqa: F811
    connect(org)
    first = org.last_run()
    fake_source.pages["c1"] = Batch(
        records=[
            SourceInvoice(
                external_id="in_orphan",
                customer_external_id="cus_nobody",
                number="F-9",
                currency="EUR",
                amount=5_00,
                issued_at=date(2026, 1, 5),
                due_at=date(2026, 2, 4),
            )
        ],
        cursor="c2",
    )
    fake_source.pages[None] = Batch(cursor="c1", more=True)

    queued = org.http.post(org.url("/v1/integrations/stripe/sync"))
    run = org.last_run(started_after=first["startedAt"])

    assert queued.status_code == 202 and queued.json() == {"integration": "stripe", "queued": True}
    assert run["counts"]["invoice"]["errors"] == 1
    errors = org.get("/v1/integrations/stripe/errors?limit=10")
    assert [(e["kind"], e["externalId"]) for e in errors["items"]] == [("invoice", "in_orphan")]
    assert "cus_nobody" in errors["items"][0]["message"]


def test_a_synced_field_is_read_only_in_the_api_and_the_others_are_not(org, fake_source):  # noqa: F811
    acme_pages(fake_source)
    connect(org)
    org.last_run()
    customer = customer_of(org, "cus_acme")

    renamed = org.http.patch(org.url(f"/v1/customers/{customer['id']}"), json={"name": "Renamed"})
    deleted = org.http.delete(org.url(f"/v1/customers/{customer['id']}"))
    tagged = org.http.patch(org.url(f"/v1/customers/{customer['id']}"), json={"tags": ["vip"]})

    assert renamed.status_code == 409 and "name" in renamed.json()["error"]["fields"]
    assert deleted.status_code == 409 and "Stripe Billing" in deleted.json()["error"]["message"]
    assert ok(tagged)["tags"] == ["vip"]
    assert customer_of(org, "cus_acme")["name"] == "Acme Trading"


def test_an_account_manager_cannot_see_integrations(runtime, fake_source):  # noqa: F811
    _, session = signed_in(runtime)
    base = f"{runtime.base_url}/v1/integrations"

    answers = [
        session.get(base),
        session.get(f"{base}/stripe"),
        session.put(f"{base}/stripe", json=CONNECT),
        session.post(f"{base}/stripe/sync"),
        session.get(f"{base}/stripe/errors"),
    ]

    assert [a.status_code for a in answers] == [403] * 5


# ---------------------------------------------------------------- webhooks


def test_a_signed_webhook_is_applied_without_a_key_and_only_in_its_organization(org, runtime, fake_source):  # noqa: F811
    connect(org)
    org.last_run()
    other = Org(runtime)
    body = Batch(records=[SourceCustomer(external_id="cus_hook", name="Hooked Ltd", currency="EUR")]).model_dump_json(
        by_alias=True
    )
    signature = sign(body.encode(), "whsec_fake")
    url = f"{runtime.base_url}/v1/integrations/stripe/webhooks"

    applied = requests.post(f"{url}/{org.id}", data=body, headers={"X-Fake-Signature": signature}, timeout=30)
    forged = requests.post(f"{url}/{org.id}", data=body, headers={"X-Fake-Signature": "0" * 64}, timeout=30)
    elsewhere = requests.post(f"{url}/{other.id}", data=body, headers={"X-Fake-Signature": signature}, timeout=30)

    assert ok(applied) == {"applied": 1}
    assert forged.status_code == 400 and elsewhere.status_code == 404
    assert customer_of(org, "cus_hook")["name"] == "Hooked Ltd"
    assert other.get("/v1/customers?externalId=cus_hook")["items"] == []


def test_the_webhook_function_refuses_the_sample_delivery_it_cannot_verify(org, runtime, sample_event):
    connect(org)
    event = sample_event("sync_webhook/stripe-invoice-finalized.json")
    event["path"] = event["path"].replace("org_01jdemo0000000000000000000", org.id)
    event["pathParameters"]["organizationId"] = org.id

    answer = runtime.functions["SyncWebhookFunction"].invoke(event)

    assert answer["statusCode"] == 400 and "signature" in json.loads(answer["body"])["error"]["message"]


# ---------------------------------------------------------------- the schedule and the worker


def test_the_schedule_runs_every_enabled_connection_every_15_minutes(org, runtime, fake_source):  # noqa: F811
    acme_pages(fake_source)
    connect(org)
    first = org.last_run()
    fake_source.asked.clear()

    runtime.settle()
    clock.advance(timedelta(minutes=16))
    run = org.last_run(started_after=first["startedAt"])

    assert run["outcome"] == "done" and "c1" in fake_source.asked
    assert (org.id, "stripe") in store.enabled_connections()


def test_the_sample_events_fan_out_and_run_a_connection(org, runtime, sample_event, fake_source):  # noqa: F811
    acme_pages(fake_source)
    connect(org)
    first = org.last_run()
    event = {**sample_event("sync_worker/run.json"), "organizationId": org.id}

    fanned = runtime.functions["SyncScheduleFunction"].invoke(sample_event("sync_schedule/scheduled-event.json"))
    worked = runtime.functions["SyncWorkerFunction"].invoke(event)

    assert fanned["runs"] >= 1
    assert worked["integration"] == "stripe" and worked["outcome"] in ("done", "busy")  # the fan-out's run may hold it
    assert org.last_run(started_after=first["startedAt"])["outcome"] == "done"


def test_a_worker_invocation_naming_no_organization_fails_naming_the_field(runtime, sample_event):
    event = sample_event("sync_worker/run.json")
    del event["organizationId"]

    with pytest.raises(FunctionError) as error:  # Lambda retries it twice, then sends it to the dead-letter queue
        runtime.functions["SyncWorkerFunction"].invoke(event)

    assert error.value.payload["errorType"] == "ValidationError"
    assert "organizationId" in error.value.payload["errorMessage"]
