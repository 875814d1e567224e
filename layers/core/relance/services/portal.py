"""The customer portal: what a valid link shows and what its visitor can do.

Every entry point takes the presented token and resolves it first (``portal_links.resolve``):
a malformed, unknown or expired token, or one whose customer is gone, is NotFound, all alike.
Preview links (made by the team) show the same page but change nothing and leave no trace.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, NamedTuple

from pydantic import StringConstraints

from relance import clock
from relance.domain.base import RelanceModel
from relance.domain.ledger import Invoice, InvoiceBalance, InvoiceStatus
from relance.domain.organizations import Organization, Principal
from relance.domain.portal import (
    PROMISES_PER_INVOICE,
    CurrencyStatement,
    Dispute,
    PortalMessage,
    Promise,
    check_promise_allowed,
    check_promise_date,
    payment_methods,
    promise_broken,
    statement,
    under_promise,
)
from relance.errors import Conflict, Invalid, NotFound
from relance.ids import stable_id
from relance.mail import ses
from relance.observability import logger
from relance.payments import stripe_checkout
from relance.services import notifications, online_payments, timeline
from relance.services.access import require_admin
from relance.services.customers import customer_item
from relance.services.ledger import get_invoice, visible_invoice
from relance.services.nudges import nudge
from relance.services.organizations import get_organization
from relance.services.portal_links import PortalAccess, come_back, current, resolve
from relance.storage import checkouts, files
from relance.storage import customers as customer_store
from relance.storage import ledger as ledger_store
from relance.storage.table import TransactionCancelled, transact

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


def _changes_allowed(visit: Visit) -> None:
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
    methods = online_payments.customer_methods(customer)
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


# ---------------------------------------------------------------- what the visitor sends


def pay(token: str, invoice_ids: list[str]) -> str:
    """Stripe Checkout for the selected invoices: where to send the visitor (Stripe sends them back
    through an opaque way back, never the token: ``returned``)."""
    visit = open_link(token)
    _changes_allowed(visit)
    language = visit.customer.get("language") or visit.organization.settings.language
    return online_payments.start(visit.organization, visit.customer, invoice_ids, visit.access, language)


def returned(reference: str, cancelled: bool) -> str:
    """Where a payer Stripe sends back lands: the portal through a new link, with the payment's banner."""
    link, checkout_id = come_back(reference)
    return f"{link.url}?payment={'cancelled' if cancelled else checkout_id}"


def send_message(token: str, message: PortalMessage) -> None:
    """A message to the organization's AR mailbox, on the timeline and to the account managers."""
    visit = open_link(token)
    _changes_allowed(visit)
    organization, customer = visit.organization, visit.customer
    now = clock.now()
    # A double click sends the same message twice within the minute: one entry, one email.
    entry_id = stable_id("msg", customer["id"], f"{now:%Y%m%d%H%M}", message.body)
    if not customer_store.claim_portal_message(organization.id, customer["id"], entry_id):
        return
    data = {"body": message.body, "from": message.email, "fromName": message.name, "channel": "portal"}
    timeline.record(organization.id, customer["id"], [], "portal_message", now.isoformat(), entry_id, data)
    _email_ar(organization, customer, message)
    notifications.notify(
        organization.id,
        list(customer.get("accountManagerIds", [])),
        "portal_message",
        f"{customer['name']} wrote on the portal",
        entry_id,
        {"customerId": customer["id"]},
    )


def _email_ar(organization: Organization, customer: dict[str, Any], message: PortalMessage) -> None:
    """Forward the message to the AR mailbox; the visitor's address is the Reply-To."""
    sender, to = organization.settings.sender_email, organization.settings.ar_email
    if not sender or not to:
        logger.info("no AR mailbox or sender address: portal message kept on the timeline only")
        return
    text = (
        f"{customer['name']} sent a message through the payment portal.\n\n"
        f"From: {message.name or '-'} <{message.email or 'no address given'}>\n\n{message.body}\n"
    )
    try:
        ses.send_text(
            (f"{organization.name} portal", sender),
            to,
            f"Portal message from {customer['name']}",
            text,
            reply_to=str(message.email) if message.email else None,
            tags={"organization": organization.id},
        )
    except ses.SenderNotVerified:  # the visitor's message is kept; an unverified sender is the team's to fix
        logger.warning("sender not verified in SES: portal message kept on the timeline only", sender=sender)


def dispute(token: str, invoice_id: str, request: Dispute) -> None:
    """The customer disputes an invoice: out of dunning until the team resolves it."""
    visit = open_link(token)
    _changes_allowed(visit)
    _open_dispute(visit.organization, visit.customer, invoice_id, request, "portal")


def _open_dispute(
    organization: Organization, customer: dict[str, Any], invoice_id: str, request: Dispute, by: str
) -> None:
    if request.reason not in organization.settings.dispute_reasons:
        raise Invalid("unknown reason", {"reason": f"one of: {', '.join(organization.settings.dispute_reasons)}"})
    invoice = _open_invoice_of(organization.id, customer["id"], invoice_id, "invoiceId")
    if invoice.get("disputed"):
        raise Conflict(f"invoice {invoice['number']} is already disputed")
    now = clock.now().isoformat()
    ledger_store.set_invoice_mark(
        organization.id,
        invoice_id,
        "disputed",
        {"reason": request.reason, "comment": request.comment, "at": now, "by": by},
    )
    data = {
        "event": "dispute_opened",
        "reason": request.reason,
        "comment": request.comment,
        "number": invoice["number"],
        **({"by": by} if by != "portal" else {}),
    }
    entry_id = stable_id("evt", "dispute", invoice_id, now)
    timeline.record(organization.id, customer["id"], [invoice_id], "event", now, entry_id, data)
    notifications.notify(
        organization.id,
        [u for u in customer.get("accountManagerIds", []) if u != by],
        "dispute_opened",
        f"{customer['name']} disputes invoice {invoice['number']}: {request.reason}",
        entry_id,
        {"customerId": customer["id"], "invoiceIds": [invoice_id]},
    )
    nudge(organization.id, customer["id"])


def promise(token: str, request: Promise) -> None:
    """The customer promises to pay the invoices by a date: dunning waits until the day after.

    One promise per invoice (``PROMISES_PER_INVOICE``): not while one runs, not after one was made
    until the team clears it (``reset_promise``). All the invoices are promised, or none."""
    visit = open_link(token)
    _changes_allowed(visit)
    _record_promise(visit.organization, visit.customer, request, None)


def _record_promise(organization: Organization, customer: dict[str, Any], request: Promise, by: str | None) -> None:
    today = clock.now().date()
    check_promise_date(request.promised_for, today)
    invoices = [
        _open_invoice_of(organization.id, customer["id"], i, "invoiceIds") for i in dict.fromkeys(request.invoice_ids)
    ]
    for invoice in invoices:
        check_promise_allowed(invoice, today)
    try:
        transact(
            [
                ledger_store.promise_entry(
                    organization.id, i["id"], request.promised_for.isoformat(), today.isoformat(), PROMISES_PER_INVOICE
                )
                for i in invoices
            ]
        )
    except TransactionCancelled as error:  # another promise (or a payment) got in meanwhile: say which
        for invoice in invoices:
            current = _open_invoice_of(organization.id, customer["id"], invoice["id"], "invoiceIds")
            check_promise_allowed(current, today)
        raise Conflict("the invoices changed meanwhile: please try again") from error
    now = clock.now().isoformat()
    ids = [i["id"] for i in invoices]
    entry_id = stable_id("evt", "promise", ",".join(ids), now)
    data = {
        "event": "promise_to_pay",
        "promisedFor": request.promised_for.isoformat(),
        "comment": request.comment,
        "numbers": [i["number"] for i in invoices],
        **({"by": by} if by else {}),
    }
    timeline.record(organization.id, customer["id"], ids, "event", now, entry_id, data)
    notifications.notify(
        organization.id,
        [u for u in customer.get("accountManagerIds", []) if u != by],
        "promise_to_pay",
        f"{customer['name']} promises to pay {len(ids)} invoice(s) by {request.promised_for.isoformat()}",
        entry_id,
        {"customerId": customer["id"], "invoiceIds": ids},
    )
    nudge(organization.id, customer["id"])


def _open_invoice_of(org_id: str, customer_id: str, invoice_id: str, field: str) -> dict[str, Any]:
    invoice = ledger_store.get_invoice(org_id, invoice_id)
    if invoice is None or invoice["customerId"] != customer_id:
        raise Invalid("unknown invoice", {field: f"no such invoice: {invoice_id}"})
    if invoice["status"] != InvoiceStatus.OPEN:
        raise Invalid("the invoice is not open", {field: f"invoice {invoice['number']} is {invoice['status']}"})
    return invoice


# ---------------------------------------------------------------- the team's side


class DisputeResolution(RelanceModel):
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


def resolve_dispute(principal: Principal, invoice_id: str, resolution: DisputeResolution) -> Invoice:
    """``POST /v1/invoices/{id}/resolve-dispute``: the invoice is back in dunning (admins: whether a
    disputed invoice is owed is a decision on the ledger)."""
    require_admin(principal)
    invoice = visible_invoice(principal, invoice_id)
    org_id = principal.organization_id
    now = clock.now().isoformat()
    data = {
        "event": "dispute_resolved",
        "reason": (invoice.get("disputed") or {}).get("reason"),
        "comment": resolution.comment,
        "by": principal.principal_id,
        "number": invoice["number"],
    }
    entry_id = stable_id("evt", "resolved", invoice_id, now)
    told = timeline.record_entries(org_id, invoice["customerId"], [invoice_id], "event", now, entry_id, data)
    try:  # the dispute ends and its end is on the timelines together, or neither
        transact([ledger_store.clear_mark_entry(org_id, invoice_id, "disputed"), *told])
    except TransactionCancelled as error:
        if error.reasons[:1] == ["ConditionalCheckFailed"]:
            raise Conflict("the invoice is not disputed") from error
        raise Conflict("the invoice changed meanwhile: try again") from error
    nudge(org_id, invoice["customerId"])
    return get_invoice(principal, invoice_id)


def raise_dispute(principal: Principal, invoice_id: str, request: Dispute) -> Invoice:
    """The team records the customer's dispute (told by phone or mail), as the portal would: the
    invoice is out of dunning until an admin resolves it."""
    invoice = visible_invoice(principal, invoice_id)
    customer = customer_item(principal, invoice["customerId"])
    _open_dispute(get_organization(principal.organization_id), customer, invoice_id, request, principal.principal_id)
    return get_invoice(principal, invoice_id)


def record_promise(principal: Principal, invoice_id: str, promised_for: date, comment: str | None) -> Invoice:
    """The team records the customer's promise to pay the invoice by a date (same rules as the portal's:
    one per invoice until cleared with ``reset_promise``)."""
    invoice = visible_invoice(principal, invoice_id)
    customer = customer_item(principal, invoice["customerId"])
    request = Promise(invoice_ids=[invoice_id], promised_for=promised_for, comment=comment)
    _record_promise(get_organization(principal.organization_id), customer, request, principal.principal_id)
    return get_invoice(principal, invoice_id)


class PromiseReset(RelanceModel):
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


def reset_promise(principal: Principal, invoice_id: str, request: PromiseReset) -> Invoice:
    """``POST /v1/invoices/{id}/reset-promise``: the team clears the customer's promise on the invoice
    (a running one ends: dunning takes the invoice back; a broken one is forgotten) and the customer
    may promise once more on the portal."""
    invoice = visible_invoice(principal, invoice_id)
    org_id = principal.organization_id
    now = clock.now().isoformat()
    data = {
        "event": "promise_reset",
        "promisedFor": invoice.get("promisedUntil") or invoice.get("promiseBroken"),
        "comment": request.comment,
        "by": principal.principal_id,
        "number": invoice["number"],
    }
    entry_id = stable_id("evt", "promise-reset", invoice_id, now)
    told = timeline.record_entries(org_id, invoice["customerId"], [invoice_id], "event", now, entry_id, data)
    try:  # the promise is cleared and that is on the timelines together, or neither
        transact([ledger_store.reset_promise_entry(org_id, invoice_id), *told])
    except TransactionCancelled as error:
        if error.reasons[:1] == ["ConditionalCheckFailed"]:
            raise Conflict("the invoice has no promise to clear") from error
        raise Conflict("the invoice changed meanwhile: try again") from error
    nudge(org_id, invoice["customerId"])
    return get_invoice(principal, invoice_id)


def expire_promises(org_id: str, customer_id: str, today: date, invoices: list[dict[str, Any]] | None = None) -> int:
    """Promises not kept by their date: the invoices go back to dunning, ``promiseBroken`` on them
    (no new promise from the portal until the team clears it), the team is told (nightly)."""
    if invoices is None:
        invoices = ledger_store.records_of(org_id, customer_id, "invoice")
    broken = [i for i in invoices if promise_broken(i, today)]
    if not broken:
        return 0
    kept = []
    for invoice in broken:
        if ledger_store.break_promise(org_id, invoice["id"], invoice["promisedUntil"]):
            kept.append(invoice)
    if not kept:
        return 0
    customer = customer_store.get_customer(org_id, customer_id) or {}
    ids = [i["id"] for i in kept]
    promised = max(i["promisedUntil"] for i in kept)
    entry_id = stable_id("evt", "broken", ",".join(ids), today)
    data = {"event": "promise_broken", "promisedFor": promised, "numbers": [i["number"] for i in kept]}
    timeline.record(org_id, customer_id, ids, "event", clock.now().isoformat(), entry_id, data)
    notifications.notify(
        org_id,
        list(customer.get("accountManagerIds", [])),
        "promise_broken",
        f"{customer.get('name', 'A customer')} did not pay by {promised} as promised",
        entry_id,
        {"customerId": customer_id, "invoiceIds": ids},
    )
    nudge(org_id, customer_id)
    return len(kept)
