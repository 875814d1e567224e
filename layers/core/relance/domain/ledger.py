"""The receivables ledger: invoices, the money that settles them, and what a customer owes.

Outstanding, per currency = Σ open invoice balances − available credit, where credit =
unapplied payments + unapplied credit notes − refunds. That is Σ invoices − Σ payments
− Σ credit notes + Σ refunds over the whole ledger (voided invoices count for nothing): a
refund gives money back, so it consumes a credit balance. See docs/ledger.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, PositiveInt, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from relance.domain.base import Record, RelanceModel
from relance.domain.money import Amount, CurrencyCode
from relance.errors import Invalid


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    VOIDED = "voided"


class Allocation(RelanceModel):
    """Part of a payment or credit note applied to one invoice."""

    invoice_id: str
    amount: Amount


class OpenItem(Record):
    """What the customer record keeps of each open invoice: enough for overdue and aging."""

    due_at: date
    outstanding: int
    currency: CurrencyCode


class InvoiceBalance(Record):
    """The money side of an invoice."""

    amount: PositiveInt
    currency: CurrencyCode
    paid_amount: int = 0
    credited_amount: int = 0
    status: InvoiceStatus = InvoiceStatus.OPEN
    paid_at: date | None = None

    @property
    def outstanding(self) -> int:
        if self.status == InvoiceStatus.VOIDED:
            return 0
        return self.amount - self.paid_amount - self.credited_amount

    def settle(self, *, paid: int = 0, credited: int = 0, on: date, field: str) -> InvoiceBalance:
        """This balance after ``paid``/``credited`` (minor units) are applied on ``on``.

        Refuses (naming ``field``) money applied to a voided invoice or beyond what is due.
        """
        if self.status == InvoiceStatus.VOIDED:
            raise Invalid("cannot apply money to a voided invoice", {field: "the invoice is voided"})
        applied = paid + credited
        if applied > self.outstanding:
            raise Invalid(
                "allocation exceeds what the invoice still owes",
                {field: f"at most {self.outstanding} can be applied to this invoice"},
            )
        settled = self.model_copy(
            update={
                "paid_amount": self.paid_amount + paid,
                "credited_amount": self.credited_amount + credited,
            }
        )
        if settled.outstanding == 0:
            return settled.model_copy(update={"status": InvoiceStatus.PAID, "paid_at": on})
        return settled

    def void(self) -> InvoiceBalance:
        if self.paid_amount or self.credited_amount:
            raise Invalid(
                "an invoice with payments or credits applied cannot be voided",
                {"status": "remove or reallocate its payments first"},
            )
        return self.model_copy(update={"status": InvoiceStatus.VOIDED})


def unapplied(amount: int, allocations: Iterable[Allocation], field: str = "allocations") -> int:
    """What is left of ``amount`` after its allocations; refuses allocating more than it."""
    allocated = sum(a.amount for a in allocations)
    if allocated > amount:
        raise Invalid("allocations exceed the amount", {field: f"they add up to {allocated} > {amount}"})
    return amount - allocated


def check_unique_invoices(allocations: list[Allocation], field: str = "allocations") -> None:
    ids = [a.invoice_id for a in allocations]
    if len(ids) != len(set(ids)):
        raise Invalid("an invoice appears twice in the allocations", {field: "one line per invoice"})


class Balance(RelanceModel):
    """A customer's standing in one currency."""

    currency: CurrencyCode
    open_invoices: int = 0
    credit: int = 0
    overdue: int = 0

    @property
    def outstanding(self) -> int:
        return self.open_invoices - self.credit


def balances(open_items: Iterable[OpenItem], credit: dict[str, int], today: date) -> dict[str, Balance]:
    """Per-currency balances from a customer's open items and credit on ``today``."""
    result: dict[str, Balance] = {}
    for item in open_items:
        balance = result.setdefault(item.currency, Balance(currency=item.currency))
        balance.open_invoices += item.outstanding
        if item.due_at < today:
            balance.overdue += item.outstanding
    for currency, amount in credit.items():
        if amount:
            result.setdefault(currency, Balance(currency=currency)).credit += amount
    return result


class LedgerTotals(RelanceModel):
    """Sums of a whole ledger, for the nightly reconciliation."""

    invoiced: dict[str, int] = Field(default_factory=dict)
    paid: dict[str, int] = Field(default_factory=dict)
    credited: dict[str, int] = Field(default_factory=dict)
    refunded: dict[str, int] = Field(default_factory=dict)

    def outstanding(self) -> dict[str, int]:
        currencies = set(self.invoiced) | set(self.paid) | set(self.credited) | set(self.refunded)
        return {
            c: self.invoiced.get(c, 0) - self.paid.get(c, 0) - self.credited.get(c, 0) + self.refunded.get(c, 0)
            for c in sorted(currencies)
        }


class InvoiceFields(RelanceModel):
    customer_id: str
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^#]+$")] | None = None
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    currency: CurrencyCode
    amount: Amount
    issued_at: date
    due_at: date
    pdf_url: Annotated[str, StringConstraints(max_length=2000, pattern=r"^https://")] | None = None

    @field_validator("due_at")
    @classmethod
    def _due_after_issue(cls, due_at: date, info: ValidationInfo) -> date:
        issued_at = info.data.get("issued_at")
        if issued_at is not None and due_at < issued_at:
            raise PydanticCustomError("due_before_issue", "cannot be before issuedAt")
        return due_at


class InvoicePatch(RelanceModel):
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^#]+$")] | None = None
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None = None
    amount: Amount | None = None
    issued_at: date | None = None
    due_at: date | None = None
    pdf_url: Annotated[str, StringConstraints(max_length=2000, pattern=r"^https://")] | None = None


class InvoiceDispute(RelanceModel):
    """A dispute the customer opened (on the portal): the invoice is out of dunning until resolved."""

    reason: str
    comment: str | None = None
    at: AwareDatetime
    by: str


class Invoice(Record):
    id: str
    customer_id: str
    external_id: str | None
    number: str
    currency: str
    amount: int
    issued_at: date
    due_at: date
    pdf_url: str | None
    has_pdf: bool = False
    paid_amount: int
    credited_amount: int
    outstanding: int
    status: InvoiceStatus
    paid_at: date | None
    created_at: AwareDatetime
    disputed: InvoiceDispute | None = None
    promised_until: date | None = None
    promise_broken: date | None = Field(
        default=None, description="the date of a promise to pay the customer did not keep (until reset-promise)"
    )
    promise_count: int = Field(
        default=0, description="promises the customer made on the portal (one allowed until reset-promise)"
    )
    payment_in_flight: bool = False
    synced_from: str | None = Field(default=None, description="the source system that manages it (integrations)")
    synced_fields: list[str] = Field(default_factory=list, description="its fields the source sets: read-only here")


class MoneyFields(RelanceModel):
    """A payment or credit note as a client sends it."""

    customer_id: str
    amount: Amount
    currency: CurrencyCode
    allocations: list[Allocation] = Field(default_factory=list, max_length=50)
    reference: Annotated[str, StringConstraints(max_length=100)] | None = None


class PaymentFields(MoneyFields):
    received_at: date


class CreditNoteFields(MoneyFields):
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None = None
    issued_at: date


class RefundFields(RelanceModel):
    customer_id: str
    amount: Amount
    currency: CurrencyCode
    refunded_at: date
    credit_note_id: str | None = None
    reference: Annotated[str, StringConstraints(max_length=100)] | None = None


class MoneyRecord(Record):
    """A payment, credit note or refund as stored and answered."""

    id: str
    kind: str
    customer_id: str
    amount: int
    currency: str
    allocations: list[Allocation] = Field(default_factory=list)
    unapplied: int = 0
    reference: str | None = None
    number: str | None = None
    received_at: date | None = None
    issued_at: date | None = None
    refunded_at: date | None = None
    credit_note_id: str | None = None
    created_at: AwareDatetime
