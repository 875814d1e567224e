"""The customer page in one answer: balances, rating, contacts, recent invoices, aging."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from relance import clock
from relance.domain.customers import AgingBuckets, Contact, Customer, aging
from relance.domain.ledger import Invoice, InvoiceStatus
from relance.domain.notes import Note
from relance.domain.organizations import Principal
from relance.domain.rating import expected_payment_date
from relance.services import notes
from relance.services.access import customer_item, visible
from relance.services.contacts import to_contact
from relance.services.customers import to_customer
from relance.services.ledger import to_invoice
from relance.storage import records as record_store

RECENT_INVOICES = 10


class OpenInvoice(Invoice):
    expected_payment_at: date
    days_late: int


class CustomerSummary(Customer):
    contacts: list[Contact]
    open_invoices: list[OpenInvoice]
    recent_invoices: list[Invoice]
    aging: list[AgingBuckets]
    pinned_notes: list[Note] = Field(default_factory=list, description="pinned notes, newest first")


def customer_summary(principal: Principal, customer_id: str) -> CustomerSummary:
    """One Query of the customer's GSI1 partition from its contacts to its pinned notes: the customer itself,
    its contacts, invoices and pinned notes (credit notes, notes and payments between them come along)."""
    org_id = principal.organization_id
    records = record_store.customer_kinds(org_id, customer_id, "CON", "PINNED")
    # (a customer written before it had its place in GSI1 is read apart, until the nightly run places it)
    item = visible(principal, records["CUS"][0]) if records.get("CUS") else customer_item(principal, customer_id)
    today = clock.now().date()
    customer = to_customer(item, today)
    invoices = [to_invoice(i) for i in records.get("INV", [])]
    open_invoices = sorted(
        (
            OpenInvoice(
                **invoice.model_dump(),
                expected_payment_at=expected_payment_date(invoice.due_at, customer.average_payment_delay_days),
                days_late=max(0, (today - invoice.due_at).days),
            )
            for invoice in invoices
            if invoice.status == InvoiceStatus.OPEN
        ),
        key=lambda i: (i.due_at, i.id),
    )
    buckets: dict[str, AgingBuckets] = {}
    for invoice in open_invoices:
        bucket = buckets.setdefault(invoice.currency, AgingBuckets(currency=invoice.currency))
        field = aging(invoice.due_at, today)
        setattr(bucket, field, getattr(bucket, field) + invoice.outstanding)
    recent = sorted(invoices, key=lambda i: (i.issued_at, i.id), reverse=True)[:RECENT_INVOICES]
    contacts = [to_contact(c, item.get("mainContactId")) for c in records.get("CON", [])]
    return CustomerSummary(
        **customer.model_dump(),
        contacts=contacts,
        open_invoices=open_invoices,
        recent_invoices=recent,
        aging=list(buckets.values()),
        pinned_notes=notes.shown_newest_first(records.get("PINNED", [])),
    )
