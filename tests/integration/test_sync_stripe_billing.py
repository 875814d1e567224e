"""Stripe Billing synced through the local runtime: an organization connected to a Stripe account of its
own (the stand-in's company, ``local/stripe_billing.py``), its webhooks posted to the webhook function, its
runs queued, scheduled every 15 minutes and run by the sync worker, as on AWS.

The backfill's company is left as seeded; every other test makes its own customer at the source, so the
tests hold in any order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import requests

from local.stripe_billing import COMPANY, StripeAccount
from relance import clock, sync
from relance.domain import stripe_amounts
from relance.domain.integrations import ConnectionFields
from relance.domain.organizations import Principal
from relance.domain.sync import PaymentWriteBack
from relance.services import integrations
from relance.services.organization_admin import create_organization
from relance.storage import customers as customer_store
from relance.storage import ledger as ledger_store
from tests.integration.helpers import jump, ok
from tests.integration.test_portal import checkout

SCHEDULE = timedelta(minutes=16)  # the sync schedule fires every 15 minutes


@dataclass
class Connected:
    runtime: Any
    account: StripeAccount
    org: str
    admin: Principal
    api: requests.Session

    def url(self, path: str) -> str:
        return f"{self.runtime.base_url}/v1{path}"

    def customer(self, external_id: str) -> dict[str, Any]:
        customer_id = customer_store.customer_id_by_external_id(self.org, external_id)
        assert customer_id is not None, f"{external_id} is not in Relance"
        return ok(self.api.get(self.url(f"/customers/{customer_id}")))

    def invoices(self, customer_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = ok(self.api.get(self.url("/invoices"), params={"customerId": customer_id}))[
            "items"
        ]
        return items

    def payments(self, customer_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = ok(self.api.get(self.url("/payments"), params={"customerId": customer_id}))[
            "items"
        ]
        return items

    def invoice(self, external_id: str) -> dict[str, Any] | None:
        invoice_id = ledger_store.invoice_id_by_external_id(self.org, external_id)
        return ok(self.api.get(self.url(f"/invoices/{invoice_id}"))) if invoice_id else None

    def errors(self) -> list[dict[str, Any]]:
        found, _ = integrations.list_errors(self.admin, "stripe", limit=200)
        return [e.model_dump(by_alias=True) for e in found]

    def connection(self) -> Any:
        return integrations.get_connection(self.admin, "stripe")


@pytest.fixture(scope="module")
def source(runtime) -> Iterator[Connected]:
    """The runtime's organization connected to a Stripe account, its endpoint aimed at Relance; the run
    that connecting queued has backfilled the account's company."""
    org = runtime.session["organization"]["id"]
    admin = Principal(organization_id=org, role="admin", principal_id="user:usr_test", user_id="usr_test")
    account = runtime.stripe_billing.open_account()
    account.webhook_url = integrations.webhook_url(org, "stripe")
    secret = {"apiKey": account.api_key, "webhookSecret": account.webhook_secret}
    integrations.put_connection(
        admin, "stripe", ConnectionFields(enabled=True, settings={"accountName": account.name}, secret=secret)
    )
    runtime.settle()
    api = requests.Session()
    api.headers["X-Api-Key"] = runtime.session["apiKey"]
    yield Connected(runtime, account, org, admin, api)


def new_customer(source: Connected, name: str, currency: str = "usd") -> dict[str, Any]:
    """A customer made at the source (its webhook delivered and applied)."""
    email = f"ap@{name.lower().replace(' ', '-')}.example"
    return source.account.new_customer(name, email, currency)


def delivered(account: StripeAccount, object_ids: set[str]) -> list[int]:
    """How Relance answered the webhooks of the events about these objects."""
    events = {e["id"] for e in account.events if e["data"]["object"]["id"] in object_ids}
    return [d["status"] for d in account.deliveries if d["eventId"] in events]


def owed(account: StripeAccount, customer_id: str) -> dict[str, int]:
    """What Stripe says the customer still owes, per currency, in Relance's minor units."""
    remaining: dict[str, int] = {}
    for invoice in account.invoices():
        if invoice["customer"] == customer_id and invoice["status"] in ("open", "uncollectible"):
            currency = invoice["currency"].upper()
            amount = stripe_amounts.from_stripe(invoice["amount_remaining"], currency)
            remaining[currency] = remaining.get(currency, 0) + amount
    return remaining


# ---------------------------------------------------------------- the backfill


def test_the_backfill_brings_the_companys_customers_contacts_invoices_and_balances(source):
    seeded = {name for name, *_ in COMPANY}
    stripe_customers = [c for c in source.account.customers() if c["name"] in seeded]

    assert len(stripe_customers) == len(COMPANY) == 11
    for stripe_customer in stripe_customers:
        customer = source.customer(stripe_customer["id"])
        assert customer["name"] == stripe_customer["name"]
        assert {k: v for k, v in customer["outstanding"].items() if v} == owed(source.account, stripe_customer["id"])
        contacts = ok(source.api.get(source.url(f"/customers/{customer['id']}/contacts")))["items"]
        assert [c["email"] for c in contacts] == ([stripe_customer["email"]] if stripe_customer["email"] else [])
        issued = [i for i in source.account.invoices() if i["customer"] == stripe_customer["id"] and i["number"]]
        invoices = {i["externalId"]: i for i in source.invoices(customer["id"])}
        assert set(invoices) == {i["id"] for i in issued}  # the draft is not one yet
        for stripe_invoice in issued:
            invoice = invoices[stripe_invoice["id"]]
            assert (invoice["number"], invoice["currency"]) == (stripe_invoice["number"], customer["currency"])
            expected = {"void": "voided", "paid": "paid"}.get(stripe_invoice["status"], "open")
            assert invoice["status"] == expected, stripe_invoice["number"]
    assert source.errors() == []
    assert source.connection().status == "connected"


def test_yen_arrive_as_whole_yen(source):
    kumo = next(c for c in source.account.customers() if c["name"] == "Kumo Robotics KK")

    invoices = source.invoices(source.customer(kumo["id"])["id"])

    assert {i["currency"] for i in invoices} == {"JPY"}
    assert sorted(i["amount"] for i in invoices) == [260_000, 480_000, 520_000]


# ---------------------------------------------------------------- changes at the source


def test_a_new_invoice_arrives_by_webhook_and_the_scheduled_run_adds_it_no_second_time(source):
    customer = new_customer(source, "Lumen Labs")
    invoice = source.account.new_invoice(customer["id"], amount=12_300)

    assert delivered(source.account, {customer["id"], invoice["id"]}) == [200, 200, 200]
    relance_customer = source.customer(customer["id"])
    assert [(i["externalId"], i["amount"]) for i in source.invoices(relance_customer["id"])] == [
        (invoice["id"], 12_300)
    ]

    jump(source.runtime, SCHEDULE)
    source.runtime.settle()

    assert [i["externalId"] for i in source.invoices(relance_customer["id"])] == [invoice["id"]]
    assert source.connection().last_run.outcome == "done"


def test_a_change_the_webhook_missed_arrives_with_the_scheduled_run_once(source):
    source.account.webhook_url = None  # the endpoint is down: Stripe would retry; the schedule catches up
    try:
        customer = new_customer(source, "Marlin Freight")
        invoice = source.account.new_invoice(customer["id"], amount=80_000)
        source.account.pay(invoice["id"], amount=30_000)
    finally:
        source.account.webhook_url = integrations.webhook_url(source.org, "stripe")
    assert customer_store.customer_id_by_external_id(source.org, customer["id"]) is None

    jump(source.runtime, SCHEDULE)
    jump(source.runtime, SCHEDULE)
    source.runtime.settle()

    relance_customer = source.customer(customer["id"])
    assert [i["externalId"] for i in source.invoices(relance_customer["id"])] == [invoice["id"]]
    assert [p["amount"] for p in source.payments(relance_customer["id"])] == [30_000]
    assert relance_customer["outstanding"] == {"USD": 50_000}


def test_a_card_payment_at_the_source_pays_the_invoice(source):
    customer = new_customer(source, "Pebble Kitchens", currency="eur")
    invoice = source.account.new_invoice(customer["id"], amount=64_000)

    source.account.pay(invoice["id"])
    source.runtime.settle()

    paid = source.invoice(invoice["id"])
    assert paid is not None and (paid["status"], paid["outstanding"]) == ("paid", 0)
    [payment] = source.payments(source.customer(customer["id"])["id"])
    assert (payment["amount"], payment["currency"]) == (64_000, "EUR")


def test_an_invoice_voided_at_the_source_is_voided(source):
    customer = new_customer(source, "Quarry Hill Books")
    invoice = source.account.new_invoice(customer["id"], amount=9_900)

    source.account.void_invoice(invoice["id"])

    voided = source.invoice(invoice["id"])
    assert voided is not None and voided["status"] == "voided"


def test_a_customer_deleted_at_the_source_is_kept_marked_and_out_of_dunning(source):
    customer = new_customer(source, "Rook Studios")
    invoice = source.account.new_invoice(customer["id"], amount=15_000)

    source.account.delete_customer(customer["id"])
    jump(source.runtime, SCHEDULE)  # a run reads the deletion again: nothing changes twice
    source.runtime.settle()

    kept = source.customer(customer["id"])
    stored = customer_store.get_customer(source.org, kept["id"], consistent=True) or {}
    assert stored.get("deletedAtSource") and stored.get("collectionPaused")
    assert kept["outstanding"] == {"USD": 15_000}  # still owed: deleting a customer in Stripe voids nothing
    assert source.invoice(invoice["id"]) is not None


def test_the_dev_pages_new_invoice_button_makes_one_at_the_source_and_it_arrives(source):
    before = {i["id"] for i in source.account.invoices()}

    pressed = requests.post(f"{source.runtime.base_url}/dev/stripe-billing/changes/new-invoice", allow_redirects=False)

    assert (pressed.status_code, pressed.headers["Location"]) == (303, "/dev")
    [made] = [i for i in source.account.invoices() if i["id"] not in before]
    arrived = source.invoice(made["id"])
    assert arrived is not None and arrived["amount"] == made["total"]


# ---------------------------------------------------------------- written back


def test_a_portal_payment_is_written_back_as_paid_out_of_band_and_comes_back_as_that_payment(source):
    customer = new_customer(source, "Saltmarsh Supply")
    invoice = source.account.new_invoice(customer["id"], amount=45_000)
    relance_customer = source.customer(customer["id"])
    relance_invoice = source.invoice(invoice["id"])
    assert relance_invoice is not None

    link = ok(source.api.post(source.url(f"/customers/{relance_customer['id']}/portal-link"), json={}))["url"]
    page = checkout(link, [relance_invoice["id"]])
    requests.post(page, data={"method": "card"})  # Checkout, on Relance's own Stripe account
    source.runtime.settle()  # the payment recorded, its write-back run, Stripe's webhooks that follow
    jump(source.runtime, SCHEDULE)
    source.runtime.settle()

    at_stripe = source.account.get("invoice", invoice["id"])
    assert (at_stripe["status"], at_stripe["amount_paid_off_stripe"]) == ("paid", 45_000)
    [payment] = source.payments(relance_customer["id"])  # the portal's, not a second one from Stripe
    assert payment["amount"] == 45_000
    assert source.invoice(invoice["id"])["status"] == "paid"  # type: ignore[index]
    assert [e for e in source.errors() if e["externalId"] in (invoice["id"], payment["id"])] == []


def test_a_payment_of_part_of_an_invoice_is_recorded_once_however_often_it_is_written_back(source):
    customer = new_customer(source, "Tern Instruments")
    invoice = source.account.new_invoice(customer["id"], amount=50_000)
    secret = {"apiKey": source.account.api_key, "webhookSecret": source.account.webhook_secret}
    connector = sync.connector("stripe", {}, secret)
    part = PaymentWriteBack(
        payment_id="pay_tern_1",
        customer_external_id=customer["id"],
        invoice_external_id=invoice["id"],
        currency="USD",
        amount=20_000,
        received_at=clock.now().date(),
    )

    first = connector.write_back_payment(part)
    again = connector.write_back_payment(part)

    assert first is not None and first == again
    at_stripe = source.account.get("invoice", invoice["id"])
    assert (at_stripe["status"], at_stripe["amount_paid"], at_stripe["amount_remaining"]) == ("open", 20_000, 30_000)
    source.runtime.settle()
    [payment] = source.payments(source.customer(customer["id"])["id"])
    assert payment["amount"] == 20_000  # Stripe's invoice payment, synced once


def test_a_payment_of_all_an_invoice_owes_marks_it_paid_out_of_band_once_however_often_it_is_written_back(source):
    customer = new_customer(source, "Upland Cider")
    invoice = source.account.new_invoice(customer["id"], amount=31_000)
    secret = {"apiKey": source.account.api_key, "webhookSecret": source.account.webhook_secret}
    whole = PaymentWriteBack(
        payment_id="pay_upland_1",
        customer_external_id=customer["id"],
        invoice_external_id=invoice["id"],
        currency="USD",
        amount=31_000,
        received_at=clock.now().date(),
    )

    first = sync.connector("stripe", {}, secret).write_back_payment(whole)
    source.account.idempotent.clear()  # a retry after Stripe forgot the key (24 hours)
    again = sync.connector("stripe", {}, secret).write_back_payment(whole)

    assert first == again == invoice["id"]
    at_stripe = source.account.get("invoice", invoice["id"])
    assert (at_stripe["status"], at_stripe["amount_paid"], at_stripe["amount_paid_off_stripe"]) == (
        "paid",
        31_000,
        31_000,
    )
    source.runtime.settle()


# ---------------------------------------------------------------- when Stripe refuses


def test_a_rate_limited_request_is_retried_after_stripes_wait(source):
    source.runtime.settle()  # nothing else asks Stripe meanwhile
    source.account.refuse_next(2, retry_after=1)
    before = len(source.account.requests)

    run = integrations.run_sync(source.org, "stripe")

    assert run.outcome == "done"
    first = source.account.requests[before]
    assert source.account.requests[before : before + 3] == [first] * 3  # refused twice, then answered


def test_still_rate_limited_the_run_stops_keeps_its_place_and_the_next_goes_on(source):
    customer = new_customer(source, "Umber Analytics")
    source.account.webhook_url = None
    try:
        invoice = source.account.new_invoice(customer["id"], amount=7_700)
    finally:
        source.account.webhook_url = integrations.webhook_url(source.org, "stripe")
    source.account.refuse_next(20, retry_after=1)

    stopped = integrations.run_sync(source.org, "stripe")
    source.account.refuse_next(0)
    resumed = integrations.run_sync(source.org, "stripe")

    assert (stopped.outcome, resumed.outcome) == ("unavailable", "done")
    assert "rate-limiting" in (stopped.message or "")
    assert source.invoice(invoice["id"]) is not None


def test_a_record_relance_cannot_take_is_reported_and_the_rest_goes_on(source):
    unmappable = source.account.unmappable_invoice()  # 12,345.67 forints: Relance counts whole forints
    customer = new_customer(source, "Vesper Audio")
    fine = source.account.new_invoice(customer["id"], amount=5_500)
    jump(source.runtime, SCHEDULE)
    source.runtime.settle()

    [error] = [e for e in source.errors() if e["externalId"] == unmappable["id"]]
    assert error["kind"] == "invoice" and "not mapped" in error["message"]
    assert source.invoice(unmappable["id"]) is None
    assert source.invoice(fine["id"]) is not None
    assert source.customer(unmappable["customer"])["name"] == "Duna Bútor Kft."


def test_a_webhook_signed_with_another_secret_is_refused_and_changes_nothing(source, sample_event):
    from local.stripe import signature_header

    event = sample_event("stripe_billing_invoice_paid.json")
    payload = requests.models.complexjson.dumps(event)
    header = signature_header(payload, "whsec_not_the_endpoints")

    answer = requests.post(
        integrations.webhook_url(source.org, "stripe"),
        data=payload.encode(),
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
    )

    assert answer.status_code == 400
    assert source.invoice(event["data"]["object"]["id"]) is None


def test_a_key_stripe_refuses_fails_the_connection_and_says_what_to_fix(runtime):
    organization, _ = create_organization("Wrong Key Ltd")
    admin = Principal(organization_id=organization.id, role="admin", principal_id="user:usr_wk", user_id="usr_wk")
    integrations.put_connection(
        admin, "stripe", ConnectionFields(enabled=True, secret={"apiKey": "rk_test_revoked000000000000"})
    )
    runtime.settle()

    connection = integrations.get_connection(admin, "stripe")

    assert connection.last_run is not None and connection.last_run.outcome == "refused"
    assert connection.status == "failing"
    assert "API key" in (connection.message or "")
