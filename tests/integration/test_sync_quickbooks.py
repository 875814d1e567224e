"""QuickBooks Online sync end to end: the connector (relance.sync.quickbooks) through the sync service on
template.yaml's table, reading the local runtime's QuickBooks stand-in (local/quickbooks.py) over HTTP
with python-quickbooks and Intuit's OAuth client. Each test has an organization and a company of its own."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from local.quickbooks import LocalQuickBooks, signature
from local.runtime import LocalRuntime
from relance import clock, secrets
from relance.domain.integrations import ConnectionFields
from relance.domain.ledger import Allocation, PaymentFields
from relance.domain.organizations import Organization, Principal
from relance.ids import new_id
from relance.services import integrations, ledger
from relance.services.organization_admin import create_organization
from relance.storage import contacts as contact_store
from relance.storage import customers as customer_store
from relance.storage import integrations as store
from relance.storage import ledger as ledger_store
from relance.sync.quickbooks import minor_units
from tests.integration.helpers import eventually, ok

NAME = "quickbooks"


@pytest.fixture
def company(runtime: LocalRuntime) -> Iterator[LocalQuickBooks]:
    """A company of the test's own, served where the runtime's stand-in is (``QUICKBOOKS_API_BASE``)."""
    fresh = LocalQuickBooks(
        runtime.base_url, "ABtestclient", "test-client-secret", "RT1-first", "test-verifier",
        spawn=runtime.virtual_time.activity.spawn,
    )  # fmt: skip
    fresh.subscribe(None)  # webhooks only when a test sends one
    before, runtime.quickbooks = runtime.quickbooks, fresh
    yield fresh
    runtime.quickbooks = before


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The runs queued (instead of sent to the sync queue, whose worker would run them meanwhile)."""
    runs: list[tuple[str, str]] = []
    monkeypatch.setattr(integrations, "queue_run", lambda org_id, name: runs.append((org_id, name)) or True)
    return runs


@pytest.fixture
def organization(runtime: LocalRuntime) -> Organization:
    created, _ = create_organization("Harbor Supplies Inc")
    return created


@pytest.fixture
def admin(organization: Organization) -> Principal:
    return Principal(organization_id=organization.id, role="admin", principal_id="user:usr_admin", user_id="usr_admin")


@pytest.fixture
def connected(admin: Principal, company: LocalQuickBooks, queued: list[tuple[str, str]]) -> LocalQuickBooks:
    connection = company.connection()
    fields = ConnectionFields(enabled=True, settings=connection["settings"], secret=connection["secret"])
    integrations.put_connection(admin, NAME, fields)
    return company


@pytest.fixture
def backfilled(organization: Organization, connected: LocalQuickBooks) -> LocalQuickBooks:
    run = integrations.run_sync(organization.id, NAME)
    assert run.outcome == "done", run.message
    return connected


def minor(record: dict[str, Any], field: str = "TotalAmt") -> int:
    return minor_units(Decimal(str(record[field])), record["CurrencyRef"]["value"])


def invoice_of(organization: Organization, external_id: str) -> dict[str, Any]:
    invoice_id = ledger_store.invoice_id_by_external_id(organization.id, external_id)
    assert invoice_id is not None, f"invoice {external_id} not synced"
    invoice = ledger_store.get_invoice(organization.id, invoice_id)
    assert invoice is not None
    return invoice


def outstanding(invoice: dict[str, Any]) -> int:
    if invoice["status"] == "voided":
        return 0
    return int(invoice["amount"]) - int(invoice.get("paidAmount", 0)) - int(invoice.get("creditedAmount", 0))


def customer_of(organization: Organization, external_id: str) -> dict[str, Any]:
    customer_id = customer_store.customer_id_by_external_id(organization.id, external_id)
    assert customer_id is not None, f"customer {external_id} not synced"
    customer = customer_store.get_customer(organization.id, customer_id, consistent=True)
    assert customer is not None
    return customer


def errors_of(organization: Organization) -> dict[tuple[str, str], str]:
    return {(e["kind"], e["externalId"]): e["message"] for e in store.errors_of(organization.id, NAME)}


def webhook(organization: Organization, company: LocalQuickBooks, changes: list[tuple[str, str, str]]) -> int:
    """Deliver the webhook QuickBooks sends for ``changes``, as the webhook function hands it over."""
    body = company.notification(changes).encode()
    headers = {"Content-Type": "application/json", "intuit-signature": signature(body, company.verifier_token)}
    return integrations.receive_webhook(NAME, organization.id, body, headers)


# ---------------------------------------------------------------- backfill


def test_a_backfill_brings_the_companys_customers_contacts_invoices_and_balances(organization, backfilled):
    company = backfilled
    active = [c for c in company.records["Customer"].values() if c["Active"]]
    assert {c["externalId"] for c in customer_store.list_customers(organization.id)} == {c["Id"] for c in active}
    assert customer_store.customer_id_by_external_id(organization.id, "12") is None  # inactive before Relance saw it

    acme = customer_of(organization, "1")
    contacts = sorted(contact_store.contacts_of(organization.id, acme["id"]), key=lambda c: c["email"])
    assert [(c["email"], c.get("firstName"), c.get("phone")) for c in contacts] == [
        ("ap@acmehardware.example", "Jane", "(415) 555-0101"),
        ("jane.doe@acmehardware.example", None, None),
    ]
    assert acme["mainContactId"] == contacts[0]["id"]
    assert customer_of(organization, "8")["currency"] == "JPY"

    voided = "119"  # voided in QuickBooks before Relance saw it: nothing to keep
    assert ledger_store.invoice_id_by_external_id(organization.id, voided) is None
    for source in (i for i in company.records["Invoice"].values() if i["Id"] != voided):
        invoice = invoice_of(organization, source["Id"])
        assert (invoice["number"], invoice["currency"]) == (source["DocNumber"], source["CurrencyRef"]["value"])
        assert (invoice["amount"], outstanding(invoice)) == (minor(source), minor(source, "Balance")), source["Id"]
        assert invoice["dueAt"] == source["DueDate"]
    assert errors_of(organization) == {}


def test_the_backfill_records_payments_credits_and_refunds_once(organization, backfilled):
    payments = ledger_store.records_of_organization(organization.id, "payment")
    credits = ledger_store.records_of_organization(organization.id, "credit_note")
    refunds = ledger_store.records_of_organization(organization.id, "refund")

    assert sorted(p["amount"] for p in payments) == sorted(
        minor(p) for p in backfilled.records["Payment"].values() if p["TotalAmt"]
    )
    assert sorted((c["amount"], c["unapplied"]) for c in credits) == [(4500, 0), (15000, 0), (20000, 20000)]
    assert [(r["amount"], r["currency"]) for r in refunds] == [(4500, "USD")]
    assert customer_of(organization, "2")["credit"] == {"USD": 20000}  # the credit memo not applied yet

    again = integrations.run_sync(organization.id, NAME)  # Change Data Capture: nothing changed since

    assert again.outcome == "done"
    assert all(counts.created == 0 and counts.updated == 0 for counts in again.counts.values())
    assert len(ledger_store.records_of_organization(organization.id, "payment")) == len(payments)


def test_the_refresh_token_quickbooks_rotates_is_stored_for_the_next_run(organization, connected):
    integrations.run_sync(organization.id, NAME)
    integrations.run_sync(organization.id, NAME)

    stored = secrets.read_json(integrations.secret_name(organization.id, NAME))
    assert stored is not None
    assert stored["refreshToken"] == connected.refresh_token != "RT1-first"


# ---------------------------------------------------------------- changes at the source


def test_a_new_invoice_arrives_by_webhook_and_the_scheduled_run_changes_nothing_more(organization, backfilled):
    created = backfilled.new_invoice(customer_id="4", total="2750.00", notify=False)

    applied = webhook(organization, backfilled, [("Invoice", created["Id"], "created")])

    assert applied == 1
    invoice = invoice_of(organization, created["Id"])
    assert (invoice["amount"], outstanding(invoice), invoice["number"]) == (275000, 275000, created["DocNumber"])
    run = integrations.run_sync(organization.id, NAME)
    assert run.counts["invoice"].created == 0
    assert run.counts["invoice"].unchanged >= 1
    assert sum(1 for i in ledger_store.invoices_of_organization(organization.id) if i["number"] == "1034") == 1


def test_a_payment_at_the_source_arrives_by_the_scheduled_run_exactly_once(organization, backfilled):
    open_invoice = backfilled.records["Invoice"]["103"]
    paid = backfilled.receive_payment(invoice_id="103", notify=False)

    first = integrations.run_sync(organization.id, NAME)
    second = integrations.run_sync(organization.id, NAME)

    assert first.counts["payment"].created == 1
    assert second.counts.get("payment") is None or second.counts["payment"].created == 0
    assert outstanding(invoice_of(organization, "103")) == 0
    received = [
        p
        for p in ledger_store.records_of_organization(organization.id, "payment")
        if p["reference"] == paid["PaymentRefNum"]
    ]
    assert [(p["amount"], p["currency"]) for p in received] == [(minor(open_invoice), "USD")]


def test_a_customer_deleted_at_the_source_is_kept_and_taken_out_of_dunning(organization, backfilled):
    gone = backfilled.delete_customer(customer_id="11", notify=False)

    webhook(organization, backfilled, [("Customer", gone["Id"], "deleted")])

    customer = customer_of(organization, "11")
    assert customer["deletedAtSource"]
    assert customer.get("collectionPaused")
    assert outstanding(invoice_of(organization, "127")) == 860000  # its ledger stays


def test_an_invoice_voided_or_deleted_at_the_source_is_voided(organization, backfilled):
    backfilled.void_invoice(invoice_id="125", notify=False)
    backfilled.delete_invoice(invoice_id="130", notify=False)

    run = integrations.run_sync(organization.id, NAME)

    assert run.counts["invoice"].voided == 2
    assert invoice_of(organization, "125")["status"] == "voided"
    assert invoice_of(organization, "130")["status"] == "voided"


def test_a_malformed_source_record_is_reported_and_the_rest_continues(organization, backfilled):
    malformed = backfilled.malformed_invoice(notify=False)
    fine = backfilled.new_invoice(customer_id="8", total="98000", notify=False)

    run = integrations.run_sync(organization.id, NAME)

    assert run.outcome == "done"
    assert errors_of(organization) == {("invoice", malformed["Id"]): "1500.5 JPY has more decimals than JPY's 0"}
    assert invoice_of(organization, fine["Id"])["amount"] == 98000
    assert ledger_store.invoice_id_by_external_id(organization.id, malformed["Id"]) is None


def test_a_forged_webhook_is_refused_and_changes_nothing(organization, backfilled):
    created = backfilled.new_invoice(notify=False)
    body = backfilled.notification([("Invoice", created["Id"], "created")]).encode()

    with pytest.raises(integrations.WebhookNotAccepted):
        integrations.receive_webhook(NAME, organization.id, body, {"intuit-signature": signature(body, "guessed")})

    assert ledger_store.invoice_id_by_external_id(organization.id, created["Id"]) is None


# ---------------------------------------------------------------- rate limits and resuming


def test_a_429_is_retried_honouring_retry_after(organization, connected):
    connected.refuse_next(times=2, retry_after=1)
    started = time.monotonic()

    run = integrations.run_sync(organization.id, NAME)

    assert run.outcome == "done"
    assert time.monotonic() - started >= 2  # the two Retry-After seconds were waited
    assert len(customer_store.list_customers(organization.id)) == 11


def test_still_throttled_after_the_retries_the_run_stops_and_the_next_resumes(organization, connected):
    integrations.run_sync(organization.id, NAME)
    connected.new_invoice(customer_id="2", total="500.00", notify=False)
    cursor = store.get_connection(organization.id, NAME, consistent=True)["cursor"]
    connected.refuse_next(times=5, retry_after=1)

    stopped = integrations.run_sync(organization.id, NAME)

    assert stopped.outcome == "unavailable"
    assert "throttling" in (stopped.message or "")
    assert store.get_connection(organization.id, NAME, consistent=True)["cursor"] == cursor
    resumed = integrations.run_sync(organization.id, NAME)
    assert resumed.outcome == "done"
    assert resumed.counts["invoice"].created == 1


def test_a_gap_longer_than_change_data_capture_keeps_reads_everything_again(organization, backfilled):
    stale = json.dumps({"phase": "cdc", "since": (clock.now() - timedelta(days=31)).isoformat()})
    store.save_connection(organization.id, NAME, {"cursor": stale})
    backfilled.new_invoice(customer_id="3", total="640.00", notify=False)

    run = integrations.run_sync(organization.id, NAME)

    assert run.outcome == "done"
    assert run.counts["customer"].unchanged == 12  # the inactive one too, still not created
    assert run.counts["invoice"].created == 1
    assert json.loads(store.get_connection(organization.id, NAME, consistent=True)["cursor"])["phase"] == "cdc"


def test_wrong_credentials_say_what_to_fix(organization, admin, connected):
    integrations.put_connection(admin, NAME, ConnectionFields(secret={"clientSecret": "not-the-secret"}))

    run = integrations.run_sync(organization.id, NAME)

    assert run.outcome == "refused"
    assert "client ID and secret" in (run.message or "")
    assert store.get_connection(organization.id, NAME, consistent=True)["status"] == "failing"


# ---------------------------------------------------------------- write-back


def test_a_portal_payment_is_written_back_as_a_quickbooks_payment_once(organization, admin, backfilled):
    invoice = invoice_of(organization, "110")  # Delta Fresh Foods, partly credited
    payment_id = new_id("pay")
    fields = PaymentFields(
        customer_id=invoice["customerId"],
        amount=outstanding(invoice),
        currency="USD",
        received_at=clock.now().date(),
        allocations=[Allocation(invoice_id=invoice["id"], amount=outstanding(invoice))],
    )
    ledger.record_payment(admin, fields, payment_id)
    integrations.record_write_backs(organization.id, payment_id, fields.allocations, fields.received_at.isoformat())

    run = integrations.run_sync(organization.id, NAME)
    again = integrations.run_sync(organization.id, NAME)

    assert (run.write_backs, again.write_backs) == (1, 0)
    written = [p for p in backfilled.records["Payment"].values() if payment_id in (p.get("PrivateNote") or "")]
    assert [(p["CustomerRef"]["value"], p["TotalAmt"], p["Line"][0]["LinkedTxn"]) for p in written] == [
        ("4", Decimal(outstanding(invoice)) / 100, [{"TxnId": "110", "TxnType": "Invoice"}])
    ]
    assert backfilled.records["Invoice"]["110"]["Balance"] == 0
    ours = [p for p in ledger_store.records_of_organization(organization.id, "payment") if p["id"] == payment_id]
    assert len(ours) == 1  # QuickBooks' copy, read back by the run, is the same payment
    assert len(ledger_store.records_of_organization(organization.id, "payment")) == 10 + 1


def test_writing_back_again_finds_the_payment_instead_of_making_a_second(organization, backfilled):
    from relance import sync
    from relance.domain.sync import PaymentWriteBack

    item = store.get_connection(organization.id, NAME, consistent=True)
    secret = secrets.read_json(integrations.secret_name(organization.id, NAME))
    connector = sync.connector(NAME, item["settings"], secret)
    payment = PaymentWriteBack(
        payment_id="pay_01jdqbretry0000000000000000",
        customer_external_id="10",
        invoice_external_id="125",
        currency="USD",
        amount=30000,
        received_at=clock.now().date(),
    )

    first = connector.write_back_payment(payment)
    second = connector.write_back_payment(payment)

    assert first == second
    assert backfilled.records["Invoice"]["125"]["Balance"] == Decimal("680.00")


# ---------------------------------------------------------------- through the local runtime


def test_connected_through_the_api_the_worker_backfills_and_a_webhook_over_http_brings_a_change(runtime, company):
    organization, key = create_organization("Lakeshore Paper Co")
    http = requests.Session()
    http.headers["X-Api-Key"] = key
    company.subscribe(organization.id)  # the Intuit app's webhook endpoint

    ok(http.put(f"{runtime.base_url}/v1/integrations/{NAME}", json={"enabled": True, **company.connection()}))

    def finished() -> dict[str, Any] | None:
        run = ok(http.get(f"{runtime.base_url}/v1/integrations/{NAME}")).get("lastRun") or {}
        return run if run.get("finishedAt") else None

    run = eventually(finished, timeout=120, what="the sync worker's first run")
    assert run["outcome"] == "done", run
    assert run["counts"]["invoice"]["created"] == 29
    created = company.new_invoice(customer_id="5", total="3300.00")
    delivery = company.deliveries[-1]
    assert (delivery["status"], json.loads(delivery["response"])) == (200, {"applied": 1})
    invoice = invoice_of(organization, created["Id"])
    assert (invoice["amount"], invoice["number"]) == (330000, created["DocNumber"])
