"""Invoices, payments, credit notes and refunds, written so that money is never lost.

Each write is one DynamoDB transaction over the record, the invoices it settles (each
guarded by the version read) and the customer's running state (open items, credit). A
concurrent write makes the transaction fail; it is then re-read and retried.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from relance import clock
from relance.domain.ledger import (
    CreditNoteFields,
    Invoice,
    InvoiceBalance,
    InvoiceFields,
    InvoicePatch,
    InvoiceStatus,
    MoneyFields,
    MoneyRecord,
    PaymentFields,
    RefundFields,
    check_unique_invoices,
    unapplied,
)
from relance.domain.organizations import Principal
from relance.errors import Conflict, Invalid, NotFound
from relance.ids import new_id
from relance.services import ratings, synced_fields, timeline
from relance.services.access import require_admin
from relance.services.customers import check_can_see_customer, must_exist
from relance.services.nudges import nudge
from relance.services.pagination import paginate
from relance.storage import customers as customer_store
from relance.storage import ledger as store
from relance.storage.table import TransactionCancelled, transact, with_retries


def open_item(invoice: dict[str, Any]) -> dict[str, Any]:
    """What the customer item keeps of an open invoice."""
    balance = InvoiceBalance.model_validate(invoice)
    return {"dueAt": invoice["dueAt"], "outstanding": balance.outstanding, "currency": invoice["currency"]}


def to_invoice(item: dict[str, Any]) -> Invoice:
    balance = InvoiceBalance.model_validate(item)
    return Invoice.model_validate(
        {
            "externalId": None,
            "pdfUrl": None,
            **item,
            "outstanding": balance.outstanding,
            "hasPdf": bool(item.get("pdfKey")),
            "paymentInFlight": bool(item.get("paymentInFlight")),
        }
    )


def _customer_side(org_id: str, invoice: dict[str, Any], now: str) -> dict[str, Any]:
    """The customer entry that mirrors an invoice's new state (open item kept or removed)."""
    if invoice["status"] == InvoiceStatus.OPEN:
        return customer_store.ledger_entry(
            org_id, invoice["customerId"], set_open={invoice["id"]: open_item(invoice)}, now=now
        )
    return customer_store.ledger_entry(org_id, invoice["customerId"], remove_open=[invoice["id"]], now=now)


# ---------------------------------------------------------------- invoices


def visible_invoice(principal: Principal, invoice_id: str) -> dict[str, Any]:
    item = store.get_invoice(principal.organization_id, invoice_id)
    if item is None:
        raise NotFound("invoice not found")
    try:
        check_can_see_customer(principal, item["customerId"])
    except NotFound as error:
        raise NotFound("invoice not found") from error
    return item


def get_invoice(principal: Principal, invoice_id: str) -> Invoice:
    return to_invoice(visible_invoice(principal, invoice_id))


def new_invoice_item(fields: InvoiceFields, now: str) -> dict[str, Any]:
    return {
        **fields.model_dump(by_alias=True, mode="json"),
        "id": new_id("inv"),
        "paidAmount": 0,
        "creditedAmount": 0,
        "status": InvoiceStatus.OPEN.value,
        "paidAt": None,
        "version": 0,
        "createdAt": now,
    }


def create_invoice(principal: Principal, fields: InvoiceFields) -> Invoice:
    require_admin(principal)
    must_exist(principal, fields.customer_id)
    org_id = principal.organization_id
    now = clock.now().isoformat()
    item = new_invoice_item(fields, now)
    try:
        transact(new_invoice_entries(org_id, item, now))
    except TransactionCancelled as error:
        if item.get("externalId") and error.reasons[1:2] == ["ConditionalCheckFailed"]:
            raise Conflict("externalId is already used by another invoice", {"externalId": "already used"}) from error
        raise
    ratings.refresh(org_id, fields.customer_id)
    nudge(org_id, fields.customer_id)
    return to_invoice(item)


def new_invoice_entries(org_id: str, item: dict[str, Any], now: str) -> list[dict[str, Any]]:
    """The entries that create an invoice: the invoice, its external id's guard, the customer's open item."""
    return [*store.new_invoice_entries(org_id, item), _customer_side(org_id, item, now)]


def _rewrite_invoice(
    principal: Principal, invoice_id: str, change: Callable[[dict[str, Any]], dict[str, Any]]
) -> Invoice:
    """Apply ``change(invoice) -> invoice`` under the invoice's version, with the customer side."""
    require_admin(principal)
    org_id = principal.organization_id

    def attempt() -> dict[str, Any]:
        before = visible_invoice(principal, invoice_id)
        after = change(dict(before))
        now = clock.now().isoformat()
        entries = [
            store.invoice_update_entry(org_id, after, int(before["version"])),
            *store.external_id_entries(org_id, invoice_id, before.get("externalId"), after.get("externalId")),
        ]
        if before["status"] != InvoiceStatus.VOIDED:
            entries.append(_customer_side(org_id, after, now))
        try:
            transact(entries)
        except TransactionCancelled as error:
            if "ConditionalCheckFailed" in error.reasons[2:3] and after.get("externalId"):
                raise Conflict(
                    "externalId is already used by another invoice", {"externalId": "already used"}
                ) from error
            raise
        return after

    after = with_retries(attempt)
    ratings.refresh(org_id, after["customerId"])
    nudge(org_id, after["customerId"])
    return to_invoice(after)


def update_invoice(principal: Principal, invoice_id: str, patch: InvoicePatch) -> Invoice:
    changes = patch.model_dump(by_alias=True, mode="json", exclude_unset=True)
    nulls = [k for k in ("number", "amount", "issuedAt", "dueAt") if k in changes and changes[k] is None]
    if nulls:
        raise Invalid("these fields cannot be cleared", dict.fromkeys(nulls, "required"))

    def change(invoice: dict[str, Any]) -> dict[str, Any]:
        if invoice["status"] == InvoiceStatus.VOIDED:
            raise Conflict("a voided invoice cannot change")
        synced_fields.check_change(principal, invoice, changes)
        invoice.update(changes)
        if date.fromisoformat(invoice["dueAt"]) < date.fromisoformat(invoice["issuedAt"]):
            raise Invalid("dueAt cannot be before issuedAt", {"dueAt": "before issuedAt"})
        applied = int(invoice["paidAmount"]) + int(invoice["creditedAmount"])
        if int(invoice["amount"]) < applied:
            raise Invalid("amount is below what was already paid", {"amount": f"at least {applied}"})
        paid = int(invoice["amount"]) == applied
        invoice["status"] = InvoiceStatus.PAID.value if paid else InvoiceStatus.OPEN.value
        invoice["paidAt"] = (invoice.get("paidAt") or clock.now().date().isoformat()) if paid else None
        return invoice

    return _rewrite_invoice(principal, invoice_id, change)


def void_invoice(principal: Principal, invoice_id: str) -> Invoice:
    def change(invoice: dict[str, Any]) -> dict[str, Any]:
        if invoice["status"] == InvoiceStatus.VOIDED:
            return invoice
        synced_fields.check_managed(principal, invoice, "invoice")
        balance = InvoiceBalance.model_validate(invoice).void()
        return {**invoice, "status": balance.status.value}

    return _rewrite_invoice(principal, invoice_id, change)


def list_invoices(
    principal: Principal,
    customer_id: str | None,
    status: InvoiceStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Invoice], str | None]:
    """Invoices of one customer (or, for an admin, of the organization), newest issue date first."""
    org_id = principal.organization_id
    if customer_id:
        check_can_see_customer(principal, customer_id)
        items = store.records_of(org_id, customer_id, "invoice")
    else:
        require_admin(principal)
        items = store.invoices_of_organization(org_id)
    rows = [to_invoice(i) for i in items if status is None or i["status"] == status]
    return paginate(rows, lambda i: (i.issued_at.isoformat(), i.id), limit=limit, cursor=cursor, descending=True)


# ---------------------------------------------------------------- money in


def settled_invoice(invoice: dict[str, Any], kind: str, amount: int, on: date, field: str) -> dict[str, Any]:
    """The invoice after ``amount`` of a payment (or credit note) is applied to it on ``on``."""
    balance = InvoiceBalance.model_validate(invoice)
    applied = {"paid": amount} if kind == "payment" else {"credited": amount}
    after = balance.settle(**applied, on=on, field=field)
    return {
        **invoice,
        "paidAmount": after.paid_amount,
        "creditedAmount": after.credited_amount,
        "status": after.status.value,
        "paidAt": after.paid_at.isoformat() if after.paid_at else None,
    }


def new_money_record(kind: str, fields: MoneyFields, record_id: str, now: str) -> dict[str, Any]:
    """A payment or credit note as stored, with what its allocations leave unapplied."""
    return {
        **fields.model_dump(by_alias=True, mode="json"),
        "id": record_id,
        "kind": kind,
        "unapplied": unapplied(fields.amount, fields.allocations),
        "version": 0,
        "createdAt": now,
    }


def _settle(principal: Principal, fields: MoneyFields, kind: str, on: date) -> list[tuple[dict[str, Any], int]]:
    """The invoices after ``fields.allocations`` are applied, each with the version it had."""
    check_unique_invoices(fields.allocations)
    settled = []
    for index, allocation in enumerate(fields.allocations):
        where = f"allocations[{index}]"
        invoice = store.get_invoice(principal.organization_id, allocation.invoice_id)
        if invoice is None or invoice["customerId"] != fields.customer_id:
            raise Invalid(
                "unknown invoice for this customer",
                {f"{where}.invoiceId": "no such invoice of this customer"},
            )
        if invoice["currency"] != fields.currency:
            raise Invalid("currencies differ", {f"{where}.invoiceId": f"the invoice is in {invoice['currency']}"})
        new = settled_invoice(invoice, kind, allocation.amount, on, f"{where}.amount")
        settled.append((new, int(invoice["version"])))
    return settled


def _record_money(
    principal: Principal, kind: str, fields: PaymentFields | CreditNoteFields, record_id: str | None
) -> MoneyRecord:
    require_admin(principal)
    org_id = principal.organization_id
    record_id = record_id or new_id("pay" if kind == "payment" else "crn")
    existing = store.get_record(org_id, kind, record_id)
    if existing is not None:  # a retried request with the same id: already recorded
        return MoneyRecord.model_validate(existing)
    must_exist(principal, fields.customer_id)
    left = unapplied(fields.amount, fields.allocations)
    on = fields.received_at if isinstance(fields, PaymentFields) else fields.issued_at

    applied: list[dict[str, Any]] = []

    def attempt() -> dict[str, Any]:
        settled = _settle(principal, fields, kind, on)
        applied[:] = [inv for inv, _ in settled]
        now = clock.now().isoformat()
        record = new_money_record(kind, fields, record_id, now)
        still_open = {inv["id"]: open_item(inv) for inv, _ in settled if inv["status"] == InvoiceStatus.OPEN}
        paid_off = [inv["id"] for inv, _ in settled if inv["status"] != InvoiceStatus.OPEN]
        customer_side = customer_store.ledger_entry(
            org_id,
            fields.customer_id,
            set_open=still_open,
            remove_open=paid_off,
            credit_delta={fields.currency: left} if left else None,
            now=now,
        )
        transact(
            [
                store.new_record_entry(org_id, kind, record, on.isoformat()),
                *(store.invoice_update_entry(org_id, inv, version) for inv, version in settled),
                customer_side,
            ]
        )
        return record

    record: dict[str, Any] = with_retries(attempt)
    _on_timeline(org_id, kind, record, applied, fields, left, on)
    ratings.refresh(org_id, fields.customer_id)
    nudge(org_id, fields.customer_id)  # a reminder must not follow a payment
    return MoneyRecord.model_validate(record)


def _on_timeline(
    org_id: str,
    kind: str,
    record: dict[str, Any],
    invoices: list[dict[str, Any]],
    fields: PaymentFields | CreditNoteFields,
    left: int,
    on: date,
) -> None:
    """The payment (or credit note) on the timelines, with each invoice it settles and what it still owes."""
    amounts = {a.invoice_id: a.amount for a in fields.allocations}
    timeline.record(
        org_id,
        fields.customer_id,
        [i["id"] for i in invoices],
        kind,
        record["createdAt"],
        record["id"],
        {
            "amount": fields.amount,
            "currency": fields.currency,
            "on": on.isoformat(),
            "unapplied": left,
            "allocations": [
                {
                    "invoiceId": i["id"],
                    "number": i.get("number"),
                    "amount": amounts.get(i["id"], 0),
                    "dueAt": i.get("dueAt"),
                    "outstanding": InvoiceBalance.model_validate(i).outstanding,
                    "status": i.get("status"),
                }
                for i in invoices
            ],
        },
    )


def record_payment(principal: Principal, fields: PaymentFields, payment_id: str | None = None) -> MoneyRecord:
    """Record money received; allocations settle invoices, the rest is unapplied credit."""
    return _record_money(principal, "payment", fields, payment_id)


def record_credit_note(
    principal: Principal, fields: CreditNoteFields, credit_note_id: str | None = None
) -> MoneyRecord:
    """Record a credit note; with ``credit_note_id``, a second call with the same id records nothing."""
    return _record_money(principal, "credit_note", fields, credit_note_id)


def record_refund(principal: Principal, fields: RefundFields, refund_id: str | None = None) -> MoneyRecord:
    """Money given back to the customer: it consumes credit (unapplied payments and credit notes); with
    ``refund_id``, a second call with the same id records nothing."""
    require_admin(principal)
    org_id = principal.organization_id
    record_id = refund_id or new_id("ref")
    existing = store.get_record(org_id, "refund", record_id)
    if existing is not None:  # a retried write with the same id: already recorded
        return MoneyRecord.model_validate(existing)
    must_exist(principal, fields.customer_id)

    def attempt() -> dict[str, Any]:
        customer = customer_store.get_customer(org_id, fields.customer_id, consistent=True) or {}
        available = int(customer.get("credit", {}).get(fields.currency, 0))
        if fields.amount > available:
            raise Invalid("nothing to refund that much from", {"amount": f"the customer's credit is {available}"})
        now = clock.now().isoformat()
        entries = []
        if fields.credit_note_id:
            note = store.get_record(org_id, "credit_note", fields.credit_note_id)
            if note is None or note["customerId"] != fields.customer_id or note["currency"] != fields.currency:
                raise Invalid("unknown credit note", {"creditNoteId": "no such credit note of this customer"})
            if int(note["unapplied"]) < fields.amount:
                raise Invalid("refund exceeds the credit note", {"amount": f"at most {note['unapplied']}"})
            entries.append(
                store.record_unapplied_entry(org_id, "credit_note", note["id"], -fields.amount, int(note["version"]))
            )
        record = {
            **fields.model_dump(by_alias=True, mode="json"),
            "id": record_id,
            "kind": "refund",
            "createdAt": now,
        }
        entries.append(store.new_record_entry(org_id, "refund", record, fields.refunded_at.isoformat()))
        entries.append(
            customer_store.ledger_entry(
                org_id,
                fields.customer_id,
                credit_delta={fields.currency: -fields.amount},
                require_credit={fields.currency: fields.amount},
                now=now,
            )
        )
        transact(entries)
        return record

    return MoneyRecord.model_validate(with_retries(attempt))


def get_record(principal: Principal, kind: str, record_id: str) -> MoneyRecord:
    item = store.get_record(principal.organization_id, kind, record_id)
    if item is None:
        raise NotFound(f"{kind.replace('_', ' ')} not found")
    try:
        check_can_see_customer(principal, item["customerId"])
    except NotFound as error:
        raise NotFound(f"{kind.replace('_', ' ')} not found") from error
    return MoneyRecord.model_validate(item)


def list_records(
    principal: Principal, kind: str, customer_id: str, limit: int, cursor: str | None
) -> tuple[list[MoneyRecord], str | None]:
    check_can_see_customer(principal, customer_id)
    rows = [MoneyRecord.model_validate(i) for i in store.records_of(principal.organization_id, customer_id, kind)]
    return paginate(rows, lambda r: (r.created_at.isoformat(), r.id), limit=limit, cursor=cursor, descending=True)
