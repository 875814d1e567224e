"""Source-system sync: the records a connector hands over, in Relance's terms (docs/integrations.md).

A connector (``relance.sync``) reads a billing, accounting or CRM tool and maps each source record
to one of the models below: amounts already in integer minor units of the currency (ISO 4217
exponent, as everywhere in Relance), dates as dates, and every record named by the source's own id
(``external_id``), which is how Relance finds it again: a second delivery of the same record
changes nothing. A record deleted or voided at the source comes back with ``voided=True`` (or as a
:class:`Removal`), never silently dropped. A record the connector could not map is a
:class:`RecordError` for the organization to review; the rest of the batch goes on.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from relance.domain.base import RelanceModel

IntegrationName = Literal["stripe", "quickbooks", "salesforce"]
INTEGRATIONS: tuple[IntegrationName, ...] = ("stripe", "quickbooks", "salesforce")

RecordKind = Literal["customer", "contact", "invoice", "payment", "credit_note", "refund", "account_owner"]


class SourceContact(RelanceModel):
    """A person to write to at a customer; ``email`` is the natural key within the customer."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    job_title: str | None = None
    is_main: bool = False


class SourceCustomer(RelanceModel):
    """A customer (Stripe customer, QuickBooks customer, Salesforce account)."""

    kind: Literal["customer"] = "customer"
    external_id: str
    name: str
    currency: str | None = None
    language: str | None = None
    # The contacts the source knows, all of them: a contact the source no longer lists is not deleted
    # here (people add contacts by hand in Relance), but its synced fields stop being refreshed.
    contacts: list[SourceContact] = Field(default_factory=list)
    voided: bool = False


class SourceInvoice(RelanceModel):
    kind: Literal["invoice"] = "invoice"
    external_id: str
    customer_external_id: str
    number: str
    currency: str
    amount: int = Field(description="the invoice's total, in minor units")
    issued_at: date
    due_at: date
    pdf_url: str | None = None
    voided: bool = False


class SourceAllocation(RelanceModel):
    """The part of a payment or credit note applied to one invoice."""

    invoice_external_id: str
    amount: int


class SourcePayment(RelanceModel):
    kind: Literal["payment"] = "payment"
    external_id: str
    customer_external_id: str
    currency: str
    amount: int
    received_at: date
    allocations: list[SourceAllocation] = Field(default_factory=list)
    reference: str | None = None
    voided: bool = False


class SourceCreditNote(RelanceModel):
    kind: Literal["credit_note"] = "credit_note"
    external_id: str
    customer_external_id: str
    number: str | None = None
    currency: str
    amount: int
    issued_at: date
    allocations: list[SourceAllocation] = Field(default_factory=list)
    voided: bool = False


class SourceRefund(RelanceModel):
    kind: Literal["refund"] = "refund"
    external_id: str
    customer_external_id: str
    currency: str
    amount: int
    refunded_at: date
    credit_note_external_id: str | None = None
    reference: str | None = None
    voided: bool = False


class SourceAccountOwner(RelanceModel):
    """A CRM account owner: invited as an account manager, assigned to the customers listed."""

    kind: Literal["account_owner"] = "account_owner"
    external_id: str
    email: str
    first_name: str | None = None
    last_name: str | None = None
    customer_external_ids: list[str] = Field(default_factory=list)


class SourceContactUpdate(RelanceModel):
    """Contacts of a customer known to the CRM (Salesforce contacts with their titles)."""

    kind: Literal["contact"] = "contact"
    customer_external_id: str
    contacts: list[SourceContact]


SourceRecord = (
    SourceCustomer
    | SourceInvoice
    | SourcePayment
    | SourceCreditNote
    | SourceRefund
    | SourceAccountOwner
    | SourceContactUpdate
)


class Removal(RelanceModel):
    """A record deleted at the source (known only by its id): voided here, never dropped."""

    kind: RecordKind
    external_id: str


class RecordError(RelanceModel):
    """A source record the connector could not map: kept for the organization to review."""

    kind: RecordKind
    external_id: str
    message: str


class Batch(RelanceModel):
    """One page of changes: apply the records and removals in order, then keep ``cursor``.

    ``more`` says another page follows at once (a backfill or a long delta); ``cursor`` is opaque to
    everything but the connector that made it, and saving it only after the page is applied makes a
    run resumable: a run that fails starts again from the last cursor, and applying a page twice
    changes nothing.
    """

    records: list[SourceRecord] = Field(default_factory=list)
    removals: list[Removal] = Field(default_factory=list)
    errors: list[RecordError] = Field(default_factory=list)
    cursor: str | None = None
    more: bool = False


class PaymentWriteBack(RelanceModel):
    """A payment recorded in Relance (a portal payment) for the source to record too."""

    payment_id: str
    customer_external_id: str
    invoice_external_id: str
    currency: str
    amount: int
    received_at: date
    reference: str | None = None


class CustomerLink(RelanceModel):
    """Where the CRM account links to its Relance customer page (Salesforce's configured field)."""

    customer_external_id: str
    url: str
