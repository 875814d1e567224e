"""The Stripe Billing connector's rules, with no network: Stripe's JSON (the local stand-in's seeded company,
recorded payloads) mapped to Relance's records, what a webhook must prove, and the cursor."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import stripe
from pydantic import ValidationError

from local.stripe import signature_header
from local.stripe_billing import StripeAccount
from relance import clock
from relance.domain import stripe_amounts
from relance.domain.sync import (
    RecordError,
    Removal,
    SourceCreditNote,
    SourceCustomer,
    SourceInvoice,
    SourcePayment,
    SourceRefund,
)
from relance.sync import SourceRefused, SourceUnavailable, WebhookRefused
from relance.sync.stripe_billing import (
    Secret,
    Settings,
    StripeBilling,
    _parse,
    _stale,
    _stripe_errors,
    batch,
    credit_note_items,
    customer_items,
    event_refs,
    invoice_items,
    refund_items,
)

WEBHOOK_SECRET = "whsec_unit"


@pytest.fixture(scope="module")
def company() -> StripeAccount:
    """The stand-in's Stripe account, seeded: customers, invoices in every state, credit notes, a refund."""
    account = StripeAccount(1, "Northwind Software")
    account.seed()
    return account


def listed(account: StripeAccount, resource: str, **params: Any) -> list[dict[str, Any]]:
    answer = account.api("GET", f"/v1/{resource}", {"limit": "100", **params}, None)
    data: list[dict[str, Any]] = answer["data"]
    return data


def mapped_invoice(invoice: dict[str, Any]) -> list[Any]:
    return invoice_items(invoice, invoice.get("payments", {}).get("data", []))


def invoices(account: StripeAccount) -> list[dict[str, Any]]:
    return listed(account, "invoices", expand=["data.payments"])


# ---------------------------------------------------------------- customers and their contacts


def test_a_customer_brings_its_person_as_its_main_contact(company):
    bluebird = next(c for c in listed(company, "customers") if c["name"] == "Bluebird Analytics Inc.")

    [customer] = customer_items(bluebird)

    assert isinstance(customer, SourceCustomer)
    assert (customer.external_id, customer.name, customer.currency, customer.language) == (
        bluebird["id"],
        "Bluebird Analytics Inc.",
        "USD",
        "en",
    )
    [contact] = customer.contacts
    assert (contact.email, contact.first_name, contact.last_name, contact.phone, contact.is_main) == (
        "ap@bluebird-analytics.example",
        "Maya",
        "Chen",
        "+1 415 555 0134",
        True,
    )


def test_a_customer_with_no_email_comes_with_no_contact(company):
    tidepool = next(c for c in listed(company, "customers") if c["name"] == "Tidepool Ventures")

    [customer] = customer_items(tidepool)

    assert customer.contacts == []


def test_the_name_of_a_business_is_not_taken_for_a_person():
    [customer] = customer_items(
        {"id": "cus_B", "name": "Sakura Design Office", "business_name": "Sakura Design Office", "email": "a@b.example"}
    )

    assert (customer.contacts[0].first_name, customer.contacts[0].last_name) == (None, None)


def test_a_deleted_customer_is_a_removal_never_dropped():
    assert customer_items({"id": "cus_gone", "object": "customer", "deleted": True}) == [
        Removal(kind="customer", external_id="cus_gone")
    ]


def test_an_email_relance_cannot_write_to_is_reported_and_the_customer_still_comes():
    items = customer_items({"id": "cus_X", "name": "Odd Mail Ltd", "email": "accounts@@odd.example"})

    assert [type(i) for i in items] == [SourceCustomer, RecordError]
    assert items[0].contacts == []
    assert (items[1].kind, items[1].external_id) == ("contact", "cus_X")


def test_a_phone_relance_cannot_dial_is_left_out_and_the_contact_kept():
    [customer] = customer_items({"id": "cus_P", "name": "P", "email": "p@p.example", "phone": "call reception"})

    assert customer.contacts[0].phone is None


def test_a_customer_with_neither_name_nor_email_is_an_error():
    [error] = customer_items({"id": "cus_blank", "name": None, "email": None})

    assert isinstance(error, RecordError)
    assert error.external_id == "cus_blank"


# ---------------------------------------------------------------- invoices and what settled them


def test_every_issued_invoice_comes_and_a_draft_waits_until_it_is_finalized(company):
    stripe_invoices = invoices(company)

    mapped = [i for invoice in stripe_invoices for i in mapped_invoice(invoice) if isinstance(i, SourceInvoice)]

    assert len(mapped) == len([i for i in stripe_invoices if i["status"] != "draft"]) == 27
    assert [i.voided for i in mapped].count(True) == 1
    void = next(i for i in stripe_invoices if i["status"] == "void")
    assert next(m for m in mapped if m.external_id == void["id"]).voided


def test_what_relance_sees_owed_on_each_invoice_is_what_stripe_says_remains(company):
    credited: dict[str, int] = {}
    for note in listed(company, "credit_notes"):
        for item in credit_note_items(note):
            for allocation in item.allocations:
                credited[allocation.invoice_external_id] = (
                    credited.get(allocation.invoice_external_id, 0) + allocation.amount
                )

    for stripe_invoice in invoices(company):
        items = mapped_invoice(stripe_invoice)
        if stripe_invoice["status"] in ("draft", "void"):
            continue
        [invoice] = [i for i in items if isinstance(i, SourceInvoice)]
        paid = sum(a.amount for p in items if isinstance(p, SourcePayment) for a in p.allocations)
        remaining = stripe_amounts.from_stripe(stripe_invoice["amount_remaining"], invoice.currency)
        assert invoice.amount - paid - credited.get(invoice.external_id, 0) == remaining, stripe_invoice["number"]


def test_an_invoice_is_due_on_its_due_date_and_links_its_pdf(company):
    stripe_invoice = next(i for i in invoices(company) if i["status"] == "open")

    [invoice, *_] = mapped_invoice(stripe_invoice)

    finalized = datetime.fromtimestamp(stripe_invoice["status_transitions"]["finalized_at"], UTC)
    assert invoice.issued_at == finalized.date()
    assert (invoice.due_at - invoice.issued_at).days in (14, 15, 30, 45, 60)
    assert invoice.pdf_url == stripe_invoice["invoice_pdf"]
    assert invoice.number.startswith("NW-")


def test_an_uncollectible_invoice_is_still_owed(company):
    stripe_invoice = next(i for i in invoices(company) if i["status"] == "uncollectible")

    [invoice] = mapped_invoice(stripe_invoice)

    assert not invoice.voided
    assert invoice.amount == stripe_invoice["amount_remaining"]


def test_a_card_payment_is_a_payment_allocated_to_its_invoice(company):
    stripe_invoice = next(i for i in invoices(company) if i["status"] == "open" and i["amount_paid"])
    [inpay] = stripe_invoice["payments"]["data"]

    [_, payment] = mapped_invoice(stripe_invoice)

    assert payment.external_id == inpay["id"]
    assert payment.amount == inpay["amount_paid"] == stripe_invoice["total"] // 2
    assert [(a.invoice_external_id, a.amount) for a in payment.allocations] == [(stripe_invoice["id"], payment.amount)]
    assert payment.reference == inpay["payment"]["payment_intent"]


def test_an_invoice_marked_paid_out_of_band_is_one_payment_named_by_the_invoice(company):
    stripe_invoice = next(i for i in invoices(company) if i.get("amount_paid_off_stripe"))

    [_, payment] = mapped_invoice(stripe_invoice)

    assert (payment.external_id, payment.amount, payment.reference) == (
        stripe_invoice["id"],
        stripe_invoice["total"],
        "paid out of band",
    )


def test_yen_are_whole_on_both_sides(company):
    stripe_invoice = next(i for i in invoices(company) if i["currency"] == "jpy")

    [invoice, *_] = mapped_invoice(stripe_invoice)

    assert (invoice.currency, invoice.amount) == ("JPY", stripe_invoice["total"])


def test_three_decimal_amounts_keep_their_thousandths():
    [invoice] = invoice_items(_invoice(currency="kwd", total=12_340), [])

    assert (invoice.currency, invoice.amount) == ("KWD", 12_340)


def test_an_amount_relance_cannot_hold_exactly_is_reported_never_rounded():
    [error] = invoice_items(_invoice(currency="huf", total=1_234_567), [])  # 12,345.67 forints

    assert isinstance(error, RecordError)
    assert (error.kind, error.external_id) == ("invoice", "in_recorded")


def test_a_negative_invoice_is_reported():
    [error] = invoice_items(_invoice(total=-5_000), [])

    assert isinstance(error, RecordError)
    assert "negative" in error.message


def test_an_invoice_of_nothing_is_nothing_to_collect():
    assert invoice_items(_invoice(total=0), []) == []


def test_the_customer_balance_stripe_applied_settles_part_of_the_invoice():
    # 500.00 invoiced, 200.00 of credit balance applied at finalization, 300.00 paid by card
    invoice = _invoice(total=50_000, amount_due=30_000, amount_paid=30_000, amount_remaining=0, status="paid")
    card = _invoice_payment(30_000)

    [_, balance, payment] = invoice_items(invoice, [card])

    assert (balance.external_id, balance.amount, balance.reference) == (
        "in_recorded:balance",
        20_000,
        "customer balance",
    )
    assert (payment.external_id, payment.amount) == ("inpay_recorded", 30_000)


def test_an_overpayment_counts_up_to_what_the_invoice_owed():
    # Stripe credits the 50.00 paid over to the customer's balance, which counts when it is applied
    invoice = _invoice(total=10_000, amount_paid=15_000, amount_remaining=0, amount_overpaid=5_000, status="paid")

    [_, payment] = invoice_items(invoice, [_invoice_payment(15_000)])

    assert payment.amount == sum(a.amount for a in payment.allocations) == 10_000


def test_a_payment_not_yet_paid_is_not_one():
    pending = {**_invoice_payment(10_000), "status": "open", "amount_paid": None}

    assert [type(i) for i in invoice_items(_invoice(total=10_000), [pending])] == [SourceInvoice]


# ---------------------------------------------------------------- credit notes and refunds


def test_a_credit_note_before_payment_is_allocated_to_its_invoice(company):
    note = next(n for n in listed(company, "credit_notes") if n["type"] == "pre_payment")

    [credit] = credit_note_items(note)

    assert isinstance(credit, SourceCreditNote)
    assert (credit.amount, credit.number) == (note["total"], note["number"])
    assert [(a.invoice_external_id, a.amount) for a in credit.allocations] == [(note["invoice"], note["total"])]


def test_a_credit_note_refunded_counts_what_it_refunded_for_its_refund_to_give_back(company):
    note = next(n for n in listed(company, "credit_notes") if n["type"] == "post_payment")
    stripe_refund = company.get("refund", note["refunds"][0]["refund"])

    [credit] = credit_note_items(note)
    [refund] = refund_items(stripe_refund, note["id"])

    assert (credit.amount, credit.allocations) == (note["refunds"][0]["amount_refunded"], [])
    assert isinstance(refund, SourceRefund)
    assert (refund.amount, refund.credit_note_external_id, refund.reference) == (
        credit.amount,
        note["id"],
        stripe_refund["charge"],
    )


def test_a_credit_note_all_to_the_customer_balance_counts_when_the_balance_is_applied():
    note = _credit_note(pre_payment_amount=0, post_payment_amount=7_500, refunds=[])

    assert credit_note_items(note) == []


def test_a_voided_credit_note_comes_voided():
    [credit] = credit_note_items({**_credit_note(), "status": "void"})

    assert credit.voided


@pytest.mark.parametrize(("status", "mapped"), [("pending", []), ("requires_action", [])])
def test_a_refund_counts_once_it_succeeded(status, mapped):
    assert refund_items(_refund(status=status), None) == mapped


def test_a_refund_that_failed_after_it_succeeded_comes_voided():
    [refund] = refund_items(_refund(status="failed"), None)

    assert refund.voided


def test_a_refund_of_no_customer_is_no_receivable():
    assert refund_items({**_refund(), "customer": None, "charge": "ch_guest"}, None) == []


# ---------------------------------------------------------------- batches and events


def test_records_come_in_the_order_they_depend_on_each_other(company):
    items = [
        *refund_items(_refund(), "cn_recorded"),
        *credit_note_items(_credit_note()),
        *invoice_items(_invoice(amount_paid=10_000, amount_remaining=0, status="paid"), [_invoice_payment(10_000)]),
        *customer_items({"id": "cus_recorded", "name": "Recorded Ltd"}),
        Removal(kind="customer", external_id="cus_gone"),
    ]

    made = batch(items, "cursor", more=True)

    assert [r.kind for r in made.records] == ["customer", "invoice", "payment", "credit_note", "refund"]
    assert (made.removals, made.cursor, made.more) == (
        [Removal(kind="customer", external_id="cus_gone")],
        "cursor",
        True,
    )


@pytest.mark.parametrize(
    ("kind", "obj", "refs"),
    [
        ("customer.updated", {"id": "cus_1"}, [("customer", "cus_1")]),
        ("customer.deleted", {"id": "cus_1", "deleted": True}, [("customer_deleted", "cus_1")]),
        ("invoice.voided", {"id": "in_1"}, [("invoice", "in_1")]),
        ("invoice_payment.paid", {"id": "inpay_1", "invoice": "in_1"}, [("invoice", "in_1")]),
        ("credit_note.created", {"id": "cn_1"}, [("credit_note", "cn_1")]),
        ("charge.refunded", {"id": "ch_1"}, [("charge", "ch_1")]),
        ("refund.failed", {"id": "re_1"}, [("refund", "re_1")]),
        ("payout.paid", {"id": "po_1"}, []),
    ],
)
def test_an_event_names_the_object_to_read_again(kind, obj, refs):
    assert event_refs({"type": kind, "data": {"object": obj}}) == refs


# ---------------------------------------------------------------- webhooks


@pytest.fixture
def paid_event(sample_event) -> dict[str, Any]:
    event: dict[str, Any] = sample_event("stripe_billing_invoice_paid.json")
    return event


def _signed(event: dict[str, Any], secret: str = WEBHOOK_SECRET, age: int = 0) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(event)
    header = signature_header(payload, secret, int(clock.real_seconds()) - age)
    return payload.encode(), {"content-type": "application/json", "stripe-signature": header}


def _connector(objects: dict[str, dict[str, Any]], webhook_secret: str | None = WEBHOOK_SECRET) -> StripeBilling:
    """The connector on a client answering ``retrieve`` from ``objects`` (the state Stripe would read back)."""

    class Retrieve:
        def retrieve(self, object_id: str, params: Any = None) -> stripe.StripeObject:
            return stripe.StripeObject.construct_from(objects[object_id], "rk_test_unit")

    client: Any = SimpleNamespace(v1=SimpleNamespace(customers=Retrieve(), invoices=Retrieve()))
    secret = Secret(api_key="rk_test_unit", webhook_secret=webhook_secret)
    return StripeBilling(Settings(), secret, client)


def test_a_signed_webhook_brings_the_invoice_as_stripe_has_it_now_after_its_customer(paid_event):
    invoice = paid_event["data"]["object"]
    payment = {**_invoice_payment(invoice["amount_paid"]), "invoice": invoice["id"], "id": "inpay_sample"}
    customer = {"id": invoice["customer"], "object": "customer", "name": "Bluebird Analytics Inc."}
    connector = _connector(
        {invoice["id"]: {**invoice, "payments": {"data": [payment], "has_more": False}}, customer["id"]: customer}
    )

    made = connector.webhook(*_signed(paid_event))

    assert [(r.kind, r.external_id) for r in made.records] == [
        ("customer", "cus_SampleCustomer1"),
        ("invoice", "in_1SampleInvoice0000001"),
        ("payment", "inpay_sample"),
    ]
    assert made.cursor is None


def test_a_webhook_signed_with_another_secret_is_refused(paid_event):
    with pytest.raises(WebhookRefused, match="does not match"):
        _connector({}).webhook(*_signed(paid_event, secret="whsec_someone_else"))


def test_a_webhook_signed_too_long_ago_is_refused(paid_event):
    with pytest.raises(WebhookRefused):
        _connector({}).webhook(*_signed(paid_event, age=600))  # a replay: Stripe's tolerance is 5 minutes


def test_a_webhook_with_no_signature_is_refused(paid_event):
    body, _ = _signed(paid_event)

    with pytest.raises(WebhookRefused, match="Stripe-Signature"):
        _connector({}).webhook(body, {"content-type": "application/json"})


def test_no_webhook_is_taken_while_the_connection_has_no_signing_secret(paid_event):
    with pytest.raises(WebhookRefused, match="signing secret"):
        _connector({}, webhook_secret=None).webhook(*_signed(paid_event))


def test_an_event_of_a_type_not_read_changes_nothing(paid_event):
    made = _connector({}).webhook(*_signed({**paid_event, "type": "payout.paid"}))

    assert made.records == made.removals == []


# ---------------------------------------------------------------- Stripe's refusals


def test_a_key_stripe_does_not_know_fails_the_connection_saying_what_to_paste():
    with pytest.raises(SourceRefused, match="API key"), _stripe_errors():
        raise stripe.AuthenticationError("Invalid API Key provided: rk_test_****abcd", http_status=401)


def test_a_key_without_a_permission_fails_the_connection_listing_those_needed():
    with pytest.raises(SourceRefused, match="Read on Customers"), _stripe_errors():
        raise stripe.PermissionError("The provided key does not have the required permissions", http_status=403)


def test_still_rate_limited_after_the_retries_stops_the_run_with_stripes_wait():
    with pytest.raises(SourceUnavailable) as unavailable, _stripe_errors():
        raise stripe.RateLimitError("Request rate limit exceeded", http_status=429, headers={"Retry-After": "7"})

    assert unavailable.value.retry_after == 7.0


def test_an_outage_stops_the_run_for_the_next_to_resume():
    with pytest.raises(SourceUnavailable), _stripe_errors():
        raise stripe.APIError("An unknown error occurred", http_status=503)


# ---------------------------------------------------------------- the connection's settings


@pytest.mark.parametrize("key", ["pk_live_51HxYz", "sk_test_", "whsec_abc", "rk_test_has spaces"])
def test_a_key_that_cannot_read_the_account_is_refused_naming_the_field(key):
    with pytest.raises(ValidationError) as refused:
        Secret.model_validate({"apiKey": key})

    assert refused.value.errors()[0]["loc"] == ("apiKey",)


def test_a_restricted_key_and_a_signing_secret_are_taken():
    secret = Secret.model_validate({"apiKey": " rk_live_51HxYzAbC ", "webhookSecret": "whsec_3fA9"})

    assert (secret.api_key, secret.webhook_secret) == ("rk_live_51HxYzAbC", "whsec_3fA9")


def test_the_cursor_is_forgotten_once_events_were_not_read_for_the_thirty_days_stripe_keeps():
    now = int(clock.now().timestamp())

    assert not _stale(now - int(timedelta(days=28).total_seconds()))
    assert _stale(now - int(timedelta(days=30).total_seconds()))
    assert _parse("not json") is None
    assert _parse('{"phase": "events", "event": "evt_1", "at": 1, "checked": 2}').event == "evt_1"


# ---------------------------------------------------------------- recorded payloads


def _invoice(currency: str = "usd", total: int = 10_000, status: str = "open", **fields: Any) -> dict[str, Any]:
    invoice = {
        "id": "in_recorded",
        "object": "invoice",
        "amount_due": total,
        "amount_paid": 0,
        "amount_remaining": total,
        "created": 1_790_000_000,
        "currency": currency,
        "customer": "cus_recorded",
        "due_date": 1_792_592_000,
        "invoice_pdf": "https://pay.stripe.com/invoice/acct_1/test_x/pdf",
        "number": "REC-0001",
        "pre_payment_credit_notes_amount": 0,
        "status": status,
        "status_transitions": {"finalized_at": 1_790_000_000, "paid_at": None, "voided_at": None},
        "total": total,
    }
    return {**invoice, **fields}


def _invoice_payment(amount: int) -> dict[str, Any]:
    return {
        "id": "inpay_recorded",
        "object": "invoice_payment",
        "amount_paid": amount,
        "amount_requested": amount,
        "created": 1_790_100_000,
        "currency": "usd",
        "invoice": "in_recorded",
        "is_default": True,
        "payment": {"type": "payment_intent", "payment_intent": "pi_recorded"},
        "status": "paid",
        "status_transitions": {"canceled_at": None, "paid_at": 1_790_100_000},
    }


def _credit_note(**fields: Any) -> dict[str, Any]:
    note = {
        "id": "cn_recorded",
        "object": "credit_note",
        "amount": 2_500,
        "created": 1_790_050_000,
        "currency": "usd",
        "customer": "cus_recorded",
        "effective_at": None,
        "invoice": "in_recorded",
        "number": "REC-0001-CN-01",
        "out_of_band_amount": None,
        "post_payment_amount": 0,
        "pre_payment_amount": 2_500,
        "refunds": [],
        "status": "issued",
        "total": 2_500,
        "type": "pre_payment",
    }
    return {**note, **fields}


def _refund(status: str = "succeeded") -> dict[str, Any]:
    return {
        "id": "re_recorded",
        "object": "refund",
        "amount": 2_500,
        "charge": "ch_recorded",
        "created": 1_790_200_000,
        "currency": "usd",
        "customer": "cus_recorded",
        "payment_intent": "pi_recorded",
        "status": status,
    }
