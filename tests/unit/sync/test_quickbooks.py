"""The QuickBooks Online connector's rules: QuickBooks' records in Relance's terms, its webhooks' signature
and shapes, and where a run resumes. The records are the local stand-in's (local/quickbooks.py), which
are shaped as QuickBooks answers."""

import json
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError
from quickbooks import QuickBooks

from local.quickbooks import LocalQuickBooks
from local.quickbooks import signature as stand_in_signature
from relance import clock
from relance.domain.sync import Batch, RecordError, SourceAllocation
from relance.sync import WebhookRefused, connector, secret_model, settings_model
from relance.sync.quickbooks import (
    QuickBooksConnector,
    Secret,
    Settings,
    _Cursor,
    _Unmappable,
    check_signature,
    credit_allocations,
    credit_note_record,
    customer_record,
    invoice_record,
    minor_units,
    notices,
    payment_record,
    refund_records,
    signature,
)
from tests.conftest import EVENTS

REALM = "9341455130166501"


def sample_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def company() -> LocalQuickBooks:
    return LocalQuickBooks("http://127.0.0.1:1", "client", "secret", "RT-1", "verifier")


def record(company: LocalQuickBooks, entity: str, record_id: str) -> dict[str, Any]:
    return json.loads(json.dumps(company.records[entity][record_id], default=float), parse_float=Decimal)


def test_the_connector_module_declares_its_settings_and_secret():
    assert settings_model("quickbooks") is Settings
    assert secret_model("quickbooks") is Secret
    built = connector("quickbooks", {"realmId": REALM}, {"clientId": "c", "clientSecret": "s", "refreshToken": "r"})
    assert isinstance(built, QuickBooksConnector)
    assert built.settings.environment == "production"
    assert built.settings.minor_version == 75


@pytest.mark.parametrize(
    ("settings", "field"),
    [({"realmId": "not-a-realm"}, "realmId"), ({"realmId": REALM, "minorVersion": 74}, "minorVersion"),
     ({"realmId": REALM, "environment": "staging"}, "environment")],
)  # fmt: skip
def test_settings_that_cannot_reach_a_company_are_refused_naming_the_field(settings, field):
    with pytest.raises(ValidationError) as refused:
        Settings.model_validate(settings)
    assert refused.value.errors()[0]["loc"] == (field,)


# ---------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("1830.5", "USD", 183050), ("1830.50", "USD", 183050), ("450000", "JPY", 450000), ("450000.00", "JPY", 450000),
     ("1.234", "KWD", 1234), ("0.1", "EUR", 10), ("12345678901.23", "USD", 1234567890123)],
)  # fmt: skip
def test_quickbooks_decimals_become_minor_units_by_the_currencys_exponent(amount, currency, minor):
    assert minor_units(Decimal(amount), currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency", "says"),
    [("1500.5", "JPY", "more decimals than JPY's 0"), ("10.005", "USD", "more decimals than USD's 2"),
     ("10", "ZZZ", "'ZZZ' is not a currency Relance knows"), ("NaN", "USD", "not an amount")],
)  # fmt: skip
def test_an_amount_relance_cannot_hold_exactly_is_refused(amount, currency, says):
    with pytest.raises(_Unmappable, match=says):
        minor_units(Decimal(amount), currency)


# ---------------------------------------------------------------- customers and contacts


def test_comma_separated_billing_addresses_become_contacts_the_first_the_main_one(company):
    customer, errors = customer_record(record(company, "Customer", "1"))

    assert errors == []
    assert (customer.external_id, customer.name, customer.currency, customer.voided) == (
        "1",
        "Acme Hardware Supply",
        "USD",
        False,
    )
    main, other = customer.contacts
    assert (main.email, main.first_name, main.last_name, main.phone, main.is_main) == (
        "ap@acmehardware.example",
        "Jane",
        "Doe",
        "(415) 555-0101",
        True,
    )
    assert (other.email, other.first_name, other.phone, other.is_main) == (
        "jane.doe@acmehardware.example",
        None,
        None,
        False,
    )


def test_an_address_that_is_not_one_is_reported_and_the_customer_still_synced(company):
    raw = record(company, "Customer", "2") | {
        "PrimaryEmailAddr": {"Address": "billing@blueharbor.example; front desk, BILLING@blueharbor.example"}
    }

    customer, errors = customer_record(raw)

    assert [contact.email for contact in customer.contacts] == ["billing@blueharbor.example"]
    assert errors == [RecordError(kind="customer", external_id="2", message="'front desk' is not an e-mail address")]


def test_a_customer_without_an_address_has_no_contacts_and_an_inactive_one_is_voided(company):
    no_address, _ = customer_record(record(company, "Customer", "9"))
    inactive, _ = customer_record(record(company, "Customer", "12"))

    assert no_address.contacts == []
    assert inactive.voided is True
    assert customer_record(record(company, "Customer", "8"))[0].currency == "JPY"


def test_a_customer_in_a_currency_relance_does_not_know_is_a_record_error(company):
    batch = Batch()
    raw = record(company, "Customer", "3") | {"CurrencyRef": {"value": "ZZZ", "name": "Nowhere"}}

    QuickBooksConnector._map_one(batch, "customer", raw, {})

    assert batch.records == []
    assert batch.errors == [
        RecordError(kind="customer", external_id="3", message="'ZZZ' is not a currency Relance knows (ISO 4217)")
    ]


# ---------------------------------------------------------------- invoices, payments, credits, refunds


def test_an_invoice_keeps_its_number_dates_amount_and_public_link(company):
    today = company.seeded_at.date()
    raw = record(company, "Invoice", "102") | {"InvoiceLink": "https://connect.intuit.com/t/scs-v1-abc"}

    invoice = invoice_record(raw)

    assert (invoice.external_id, invoice.customer_external_id, invoice.number, invoice.currency) == (
        "102",
        "1",
        "1002",
        "USD",
    )
    assert invoice.amount == 183050
    assert (invoice.issued_at, invoice.due_at) == (today - timedelta(days=40), today - timedelta(days=10))
    assert invoice.pdf_url == "https://connect.intuit.com/t/scs-v1-abc"
    assert invoice.voided is False


def test_a_yen_invoice_is_in_whole_yen_and_an_invoice_without_a_due_date_is_due_when_issued(company):
    raw = record(company, "Invoice", "121")
    del raw["DueDate"]

    invoice = invoice_record(raw)

    assert (invoice.currency, invoice.amount) == ("JPY", 1280000)
    assert invoice.due_at == invoice.issued_at


def test_a_voided_invoice_comes_back_voided(company):
    invoice = invoice_record(record(company, "Invoice", "119"))

    assert (invoice.voided, invoice.amount) == (True, 0)


def test_an_invoice_missing_a_field_is_a_record_error_naming_it(company):
    batch = Batch()
    raw = record(company, "Invoice", "103")
    del raw["TotalAmt"]

    QuickBooksConnector._map_one(batch, "invoice", raw, {})

    assert batch.errors == [RecordError(kind="invoice", external_id="103", message="TotalAmt: Field required")]


def test_a_payment_pays_the_invoices_its_lines_link(company):
    two_invoices = next(p for p in company.records["Payment"].values() if len(p["Line"]) == 2 and p["TotalAmt"])

    payment = payment_record(json.loads(json.dumps(two_invoices, default=float), parse_float=Decimal))

    assert payment is not None
    assert (payment.customer_external_id, payment.currency, payment.amount, payment.reference) == (
        "5",
        "USD",
        520000,
        "ACH 556012",
    )
    assert payment.allocations == [
        SourceAllocation(invoice_external_id="112", amount=260000),
        SourceAllocation(invoice_external_id="113", amount=260000),
    ]


def payment(lines: list[tuple[str, str, str]], total: str, note: str | None = None) -> dict[str, Any]:
    return {
        "Id": "900",
        "CustomerRef": {"value": "4"},
        "CurrencyRef": {"value": "USD"},
        "TotalAmt": Decimal(total),
        "TxnDate": "2026-11-02",
        "PrivateNote": note,
        "Line": [
            {"Amount": Decimal(amount), "LinkedTxn": [{"TxnId": txn, "TxnType": kind}]} for txn, kind, amount in lines
        ],
    }


def test_credit_memo_lines_pay_the_invoice_lines_first_and_money_the_rest():
    raw = payment([("1", "Invoice", "100"), ("2", "Invoice", "50"), ("7", "CreditMemo", "120")], "30")

    paid = payment_record(raw)

    assert paid is not None
    assert paid.amount == 3000
    assert paid.allocations == [SourceAllocation(invoice_external_id="2", amount=3000)]
    assert credit_allocations([raw]) == {
        "7": [
            SourceAllocation(invoice_external_id="1", amount=10000),
            SourceAllocation(invoice_external_id="2", amount=2000),
        ]
    }


def test_a_payment_of_no_money_that_only_applies_a_credit_memo_is_no_payment(company):
    applying = next(p for p in company.records["Payment"].values() if p["TotalAmt"] == 0)
    raw = json.loads(json.dumps(applying, default=float), parse_float=Decimal)

    assert payment_record(raw) is None
    allocations = credit_allocations([raw])
    credit = credit_note_record(record(company, "CreditMemo", "131"), allocations["131"])
    assert (credit.customer_external_id, credit.amount, credit.number) == ("4", 15000, "CM1031")
    assert credit.allocations == [SourceAllocation(invoice_external_id="110", amount=15000)]


def test_a_voided_payment_comes_back_voided_with_nothing_paid():
    voided = payment([("1", "Invoice", "0")], "0", note="Voided")

    paid = payment_record(voided)

    assert paid is not None
    assert (paid.voided, paid.amount, paid.allocations) == (True, 0, [])
    assert credit_allocations([voided]) == {}


def test_a_payment_funded_by_a_journal_entry_credit_is_reported_not_guessed():
    raw = payment([("1", "Invoice", "100"), ("55", "JournalEntry", "60")], "40")

    with pytest.raises(_Unmappable, match="credits other than credit memos"):
        payment_record(raw)


def test_a_refund_receipt_is_a_credit_paid_back_at_once_and_one_without_a_customer_is_a_record_error(company):
    raw = record(company, "RefundReceipt", "144")

    credit, refund = refund_records(raw)

    day = company.seeded_at.date() - timedelta(days=20)
    assert (credit.external_id, credit.customer_external_id, credit.amount, credit.issued_at, credit.allocations) == (
        "RefundReceipt-144",
        "7",
        4500,
        day,
        [],
    )
    assert (refund.external_id, refund.amount, refund.reference, refund.refunded_at) == ("144", 4500, "R1033", day)
    assert refund.credit_note_external_id == "RefundReceipt-144"

    batch = Batch()
    QuickBooksConnector._map_one(batch, "refund", {k: v for k, v in raw.items() if k != "CustomerRef"}, {})
    assert batch.records == []
    assert batch.errors == [RecordError(kind="refund", external_id="144", message="no customer (CustomerRef)")]


# ---------------------------------------------------------------- webhooks


def test_the_signature_is_the_base64_hmac_of_the_body_as_python_quickbooks_checks_it():
    body = json.dumps(sample_event("quickbooks_webhook_cloudevents.json")).encode()

    header = signature(body, "verifier")

    assert header == stand_in_signature(body, "verifier")
    assert QuickBooks.validate_webhook_signature(None, body.decode(), header, "verifier")
    check_signature(body, {"Intuit-Signature": header}, "verifier")  # any case of the header's name


@pytest.mark.parametrize(
    ("headers", "token"),
    [({"intuit-signature": "bm90IGl0"}, "verifier"), ({}, "verifier"), ({"intuit-signature": "%%%"}, "verifier"),
     ({"intuit-signature": "anything"}, None)],
)  # fmt: skip
def test_a_webhook_whose_signature_does_not_check_out_is_refused(headers, token):
    with pytest.raises(WebhookRefused):
        check_signature(b'{"eventNotifications": []}', headers, token)


def test_a_tampered_body_is_refused():
    body = json.dumps(sample_event("quickbooks_webhook_legacy.json")).encode()
    header = signature(body, "verifier")

    with pytest.raises(WebhookRefused):
        check_signature(body.replace(b"119", b"120"), {"intuit-signature": header}, "verifier")


def test_cloudevents_name_the_entities_of_this_company_only():
    found = notices(sample_event("quickbooks_webhook_cloudevents.json"), REALM)

    assert [(n.entity, n.id, n.operation, n.deleted_id) for n in found] == [
        ("Invoice", "145", "Create", None),
        ("Payment", "146", "Create", None),
        ("Customer", "3", "Merge", "27"),
        ("Invoice", "130", "Delete", None),
    ]


def test_the_older_event_notifications_name_the_entities_of_this_company_only():
    found = notices(sample_event("quickbooks_webhook_legacy.json"), REALM)

    assert [(n.entity, n.id, n.operation) for n in found] == [
        ("Invoice", "119", "Void"),
        ("Customer", "11", "Delete"),
        ("Invoice", "103", "Emailed"),
        ("Vendor", "56", "Create"),
    ]


def test_a_body_that_is_no_webhook_is_refused():
    with pytest.raises(WebhookRefused):
        notices("just a string", REALM)


def test_the_stand_ins_webhooks_are_shaped_as_intuits(company):
    cloud = json.loads(company.notification([("Invoice", "145", "created"), ("Customer", "4", "deleted")]))
    company.webhook_format = "legacy"
    try:
        legacy = json.loads(company.notification([("Invoice", "119", "voided")]))
    finally:
        company.webhook_format = "cloudevents"

    assert [(n.entity, n.id, n.operation) for n in notices(cloud, REALM)] == [
        ("Invoice", "145", "Create"),
        ("Customer", "4", "Delete"),
    ]
    assert set(cloud[0]) >= set(sample_event("quickbooks_webhook_cloudevents.json")[1])
    assert [(n.entity, n.id, n.operation) for n in notices(legacy, REALM)] == [("Invoice", "119", "Void")]


# ---------------------------------------------------------------- where a run resumes


def test_no_cursor_or_one_not_ours_starts_a_backfill():
    assert _Cursor.read(None) == _Cursor(phase="backfill", entity=0, start=1)
    assert _Cursor.read("not json") == _Cursor()
    assert _Cursor.read('{"phase": "somewhere"}') == _Cursor()


def test_change_data_capture_looks_back_thirty_days_at_most():
    now = clock.now()

    assert not _Cursor(phase="cdc", since=(now - timedelta(days=29)).isoformat()).expired()
    assert _Cursor(phase="cdc", since=(now - timedelta(days=30)).isoformat()).expired()
    assert _Cursor(phase="cdc", since=(now - timedelta(days=31)).isoformat()).expired()
    assert _Cursor(phase="cdc", since="2026-11-30T10:00:00").expired()  # no offset: not QuickBooks' time
    assert _Cursor(phase="cdc", since=None).expired()


def test_a_cursor_round_trips_as_text():
    cursor = _Cursor(entity=2, start=201, since="2026-11-30T10:00:00.000+00:00")

    assert _Cursor.read(cursor.text()) == cursor


# ---------------------------------------------------------------- the rotated refresh token


def connected(refresh_token: str) -> QuickBooksConnector:
    secret = Secret(client_id="c", client_secret="s", refresh_token=refresh_token, webhook_verifier_token="v")
    return QuickBooksConnector(Settings(realm_id=REALM), secret)


def test_a_rotated_refresh_token_is_handed_back_to_be_stored():
    rotated = connected("RT-old")
    rotated._auth = SimpleNamespace(refresh_token="RT-new")
    kept = connected("RT-same")
    kept._auth = SimpleNamespace(refresh_token="RT-same")

    assert rotated.rotated_secret() == {
        "clientId": "c",
        "clientSecret": "s",
        "refreshToken": "RT-new",
        "webhookVerifierToken": "v",
    }
    assert kept.rotated_secret() is None
    assert connected("RT-unused").rotated_secret() is None  # never connected


def test_quickbooks_has_no_field_for_the_customer_page_link():
    from relance.domain.sync import CustomerLink

    assert connected("RT").write_back_link(CustomerLink(customer_external_id="1", url="https://x.example")) is False


def test_the_stand_in_counts_dates_from_relances_clock(company):
    issued = {invoice["TxnDate"] for invoice in company.records["Invoice"].values()}

    assert (company.seeded_at.date() - timedelta(days=150)).isoformat() in issued
    assert max(date.fromisoformat(day) for day in issued) == company.seeded_at.date() - timedelta(days=2)
