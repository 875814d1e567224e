"""What the figures read of the ledger: each invoice with its dated settlements, and the money records.

The stored ledger keeps an invoice's running totals, not when each part was applied; the dates
come from the money records: a payment's allocations are applied on its ``receivedAt``, a credit
note's on its ``issuedAt`` (allocations are only made when the record is written).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from relance.domain.ledger import Invoice, InvoiceStatus, MoneyRecord


class MoneyKind(StrEnum):
    PAYMENT = "payment"
    CREDIT_NOTE = "credit_note"
    REFUND = "refund"


class Method(StrEnum):
    """How a payment came in: through the portal's online payment, or recorded by the team or API."""

    ONLINE = "online"
    RECORDED = "recorded"


@dataclass(frozen=True)
class Settlement:
    """Part of a payment or credit note applied to an invoice on a day."""

    on: date
    amount: int
    kind: MoneyKind = MoneyKind.PAYMENT


@dataclass(frozen=True)
class InvoiceHistory:
    """An invoice as the figures see it: its amount, dates, what settled it and when, and its marks today."""

    id: str
    customer_id: str
    currency: str
    amount: int
    issued_on: date
    due_on: date
    settlements: tuple[Settlement, ...] = ()
    disputed: bool = False
    promised_on: date | None = None

    def outstanding_on(self, day: date) -> int:
        """What the invoice still owed at the end of ``day`` (0 before it was issued)."""
        if self.issued_on > day:
            return 0
        return self.amount - sum(s.amount for s in self.settlements if s.on <= day)

    def paid_on(self, day: date) -> date | None:
        """The day it was fully settled, if that was on or before ``day``."""
        left = self.amount
        for settlement in sorted(self.settlements, key=lambda s: s.on):
            if settlement.on > day:
                return None
            left -= settlement.amount
            if left <= 0:
                return settlement.on
        return None


@dataclass(frozen=True)
class MoneyHistory:
    """A payment, credit note or refund: its day, and how much of it went to invoices."""

    id: str
    customer_id: str
    kind: MoneyKind
    currency: str
    amount: int
    on: date
    allocated: int = 0
    method: Method = Method.RECORDED

    @property
    def credit(self) -> int:
        """What it adds to the customer's credit: the unapplied part, or minus a refund."""
        if self.kind == MoneyKind.REFUND:
            return -self.amount
        return self.amount - self.allocated


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    @property
    def days(self) -> int:
        return self.last_day.day

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def back(self, count: int) -> Iterator[Month]:
        """The ``count`` months ending with this one, oldest first."""
        months = [self]
        while len(months) < count:
            months.append(months[-1].previous())
        return reversed(months)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def record_day(record: MoneyRecord) -> date:
    """The day a record took effect: received (payment), issued (credit note), refunded (refund)."""
    day = record.received_at or record.issued_at or record.refunded_at
    return day if day is not None else record.created_at.date()


def invoice_histories(invoices: Iterable[Invoice], records: Iterable[MoneyRecord]) -> list[InvoiceHistory]:
    """The histories of ``invoices`` from the records' allocations. Voided invoices are left out:
    the ledger does not keep when an invoice was voided, and a voided invoice never owed anything."""
    settlements: dict[str, list[Settlement]] = {}
    for record in records:
        if record.kind == MoneyKind.REFUND:
            continue
        for allocation in record.allocations:
            settlements.setdefault(allocation.invoice_id, []).append(
                Settlement(record_day(record), allocation.amount, MoneyKind(record.kind))
            )
    return [
        InvoiceHistory(
            id=invoice.id,
            customer_id=invoice.customer_id,
            currency=invoice.currency,
            amount=invoice.amount,
            issued_on=invoice.issued_at,
            due_on=invoice.due_at,
            settlements=tuple(sorted(settlements.get(invoice.id, []), key=lambda s: s.on)),
            disputed=invoice.disputed is not None,
            promised_on=invoice.promised_until,
        )
        for invoice in invoices
        if invoice.status != InvoiceStatus.VOIDED
    ]


def money_histories(records: Iterable[MoneyRecord], online_payment_ids: Collection[str] = ()) -> list[MoneyHistory]:
    """The records as the figures see them. A stored payment does not say how it came in: the
    caller names the online ones (the payments of paid portal checkouts)."""
    return [
        MoneyHistory(
            id=record.id,
            customer_id=record.customer_id,
            kind=MoneyKind(record.kind),
            currency=record.currency,
            amount=record.amount,
            on=record_day(record),
            allocated=sum(a.amount for a in record.allocations),
            method=Method.ONLINE if record.id in online_payment_ids else Method.RECORDED,
        )
        for record in records
    ]
