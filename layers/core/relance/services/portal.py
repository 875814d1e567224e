"""The customer portal's page: what a valid link shows, its documents, and the way back from Stripe.

Every entry point takes the presented token and resolves it first (``portal_links.resolve``):
a malformed, unknown or expired token, or one whose customer is gone, is NotFound, all alike.
Preview links (made by the team) show the same page but change nothing and leave no trace.
What a visitor sends (a payment, a message, a dispute, a promise) is ``portal_requests``: a page
view, the portal's most frequent request, imports none of it (docs/architecture.md, cold starts).
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from relance import clock
from relance.domain.base import RelanceModel
from relance.domain.customers import PaymentMethods
from relance.domain.ledger import InvoiceBalance, InvoiceStatus
from relance.domain.organizations import Organization
from relance.domain.portal import CurrencyStatement, payment_methods, statement, under_promise
from relance.errors import Conflict, NotFound
from relance.ids import stable_id
from relance.payments import stripe_checkout
from relance.services.organizations import get_organization
from relance.services.portal_links import PortalAccess, come_back, current, resolve
from relance.storage import checkouts, files
from relance.storage import customers as customer_store
from relance.storage import ledger as ledger_store

PAID_SHOWN = 50
DOWNLOAD_SECONDS = 300


class Visit(NamedTuple):
    access: PortalAccess
    organization: Organization
    customer: dict[str, Any]


def open_link(token: str) -> Visit:
    """The organization and customer behind a link; NotFound for anything but a valid one (a revoked
    link, or one whose customer is gone, alike)."""
    access = resolve(token)
    customer = current(access, customer_store.get_customer(access.organization_id, access.customer_id, consistent=True))
    return Visit(access, get_organization(access.organization_id), customer)


def changes_allowed(visit: Visit) -> None:
    """Conflict for a preview link: the team looks, nothing is sent."""
    if visit.access.preview:
        raise Conflict("this is a preview of the portal: nothing can be sent from it")


# ---------------------------------------------------------------- the page


class PortalInvoice(RelanceModel):
    id: str
    number: str
    currency: str
    amount: int
    outstanding: int
    issued_at: date
    due_at: date
    status: InvoiceStatus
    paid_at: date | None = None
    days_late: int = 0
    has_document: bool = False
    disputed_reason: str | None = None
    promised_until: date | None = None
    payment_in_flight: bool = False

    @property
    def payable(self) -> bool:
        return self.status == InvoiceStatus.OPEN and self.outstanding > 0 and not self.payment_in_flight


class PortalBalance(RelanceModel):
    currency: str
    outstanding: int
    overdue: int
    methods: list[str]


class PortalPage(RelanceModel):
    organization_name: str
    logo_url: str | None
    customer_name: str
    language: str
    balances: list[PortalBalance]
    open_invoices: list[PortalInvoice]
    paid_invoices: list[PortalInvoice]
    dispute_reasons: list[str]
    online_payment: bool
    card_limit: int | None
    can_write: bool
    last_payment: str | None = None


def _portal_invoice(item: dict[str, Any], today: date) -> PortalInvoice:
    balance = InvoiceBalance.model_validate(item)
    due_at = date.fromisoformat(item["dueAt"][:10])
    disputed = item.get("disputed") or {}
    return PortalInvoice(
        id=item["id"],
        number=item["number"],
        currency=item["currency"],
        amount=balance.amount,
        outstanding=balance.outstanding,
        issued_at=date.fromisoformat(item["issuedAt"][:10]),
        due_at=due_at,
        status=balance.status,
        paid_at=balance.paid_at,
        days_late=max(0, (today - due_at).days) if balance.status == InvoiceStatus.OPEN else 0,
        has_document=bool(item.get("pdfKey") or item.get("pdfUrl")),
        disputed_reason=disputed.get("reason"),
        promised_until=item["promisedUntil"] if under_promise(item, today) else None,
        payment_in_flight=bool(item.get("paymentInFlight")),
    )


def _ledger(org_id: str, customer_id: str, today: date) -> tuple[list[dict[str, Any]], list[CurrencyStatement]]:
    """The customer's invoices and its statement (open items, credits, refunds) on ``today``."""
    invoices = ledger_store.records_of(org_id, customer_id, "invoice")
    money = [
        *ledger_store.records_of(org_id, customer_id, "payment"),
        *ledger_store.records_of(org_id, customer_id, "credit_note"),
    ]
    refunds = ledger_store.records_of(org_id, customer_id, "refund")
    return invoices, statement(invoices, money, refunds, today)


def page(token: str, payment: str | None = None) -> PortalPage:
    """What the portal shows: balances, open invoices (oldest due first), recently paid ones."""
    visit = open_link(token)
    organization, customer = visit.organization, visit.customer
    today = clock.now().date()
    items, parts = _ledger(organization.id, customer["id"], today)
    invoices = [_portal_invoice(i, today) for i in items if i["status"] != InvoiceStatus.VOIDED]
    open_invoices = sorted((i for i in invoices if i.status == InvoiceStatus.OPEN), key=lambda i: (i.due_at, i.number))
    paid = sorted((i for i in invoices if i.status == InvoiceStatus.PAID), key=lambda i: i.paid_at or i.due_at)
    methods = PaymentMethods.of(customer)
    balances = [
        PortalBalance(
            currency=part.currency,
            outstanding=part.balance,
            overdue=part.overdue,
            methods=[m.value for m in payment_methods(methods, part.currency, 0, None)],
        )
        for part in parts
    ]
    _record_visit(visit, today)
    return PortalPage(
        organization_name=organization.name,
        logo_url=organization.settings.logo_url,
        customer_name=customer["name"],
        language=customer.get("language") or organization.settings.language,
        balances=balances,
        open_invoices=open_invoices,
        paid_invoices=list(reversed(paid))[:PAID_SHOWN],
        dispute_reasons=organization.settings.dispute_reasons,
        online_payment=stripe_checkout.enabled() and not visit.access.preview,
        card_limit=organization.settings.card_payment_limit,
        can_write=not visit.access.preview,
        last_payment=_checkout_status(organization.id, customer["id"], payment),
    )


def _checkout_status(org_id: str, customer_id: str, checkout_id: str | None) -> str | None:
    """How the payment the visitor comes back from stands: paid, processing, failed, cancelled."""
    if checkout_id == "cancelled":
        return "cancelled"
    if not checkout_id or not checkout_id.startswith("chk_"):
        return None
    found = checkouts.get_checkout(org_id, checkout_id)
    if found is None or found["customerId"] != customer_id:
        return None
    return str(found["status"])


def _record_visit(visit: Visit, today: date) -> None:
    """The first visit of the day lands on the timeline (the team sees the customer looked)."""
    if visit.access.preview:
        return
    org_id, customer_id = visit.organization.id, visit.customer["id"]
    if customer_store.mark_portal_visit(org_id, customer_id, today.isoformat()):
        # The day's first visit only: the other page views import none of the timeline's models.
        from relance.services import timeline

        timeline.record(
            org_id,
            customer_id,
            [],
            "event",
            clock.now().isoformat(),
            stable_id("evt", "portal", customer_id, today),
            {"event": "portal_visited"},
        )


# ---------------------------------------------------------------- documents


def statement_of(token: str) -> tuple[Visit, list[CurrencyStatement], date]:
    """The customer's statement as of today, for the PDF."""
    visit = open_link(token)
    today = clock.now().date()
    _, parts = _ledger(visit.organization.id, visit.customer["id"], today)
    return visit, parts, today


def invoice_document(token: str, invoice_id: str) -> str:
    """A short-lived URL of the invoice's PDF (the customer's own invoices only)."""
    visit = open_link(token)
    invoice = ledger_store.get_invoice(visit.organization.id, invoice_id)
    if invoice is None or invoice["customerId"] != visit.customer["id"] or invoice["status"] == InvoiceStatus.VOIDED:
        raise NotFound("no such invoice")
    if invoice.get("pdfKey"):
        return files.download_url(
            invoice["pdfKey"],
            DOWNLOAD_SECONDS,
            content_type="application/pdf",
            disposition=f'inline; filename="{_file_name(invoice["number"])}.pdf"',
        )
    if invoice.get("pdfUrl"):
        return str(invoice["pdfUrl"])
    raise NotFound("this invoice has no document")


def _file_name(number: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in number)[:80] or "invoice"


# ---------------------------------------------------------------- back from Stripe


def returned(reference: str, cancelled: bool) -> str:
    """Where a payer Stripe sends back lands: the portal through a new link, with the payment's banner."""
    link, checkout_id = come_back(reference)
    return f"{link.url}?payment={'cancelled' if cancelled else checkout_id}"
