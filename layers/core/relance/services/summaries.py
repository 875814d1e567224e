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
from relance.services.contacts import to_contact
from relance.services.customers import customer_item, to_customer
from relance.services.ledger import to_invoice
from relance.storage import contacts as contact_store
from relance.storage import ledger as ledger_store

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
    """GetItem of the customer, then one Query each for its contacts, its invoices and its pinned notes."""
    item = customer_item(principal, customer_id)
    today = clock.now().date()
    customer = to_customer(item, today)
    org_id = principal.organization_id
    invoices = [to_invoice(i) for i in ledger_store.records_of(org_id, customer_id, "invoice")]
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
    contacts = [to_contact(c, item.get("mainContactId")) for c in contact_store.contacts_of(org_id, customer_id)]
    return CustomerSummary(
        **customer.model_dump(),
        contacts=contacts,
        open_invoices=open_invoices,
        recent_invoices=recent,
        aging=list(buckets.values()),
        pinned_notes=notes.pinned_notes(org_id, customer_id),
    )
