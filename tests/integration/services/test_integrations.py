"""Sync from a source system (services.integrations and services.sync_apply on the table), with the fake
source of ``tests/integration/fake_source.py`` in place of the connectors."""

from __future__ import annotations

import json
from datetime import date

import pytest

from relance import secrets
from relance.domain.customers import CustomerPatch
from relance.domain.integrations import ConnectionFields
from relance.domain.ledger import Allocation, InvoicePatch
from relance.domain.sync import (
    Batch,
    RecordError,
    Removal,
    SourceAccountOwner,
    SourceAllocation,
    SourceContact,
    SourceContactUpdate,
    SourceCreditNote,
    SourceCustomer,
    SourceInvoice,
    SourcePayment,
    SourceRefund,
)
from relance.errors import Conflict, Forbidden, Invalid, NotFound
from relance.services import contacts, customers, integrations, ledger, online_payments
from relance.services.sync_apply import money_id
from relance.storage import checkouts as checkout_store
from relance.storage import customers as customer_store
from relance.storage import integrations as store
from relance.storage import ledger as ledger_store
from relance.storage import users as user_store
from tests.integration.fake_source import fake_source, sign  # noqa: F401 (a fixture)

ISSUED, DUE = date(2026, 1, 5), date(2026, 2, 4)


@pytest.fixture
def queued(monkeypatch) -> list[tuple[str, str]]:
    """The runs queued (instead of sent to the sync queue, whose worker would run them meanwhile)."""
    runs: list[tuple[str, str]] = []
    monkeypatch.setattr(integrations, "queue_run", lambda org_id, name: runs.append((org_id, name)) or True)
    return runs


@pytest.fixture
def connected(admin, fake_source, queued):  # noqa: F811
    integrations.put_connection(
        admin,
        "stripe",
        ConnectionFields(enabled=True, settings={"account": "acct_1"}, secret={"apiKey": "sk_test_1"}),
    )
    return fake_source


def acme(**changes) -> SourceCustomer:
    fields = {
        "external_id": "cus_acme",
        "name": "Acme Trading",
        "currency": "EUR",
        "contacts": [SourceContact(email="Ann@Acme.example", first_name="Ann", last_name="Lee", is_main=True)],
    }
    return SourceCustomer(**{**fields, **changes})


def invoice(external_id: str = "in_1", amount: int = 120_00, **changes) -> SourceInvoice:
    fields = {
        "external_id": external_id,
        "customer_external_id": "cus_acme",
        "number": f"F-{external_id}",
        "currency": "EUR",
        "amount": amount,
        "issued_at": ISSUED,
        "due_at": DUE,
        "pdf_url": f"https://files.example/{external_id}.pdf",
    }
    return SourceInvoice(**{**fields, **changes})


def payment(external_id: str = "py_1", amount: int = 50_00, **changes) -> SourcePayment:
    fields = {
        "external_id": external_id,
        "customer_external_id": "cus_acme",
        "currency": "EUR",
        "amount": amount,
        "received_at": date(2026, 1, 20),
        "allocations": [SourceAllocation(invoice_external_id="in_1", amount=amount)],
    }
    return SourcePayment(**{**fields, **changes})


def backfill(source, *batches: Batch) -> None:
    """The source's pages: the first at cursor None, each next at the cursor the one before gave."""
    cursor = None
    for number, batch in enumerate(batches, start=1):
        more = number < len(batches)
        source.pages[cursor] = batch.model_copy(update={"cursor": f"c{number}", "more": more})
        cursor = f"c{number}"


def customer_by_external_id(organization, external_id: str) -> dict:
    customer_id = customer_store.customer_id_by_external_id(organization.id, external_id)
    assert customer_id is not None
    return customer_store.get_customer(organization.id, customer_id, consistent=True)


def invoice_by_external_id(organization, external_id: str) -> dict:
    invoice_id = ledger_store.invoice_id_by_external_id(organization.id, external_id)
    assert invoice_id is not None
    return ledger_store.get_invoice(organization.id, invoice_id)


# ---------------------------------------------------------------- connecting


def test_a_connection_is_checked_by_the_connector_models_and_names_the_field(admin, fake_source, queued):  # noqa: F811
    with pytest.raises(Invalid) as refused:
        integrations.put_connection(
            admin, "stripe", ConnectionFields(enabled=True, settings={}, secret={"apiKey": "k"})
        )
    assert "settings.account" in refused.value.fields

    with pytest.raises(Invalid) as refused:
        integrations.put_connection(admin, "stripe", ConnectionFields(enabled=True, settings={"account": "a"}))
    assert "secret.apiKey" in refused.value.fields
    assert store.get_connection(admin.organization_id, "stripe") is None
    assert queued == []


def test_the_secret_goes_to_secrets_manager_and_is_never_answered(admin, organization, connected, queued):
    connection = integrations.get_connection(admin, "stripe")

    assert connection.enabled and connection.status == "connected"
    assert connection.settings == {"account": "acct_1", "region": "eu"}
    assert connection.secret_fields_set == ["apiKey", "webhookSecret"]
    assert "sk_test_1" not in connection.model_dump_json()
    assert "sk_test_1" not in json.dumps(store.get_connection(organization.id, "stripe"))
    stored = secrets.read_json(integrations.secret_name(organization.id, "stripe"))
    assert stored == {"apiKey": "sk_test_1", "webhookSecret": "whsec_fake"}
    assert connection.webhook_url.endswith(f"/v1/integrations/stripe/webhooks/{organization.id}")
    assert queued == [(organization.id, "stripe")]  # connecting starts a first run


def test_a_secret_field_left_empty_keeps_its_value_and_a_new_one_replaces_it(admin, organization, connected):
    integrations.put_connection(admin, "stripe", ConnectionFields(secret={"apiKey": "", "webhookSecret": "whsec_2"}))

    stored = secrets.read_json(integrations.secret_name(organization.id, "stripe"))
    assert stored == {"apiKey": "sk_test_1", "webhookSecret": "whsec_2"}


def test_account_managers_see_no_integration(manager, connected):
    for call in (
        lambda: integrations.list_connections(manager),
        lambda: integrations.get_connection(manager, "stripe"),
        lambda: integrations.start_sync(manager, "stripe"),
        lambda: integrations.list_errors(manager, "stripe"),
        lambda: integrations.put_connection(manager, "stripe", ConnectionFields(enabled=False)),
    ):
        with pytest.raises(Forbidden):
            call()


def test_an_unknown_integration_is_not_found(admin):
    with pytest.raises(NotFound):
        integrations.get_connection(admin, "xero")


def test_disabling_takes_the_connection_off_the_schedule(admin, organization, connected):
    assert (organization.id, "stripe") in store.enabled_connections()

    integrations.put_connection(admin, "stripe", ConnectionFields(enabled=False))

    assert (organization.id, "stripe") not in store.enabled_connections()
    assert integrations.get_connection(admin, "stripe").status == "disabled"
    assert integrations.run_sync(organization.id, "stripe").outcome == "disabled"
    with pytest.raises(Conflict):
        integrations.start_sync(admin, "stripe")


# ---------------------------------------------------------------- runs


def test_a_backfill_gives_the_customers_contacts_invoices_and_balances_of_the_source(organization, admin, connected):
    backfill(
        connected,
        Batch(records=[acme(), invoice("in_1"), invoice("in_2", amount=80_00)]),
        Batch(records=[payment("py_1", 50_00)]),
    )

    run = integrations.run_sync(organization.id, "stripe")

    assert run.outcome == "done"
    assert connected.asked == [None, "c1"]
    assert run.counts["customer"].created == 1 and run.counts["invoice"].created == 2
    assert run.counts["payment"].created == 1
    customer = customers.get_customer(admin, customer_by_external_id(organization, "cus_acme")["id"])
    assert (customer.name, customer.currency) == ("Acme Trading", "EUR")
    assert customer.outstanding == {"EUR": 150_00}
    [contact] = contacts.list_contacts(admin, customer.id)
    assert (contact.email, contact.first_name, contact.is_main) == ("ann@acme.example", "Ann", True)
    first = invoice_by_external_id(organization, "in_1")
    assert (first["paidAmount"], first["pdfUrl"], first["syncedFrom"]) == (
        50_00,
        "https://files.example/in_1.pdf",
        "stripe",
    )
    stored = store.get_connection(organization.id, "stripe")
    assert stored["cursor"] == "c2" and "leaseId" not in stored
    assert stored["lastRun"]["outcome"] == "done" and stored["lastRun"]["counts"]["invoice"]["created"] == 2


def test_the_same_batch_twice_changes_nothing(organization, admin, connected):
    connected.pages[None] = Batch(records=[acme(), invoice("in_1"), payment("py_1", 50_00)], cursor=None)
    integrations.run_sync(organization.id, "stripe")
    before = customer_by_external_id(organization, "cus_acme")

    again = integrations.run_sync(organization.id, "stripe")

    assert {k: c.unchanged for k, c in again.counts.items()} == {"customer": 1, "invoice": 1, "payment": 1}
    assert all(c.created == c.updated == c.errors == 0 for c in again.counts.values())
    after = customer_by_external_id(organization, "cus_acme")
    assert after["ledgerVersion"] == before["ledgerVersion"] and after["updatedAt"] == before["updatedAt"]
    assert len(ledger_store.records_of(organization.id, after["id"], "payment")) == 1
    assert len(contacts.list_contacts(admin, after["id"])) == 1


def test_a_source_change_updates_only_the_synced_fields(organization, admin, connected):
    connected.pages[None] = Batch(records=[acme(), invoice("in_1")])
    integrations.run_sync(organization.id, "stripe")
    customer = customer_by_external_id(organization, "cus_acme")
    customers.update_customer(admin, customer["id"], CustomerPatch(tags=["key account"]))

    connected.pages["c"] = Batch(records=[acme(name="Acme Trading SA"), invoice("in_1", amount=130_00)])
    connected.pages[None] = Batch(cursor="c", more=True)
    run = integrations.run_sync(organization.id, "stripe")

    assert run.counts["customer"].updated == 1 and run.counts["invoice"].updated == 1
    after = customers.get_customer(admin, customer["id"])
    assert after.name == "Acme Trading SA" and after.tags == ["key account"]
    assert after.outstanding == {"EUR": 130_00}


def test_a_failing_page_keeps_the_cursor_and_the_next_run_resumes_there(organization, connected):
    backfill(connected, Batch(records=[acme()]), Batch(records=[invoice("in_1")]), Batch(records=[invoice("in_2")]))
    connected.unavailable_at.add("c2")

    stopped = integrations.run_sync(organization.id, "stripe")

    assert stopped.outcome == "unavailable" and "503" in (stopped.message or "")
    stored = store.get_connection(organization.id, "stripe")
    assert stored["cursor"] == "c2" and stored["status"] == "connected" and "503" in stored["message"]
    assert ledger_store.invoice_id_by_external_id(organization.id, "in_2") is None

    connected.unavailable_at.clear()
    connected.asked.clear()
    resumed = integrations.run_sync(organization.id, "stripe")

    assert resumed.outcome == "done" and connected.asked == ["c2"]
    assert ledger_store.invoice_id_by_external_id(organization.id, "in_2") is not None
    assert store.get_connection(organization.id, "stripe")["message"] is None


def test_credentials_refused_mark_the_connection_failing(admin, organization, connected):
    connected.refuse = True

    run = integrations.run_sync(organization.id, "stripe")

    connection = integrations.get_connection(admin, "stripe")
    assert run.outcome == "refused"
    assert connection.status == "failing" and "revoked" in (connection.message or "")


def test_a_run_never_overlaps_another_run_of_the_connection(organization, connected):
    assert store.take_lease(organization.id, "stripe", "run_other", "9999-01-01T00:00:00+00:00", "2000-01-01")

    assert integrations.run_sync(organization.id, "stripe").outcome == "busy"
    assert connected.asked == []


def test_a_rotated_secret_is_stored_after_the_run(organization, connected):
    connected.rotate_to = "rt_2"

    integrations.run_sync(organization.id, "stripe")

    stored = secrets.read_json(integrations.secret_name(organization.id, "stripe"))
    assert stored == {"apiKey": "sk_test_1", "webhookSecret": "whsec_fake", "refreshToken": "rt_2"}


# ---------------------------------------------------------------- records refused


def test_a_malformed_record_is_kept_for_review_and_the_rest_goes_on(admin, organization, connected):
    connected.pages[None] = Batch(
        records=[acme(), invoice("in_orphan", customer_external_id="cus_unknown"), invoice("in_1")],
        errors=[RecordError(kind="customer", external_id="cus_bad", message="no name")],
    )

    run = integrations.run_sync(organization.id, "stripe")
    integrations.run_sync(organization.id, "stripe")  # a re-run: the same errors, not two of each

    assert run.counts["invoice"].created == 1 and run.counts["invoice"].errors == 1
    errors, _ = integrations.list_errors(admin, "stripe")
    assert sorted((e.kind, e.external_id) for e in errors) == [("customer", "cus_bad"), ("invoice", "in_orphan")]
    assert "cus_unknown" in next(e.message for e in errors if e.external_id == "in_orphan")
    assert integrations.get_connection(admin, "stripe").errors == 2


def test_a_later_success_of_a_record_clears_its_error(admin, organization, connected):
    connected.pages[None] = Batch(records=[invoice("in_1")], cursor="c1")
    integrations.run_sync(organization.id, "stripe")
    assert [e.external_id for e in integrations.list_errors(admin, "stripe")[0]] == ["in_1"]

    connected.pages["c1"] = Batch(records=[acme(), invoice("in_1")], cursor="c2")
    integrations.run_sync(organization.id, "stripe")

    assert integrations.list_errors(admin, "stripe")[0] == []
    assert integrations.get_connection(admin, "stripe").errors == 0


def test_errors_are_listed_a_page_at_a_time(admin, organization, connected):
    connected.pages[None] = Batch(records=[invoice(f"in_{n}", customer_external_id="cus_x") for n in range(3)])
    integrations.run_sync(organization.id, "stripe")

    first, cursor = integrations.list_errors(admin, "stripe", limit=2)
    rest, end = integrations.list_errors(admin, "stripe", limit=2, cursor=cursor)

    assert len(first) == 2 and len(rest) == 1 and end is None
    assert {e.external_id for e in first + rest} == {"in_0", "in_1", "in_2"}


# ---------------------------------------------------------------- money, voiding, removals


def test_credit_notes_and_refunds_are_recorded_once(organization, admin, connected):
    note = SourceCreditNote(
        external_id="cn_1", customer_external_id="cus_acme", currency="EUR", amount=30_00, issued_at=ISSUED
    )
    refund = SourceRefund(
        external_id="re_1",
        customer_external_id="cus_acme",
        currency="EUR",
        amount=10_00,
        refunded_at=DUE,
        credit_note_external_id="cn_1",
    )
    connected.pages[None] = Batch(records=[acme(), note, refund])

    integrations.run_sync(organization.id, "stripe")
    again = integrations.run_sync(organization.id, "stripe")

    customer = customer_by_external_id(organization, "cus_acme")
    assert customer["credit"] == {"EUR": 20_00}
    assert again.counts["credit_note"].unchanged == 1 and again.counts["refund"].unchanged == 1
    stored = ledger_store.get_record(
        organization.id, "credit_note", money_id("credit_note", organization.id, "stripe", "cn_1")
    )
    assert stored["unapplied"] == 20_00


def test_a_payment_voided_at_the_source_after_it_was_recorded_is_reported(admin, organization, connected):
    connected.pages[None] = Batch(records=[acme(), invoice("in_1"), payment("py_1")], cursor="c1")
    integrations.run_sync(organization.id, "stripe")
    connected.pages["c1"] = Batch(records=[payment("py_1", voided=True)], cursor="c2")

    run = integrations.run_sync(organization.id, "stripe")

    assert run.counts["payment"].errors == 1
    [error] = integrations.list_errors(admin, "stripe")[0]
    assert error.external_id == "py_1" and "cannot reverse" in error.message
    assert invoice_by_external_id(organization, "in_1")["paidAmount"] == 50_00


def test_an_invoice_voided_or_deleted_at_the_source_is_voided_here(organization, connected):
    connected.pages[None] = Batch(records=[acme(), invoice("in_1"), invoice("in_2")], cursor="c1")
    integrations.run_sync(organization.id, "stripe")
    connected.pages["c1"] = Batch(
        records=[invoice("in_1", voided=True)], removals=[Removal(kind="invoice", external_id="in_2")], cursor="c2"
    )

    run = integrations.run_sync(organization.id, "stripe")

    assert run.counts["invoice"].voided == 2
    assert invoice_by_external_id(organization, "in_1")["status"] == "voided"
    assert invoice_by_external_id(organization, "in_2")["status"] == "voided"
    assert customer_by_external_id(organization, "cus_acme")["openItems"] == {}


def test_a_customer_deleted_at_the_source_is_kept_marked_and_out_of_dunning(organization, connected):
    connected.pages[None] = Batch(records=[acme(), invoice("in_1")], cursor="c1")
    integrations.run_sync(organization.id, "stripe")
    connected.pages["c1"] = Batch(removals=[Removal(kind="customer", external_id="cus_acme")], cursor="c2")

    run = integrations.run_sync(organization.id, "stripe")

    customer = customer_by_external_id(organization, "cus_acme")
    assert run.counts["customer"].voided == 1
    assert customer["deletedAtSource"] and customer["collectionPaused"] is True
    assert customer["openItems"]  # its ledger stays


def test_an_account_owner_becomes_an_account_manager_of_its_customers(organization, admin, connected):
    owner = SourceAccountOwner(
        external_id="005A",
        email="Sam@Example.com",
        first_name="Sam",
        last_name="Ray",
        customer_external_ids=["cus_acme"],
    )
    connected.pages[None] = Batch(records=[acme(), owner])

    run = integrations.run_sync(organization.id, "stripe")
    again = integrations.run_sync(organization.id, "stripe")

    user = user_store.find_by_email(organization.id, "sam@example.com")
    assert user is not None and user["role"] == "account_manager" and user["name"] == "Sam Ray"
    assert customer_by_external_id(organization, "cus_acme")["accountManagerIds"] == [user["id"]]
    assert run.counts["account_owner"].created == 1 and again.counts["account_owner"].unchanged == 1


def test_a_crm_customer_gets_its_relance_page_written_back_once(organization, admin, fake_source, queued):  # noqa: F811
    integrations.put_connection(
        admin, "stripe", ConnectionFields(enabled=True, settings={"account": "st"}, secret={"apiKey": "k"})
    )
    fake_source.pages[None] = Batch(records=[acme()])
    integrations.run_sync(organization.id, "stripe")  # the billing tool brings the customer: no link written
    assert fake_source.links == []
    integrations.put_connection(
        admin, "salesforce", ConnectionFields(enabled=True, settings={"account": "sf"}, secret={"apiKey": "k"})
    )
    owner = SourceAccountOwner(external_id="005B", email="owner@example.com", customer_external_ids=["cus_acme"])
    contacts_of_account = SourceContactUpdate(
        customer_external_id="cus_acme", contacts=[SourceContact(email="cfo@acme.example", job_title="CFO")]
    )
    fake_source.pages[None] = Batch(records=[owner, contacts_of_account])

    integrations.run_sync(organization.id, "salesforce")
    integrations.run_sync(organization.id, "salesforce")

    customer = customer_by_external_id(organization, "cus_acme")
    assert [(link.customer_external_id, link.url.rsplit("/", 2)[1:]) for link in fake_source.links] == [
        ("cus_acme", ["customers", customer["id"]])
    ]


# ---------------------------------------------------------------- synced fields


def test_synced_fields_are_read_only_and_the_others_stay_editable(organization, admin, connected):
    connected.pages[None] = Batch(records=[acme(), invoice("in_1")])
    integrations.run_sync(organization.id, "stripe")
    customer = customer_by_external_id(organization, "cus_acme")
    inv = invoice_by_external_id(organization, "in_1")
    [contact] = contacts.list_contacts(admin, customer["id"])

    with pytest.raises(Conflict) as refused:
        customers.update_customer(admin, customer["id"], CustomerPatch(name="Renamed"))
    assert "name" in refused.value.fields and "Stripe Billing" in refused.value.message
    with pytest.raises(Conflict) as refused:
        ledger.update_invoice(admin, inv["id"], InvoicePatch(amount=1))
    assert "amount" in refused.value.fields
    with pytest.raises(Conflict):
        customers.delete_customer(admin, customer["id"])
    with pytest.raises(Conflict):
        ledger.void_invoice(admin, inv["id"])
    with pytest.raises(Conflict):
        contacts.delete_contact(admin, contact.id)

    edited = customers.update_customer(admin, customer["id"], CustomerPatch(name="Acme Trading", tags=["vip"]))
    assert edited.tags == ["vip"]


# ---------------------------------------------------------------- webhooks


def _webhook(batch: Batch, secret: str = "whsec_fake") -> tuple[bytes, dict[str, str]]:
    body = batch.model_dump_json(by_alias=True).encode()
    return body, {"X-Fake-Signature": sign(body, secret)}


def test_a_webhook_is_applied_once(organization, connected):
    body, headers = _webhook(Batch(records=[acme(), invoice("in_1")]))

    assert integrations.receive_webhook("stripe", organization.id, body, headers) == 2
    integrations.receive_webhook("stripe", organization.id, body, headers)  # delivered again

    customer = customer_by_external_id(organization, "cus_acme")
    assert len(ledger_store.records_of(organization.id, customer["id"], "invoice")) == 1
    assert customer["openItems"] and store.get_connection(organization.id, "stripe").get("cursor") is None


def test_a_webhook_badly_signed_or_for_another_organization_touches_nothing(admin, organization, connected):
    other, _ = integrations_organization()
    body, headers = _webhook(Batch(records=[acme()]))

    with pytest.raises(integrations.WebhookNotAccepted):
        integrations.receive_webhook("stripe", organization.id, body, {"X-Fake-Signature": "forged"})
    with pytest.raises(NotFound):  # the other organization has no connection: its URL does not exist
        integrations.receive_webhook("stripe", other.id, body, headers)
    with pytest.raises(NotFound):
        integrations.receive_webhook("stripe", "org_unknown", body, headers)
    with pytest.raises(NotFound):
        integrations.receive_webhook("xero", organization.id, body, headers)

    assert customer_store.customer_id_by_external_id(organization.id, "cus_acme") is None
    assert customer_store.customer_id_by_external_id(other.id, "cus_acme") is None


def test_a_webhook_signed_with_one_organizations_secret_is_refused_at_anothers(admin, organization, connected):
    other, other_admin = integrations_organization()
    integrations.put_connection(
        other_admin,
        "stripe",
        ConnectionFields(enabled=True, settings={"account": "b"}, secret={"apiKey": "k", "webhookSecret": "whsec_b"}),
    )
    body, headers = _webhook(Batch(records=[acme()]))  # signed with the first organization's secret

    with pytest.raises(integrations.WebhookNotAccepted):
        integrations.receive_webhook("stripe", other.id, body, headers)
    assert customer_store.customer_id_by_external_id(other.id, "cus_acme") is None


def integrations_organization():
    from relance.domain.organizations import Principal
    from relance.services.organization_admin import create_organization

    other, _ = create_organization("Other Ltd")
    return other, Principal(organization_id=other.id, role="admin", principal_id="user:usr_other", user_id="usr_other")


# ---------------------------------------------------------------- write-back


def test_a_portal_payment_on_a_synced_invoice_is_written_back_exactly_once(organization, admin, connected, queued):
    connected.pages[None] = Batch(records=[acme(), invoice("in_1")])
    integrations.run_sync(organization.id, "stripe")
    inv = invoice_by_external_id(organization, "in_1")
    queued.clear()
    allocations = [Allocation(invoice_id=inv["id"], amount=40_00)]

    assert integrations.record_write_backs(organization.id, "pay_portal", allocations, "2026-01-21") == 1
    assert integrations.record_write_backs(organization.id, "pay_portal", allocations, "2026-01-21") == 0
    first = integrations.run_sync(organization.id, "stripe")
    integrations.run_sync(organization.id, "stripe")  # a retried run

    assert queued == [(organization.id, "stripe")]
    assert first.write_backs == 1
    [written] = connected.written_back
    assert (written.payment_id, written.invoice_external_id, written.customer_external_id) == (
        "pay_portal",
        "in_1",
        "cus_acme",
    )
    assert (written.amount, written.currency, written.received_at) == (40_00, "EUR", date(2026, 1, 21))
    stored = store.get_write_back(organization.id, "stripe", "pay_portal", inv["id"])
    assert stored["status"] == "written" and stored["sourceId"] == "src_pay_1"


def test_the_source_copy_of_a_written_back_payment_is_not_applied_again(organization, admin, connected):
    connected.pages[None] = Batch(records=[acme(), invoice("in_1")], cursor="c1")
    integrations.run_sync(organization.id, "stripe")
    inv = invoice_by_external_id(organization, "in_1")
    ledger.record_payment(
        admin,
        ledger.PaymentFields(
            customer_id=inv["customerId"],
            amount=40_00,
            currency="EUR",
            received_at=date(2026, 1, 21),
            allocations=[Allocation(invoice_id=inv["id"], amount=40_00)],
        ),
        "pay_portal",
    )
    integrations.record_write_backs(
        organization.id, "pay_portal", [Allocation(invoice_id=inv["id"], amount=40_00)], "2026-01-21"
    )
    connected.pages["c1"] = Batch(records=[payment("src_pay_1", 40_00)], cursor="c2")

    run = integrations.run_sync(organization.id, "stripe")

    assert run.counts["payment"].unchanged == 1
    assert invoice_by_external_id(organization, "in_1")["paidAmount"] == 40_00


def test_the_source_telling_of_a_written_back_payment_before_answering_records_it_once(organization, admin, connected):
    connected.pages[None] = Batch(records=[acme(), invoice("in_1")], cursor="c1")
    integrations.run_sync(organization.id, "stripe")
    inv = invoice_by_external_id(organization, "in_1")
    paid = [Allocation(invoice_id=inv["id"], amount=40_00)]
    fields = ledger.PaymentFields(
        customer_id=inv["customerId"], amount=40_00, currency="EUR", received_at=date(2026, 1, 21), allocations=paid
    )
    ledger.record_payment(admin, fields, "pay_portal")
    integrations.record_write_backs(organization.id, "pay_portal", paid, "2026-01-21")
    copy = _webhook(Batch(records=[payment("src_pay_1", 40_00)]))  # the source's copy of it, on invoice in_1
    told_early = []

    def webhook_before_the_answer(_: object) -> None:  # the source's webhook outruns its answer to Relance
        with pytest.raises(integrations.SourceBusy):
            integrations.receive_webhook("stripe", organization.id, *copy)
        told_early.append(True)

    connected.on_write_back = webhook_before_the_answer
    assert integrations.run_sync(organization.id, "stripe").write_backs == 1
    connected.on_write_back = None
    integrations.receive_webhook("stripe", organization.id, *copy)  # delivered again: Relance's own by now

    assert told_early == [True]
    assert invoice_by_external_id(organization, "in_1")["paidAmount"] == 40_00
    assert [p["id"] for p in ledger_store.records_of(organization.id, inv["customerId"], "payment")] == ["pay_portal"]


def test_a_write_back_the_source_refuses_is_kept_for_review_and_tried_again(organization, admin, connected):
    connected.pages[None] = Batch(records=[acme(), invoice("in_1")])
    integrations.run_sync(organization.id, "stripe")
    inv = invoice_by_external_id(organization, "in_1")
    integrations.record_write_backs(
        organization.id, "pay_portal", [Allocation(invoice_id=inv["id"], amount=1_00)], "2026-01-21"
    )
    connected.refuse_write_back = True

    refused = integrations.run_sync(organization.id, "stripe")

    assert refused.outcome == "done" and refused.write_backs == 0
    [error] = integrations.list_errors(admin, "stripe")[0]
    assert (error.kind, error.external_id) == ("payment", "pay_portal") and "closed at the source" in error.message

    connected.refuse_write_back = False
    again = integrations.run_sync(organization.id, "stripe")

    assert again.write_backs == 1 and len(connected.written_back) == 1
    assert integrations.list_errors(admin, "stripe")[0] == []


def test_a_portal_payment_of_a_synced_invoice_is_queued_for_write_back_once_however_often_stripe_tells(
    organization, admin, connected, queued
):
    connected.pages[None] = Batch(records=[acme(), invoice("in_1")])
    integrations.run_sync(organization.id, "stripe")
    inv = invoice_by_external_id(organization, "in_1")
    checkout = {
        "id": "chk_portal",
        "customerId": inv["customerId"],
        "currency": "EUR",
        "amount": 120_00,
        "stripeAmount": 120_00,
        "allocations": [{"invoiceId": inv["id"], "amount": 120_00}],
        "status": "open",
    }
    checkout_store.create(organization.id, checkout)
    session = {
        "id": "cs_test_1",
        "payment_status": "paid",
        "amount_total": 120_00,
        "currency": "eur",
        "payment_intent": "pi_1",
        "metadata": {"organizationId": organization.id, "checkoutId": "chk_portal"},
    }
    queued.clear()

    for _ in range(2):  # Stripe delivers again
        online_payments.handle_event({"id": "evt_1", "type": "checkout.session.completed", "data": {"object": session}})
    integrations.run_sync(organization.id, "stripe")
    integrations.run_sync(organization.id, "stripe")

    assert queued == [(organization.id, "stripe")]
    [written] = connected.written_back
    assert (written.payment_id, written.invoice_external_id, written.amount) == (
        online_payments.payment_id("chk_portal"),
        "in_1",
        120_00,
    )
    assert invoice_by_external_id(organization, "in_1")["status"] == "paid"
