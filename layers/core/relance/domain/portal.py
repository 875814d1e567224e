"""What the customer portal shows and allows: payment methods, the statement, disputes and promises.

Pure rules, no I/O: the services feed them the customer's ledger and the organization's settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import EmailStr, Field, StringConstraints

from relance.domain.base import RelanceModel
from relance.domain.customers import AgingBuckets, PaymentMethods, aging
from relance.domain.ledger import InvoiceBalance, InvoiceStatus
from relance.domain.money import Money
from relance.domain.stripe_amounts import PRESENTMENT
from relance.errors import Invalid, RelanceError

MAX_PROMISE_DAYS = 90
MAX_INVOICES_PER_PAYMENT = 50
PROMISES_PER_INVOICE = 1
"""Promises a customer can make on the portal for one invoice, until the team clears them."""


# ---------------------------------------------------------------- refusals, in the visitor's language

NO_METHOD = "No online payment method for this amount: pay fewer invoices at once by card, or by bank transfer."
CURRENCY_NOT_PAYABLE = "Online payment in %(currency)s is not available: please pay by bank transfer."
TOO_MANY_INVOICES = "Please pay at most %(count)s invoices at once."
BELOW_MINIMUM = "An online payment is at least %(amount)s: select more invoices, or pay by bank transfer."
ABOVE_MAXIMUM = "An online payment is at most %(amount)s: pay fewer invoices at once, or by bank transfer."
PAYMENT_REFUSED = "Online payment could not be started for these invoices: please pay by bank transfer or write to us."
PAYMENT_UNAVAILABLE = "Online payment is not available right now: please try again later, or pay by bank transfer."
PROMISE_RUNNING = "Invoice %(number)s is already promised for %(day)s: please write to us to change the date."
PROMISE_USED = "You already promised to pay invoice %(number)s: please write to us to agree on a new date."
REFUSALS = (
    NO_METHOD,
    CURRENCY_NOT_PAYABLE,
    TOO_MANY_INVOICES,
    BELOW_MINIMUM,
    ABOVE_MAXIMUM,
    PAYMENT_REFUSED,
    PAYMENT_UNAVAILABLE,
    PROMISE_RUNNING,
    PROMISE_USED,
)
"""What the portal can refuse in words of its own: English gettext messages (``templates/portal/locale``)."""

Param = str | int | Money | date


class PortalRefused(RelanceError):
    """The portal refuses what the visitor asked, saying why in the visitor's language.

    ``text`` is one of ``REFUSALS`` with ``%(name)s`` placeholders and ``params`` their values;
    the portal translates the text and formats amounts and days for the language. ``message``
    is the English text (logs, tests); ``fields`` names what to change.
    """

    code = "refused"

    def __init__(self, text: str, fields: dict[str, str], status: int = 422, **params: Param) -> None:
        super().__init__(text % {k: _english(v) for k, v in params.items()}, fields)
        self.text = text
        self.params = params
        self.status = status


def _english(value: Param) -> str:
    if isinstance(value, Money):
        return value.format("en")
    return value.isoformat() if isinstance(value, date) else str(value)


class Method(StrEnum):
    """A way to pay online, named as in the customer's ``paymentMethods``."""

    CARD = "card"
    ACH_DEBIT = "ach_debit"
    SEPA_DEBIT = "sepa_debit"
    BANK_TRANSFER = "bank_transfer"


STRIPE_TYPES = {
    Method.CARD: "card",
    Method.ACH_DEBIT: "us_bank_account",
    Method.SEPA_DEBIT: "sepa_debit",
    Method.BANK_TRANSFER: "customer_balance",
}
"""Our method → Stripe Checkout's ``payment_method_types`` entry."""

CURRENCIES = {
    Method.ACH_DEBIT: {"USD"},
    Method.SEPA_DEBIT: {"EUR"},
    Method.BANK_TRANSFER: {"USD", "EUR", "GBP", "JPY", "MXN"},
}
"""Currencies Stripe supports for a method (card takes them all)."""


def payment_methods(enabled: PaymentMethods, currency: str, amount: int, card_limit: int | None) -> list[Method]:
    """The methods offered for paying ``amount``: enabled for the customer, able to take the
    currency (none in a currency Stripe does not charge), and card only up to the organization's
    limit (card fees on large amounts)."""
    offered: list[Method] = []
    if currency not in PRESENTMENT:
        return offered  # Stripe cannot charge in this currency
    for method in Method:
        if not getattr(enabled, method.value, False):
            continue
        if currency not in CURRENCIES.get(method, {currency}):
            continue
        if method == Method.CARD and card_limit is not None and amount > card_limit:
            continue
        offered.append(method)
    return offered


def link_open(expires_at: str, now: datetime) -> bool:
    """A portal link works until its expiry, excluded (DynamoDB's TTL deletes it only later)."""
    return now < datetime.fromisoformat(expires_at)


# ---------------------------------------------------------------- the statement


class StatementLine(RelanceModel):
    """An open invoice on the statement."""

    invoice_id: str
    number: str
    issued_at: date
    due_at: date
    amount: int
    outstanding: int
    days_late: int


class StatementCredit(RelanceModel):
    """Money received or credited that is not applied to an invoice yet."""

    kind: str  # payment, credit_note
    reference: str
    on: date
    amount: int


class CurrencyStatement(RelanceModel):
    currency: str
    lines: list[StatementLine] = Field(default_factory=list)
    credits: list[StatementCredit] = Field(default_factory=list)
    refunds: int = 0
    aging: AgingBuckets

    @property
    def open_total(self) -> int:
        return sum(line.outstanding for line in self.lines)

    @property
    def credit_total(self) -> int:
        return sum(c.amount for c in self.credits) - self.refunds

    @property
    def balance(self) -> int:
        return self.open_total - self.credit_total

    @property
    def overdue(self) -> int:
        return sum(line.outstanding for line in self.lines if line.days_late > 0)


def statement(
    invoices: Iterable[dict[str, Any]],
    money: Iterable[dict[str, Any]],
    refunds: Iterable[dict[str, Any]],
    today: date,
) -> list[CurrencyStatement]:
    """The customer's statement per currency on ``today``: open items oldest due first, unapplied
    credits, refunds (which consume credit), balance and aging. The balance is the customer's
    outstanding (docs/ledger.md)."""
    by_currency: dict[str, CurrencyStatement] = {}

    def of(currency: str) -> CurrencyStatement:
        return by_currency.setdefault(
            currency, CurrencyStatement(currency=currency, aging=AgingBuckets(currency=currency))
        )

    for invoice in invoices:
        balance = InvoiceBalance.model_validate(invoice)
        if balance.status != InvoiceStatus.OPEN or balance.outstanding <= 0:
            continue
        due_at = date.fromisoformat(str(invoice["dueAt"])[:10])
        part = of(balance.currency)
        part.lines.append(
            StatementLine(
                invoice_id=invoice["id"],
                number=invoice["number"],
                issued_at=date.fromisoformat(str(invoice["issuedAt"])[:10]),
                due_at=due_at,
                amount=balance.amount,
                outstanding=balance.outstanding,
                days_late=max(0, (today - due_at).days),
            )
        )
        bucket = aging(due_at, today)
        setattr(part.aging, bucket, getattr(part.aging, bucket) + balance.outstanding)
    for record in money:
        left = int(record.get("unapplied", 0))
        if left > 0:
            on = record.get("receivedAt") or record.get("issuedAt") or record["createdAt"]
            of(record["currency"]).credits.append(
                StatementCredit(
                    kind=record["kind"], reference=record["id"], on=date.fromisoformat(str(on)[:10]), amount=left
                )
            )
    for refund in refunds:
        if not refund.get("creditNoteId"):  # a credit note's refund already lowered its unapplied amount
            of(refund["currency"]).refunds += int(refund["amount"])
    for part in by_currency.values():
        part.lines.sort(key=lambda line: (line.due_at, line.number))
        part.credits.sort(key=lambda credit: credit.on)
    return [by_currency[c] for c in sorted(by_currency)]


# ---------------------------------------------------------------- what the visitor sends

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class PortalMessage(RelanceModel):
    body: Text
    email: EmailStr | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class Dispute(RelanceModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class Promise(RelanceModel):
    invoice_ids: list[str] = Field(min_length=1, max_length=MAX_INVOICES_PER_PAYMENT)
    promised_for: date
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


def check_promise_date(promised_for: date, today: date) -> None:
    """A promise is for today or a later day, at most MAX_PROMISE_DAYS ahead."""
    if promised_for < today:
        raise Invalid("a promise to pay is for today or later", {"promisedFor": "the date is in the past"})
    if promised_for > today + timedelta(days=MAX_PROMISE_DAYS):
        raise Invalid(
            "a promise to pay is at most 90 days ahead",
            {"promisedFor": f"at most {MAX_PROMISE_DAYS} days from today"},
        )


def under_promise(invoice: dict[str, Any], today: date) -> bool:
    """An invoice promised for ``today`` or later is left alone; a day after, dunning takes it back."""
    promised = invoice.get("promisedUntil")
    return bool(promised) and date.fromisoformat(str(promised)[:10]) >= today


def promise_broken(invoice: dict[str, Any], today: date) -> bool:
    """Still open the day after the promised date."""
    promised = invoice.get("promisedUntil")
    open_balance = InvoiceBalance.model_validate(invoice)
    return (
        bool(promised)
        and open_balance.status == InvoiceStatus.OPEN
        and open_balance.outstanding > 0
        and date.fromisoformat(str(promised)[:10]) < today
    )


def check_promise_allowed(invoice: dict[str, Any], today: date) -> None:
    """A customer promises once per invoice on the portal: not while a promise runs, not after one
    (kept running or broken) until the team clears it (``POST /v1/invoices/{id}/reset-promise``)."""
    if under_promise(invoice, today):
        raise PortalRefused(
            PROMISE_RUNNING,
            {"invoiceIds": f"invoice {invoice['number']} is already promised"},
            409,
            number=invoice["number"],
            day=date.fromisoformat(str(invoice["promisedUntil"])[:10]),
        )
    if invoice.get("promiseBroken") or int(invoice.get("promiseCount") or 0) >= PROMISES_PER_INVOICE:
        raise PortalRefused(
            PROMISE_USED,
            {"invoiceIds": f"invoice {invoice['number']} was already promised"},
            409,
            number=invoice["number"],
        )


def in_flight_expired(since: date, today: date, days: int) -> bool:
    """A payment on its way since ``since`` holds the invoices ``days`` days; the day after, they
    are back in dunning (a bank transfer never sent must not hold them forever)."""
    return today > since + timedelta(days=days)
