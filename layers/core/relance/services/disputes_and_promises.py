"""Disputes and promises to pay on invoices, whether the customer made them on the portal or the team
records them: a disputed or promised invoice is out of dunning until the dispute is resolved or the
promise's day has passed (then it is broken, nightly)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import StringConstraints

from relance import clock
from relance.domain.base import RelanceModel
from relance.domain.ledger import Invoice, InvoiceStatus
from relance.domain.organizations import Organization, Principal
from relance.domain.portal import (
    PROMISES_PER_INVOICE,
    Dispute,
    Promise,
    check_promise_allowed,
    check_promise_date,
    promise_broken,
)
from relance.errors import Conflict, Invalid
from relance.ids import stable_id
from relance.services import notifications, timeline
from relance.services.access import customer_item, require_admin
from relance.services.ledger import get_invoice, visible_invoice
from relance.services.nudges import nudge
from relance.services.organizations import get_organization
from relance.storage import customers as customer_store
from relance.storage import ledger as ledger_store
from relance.storage.table import TransactionCancelled, transact


def open_dispute(
    organization: Organization, customer: dict[str, Any], invoice_id: str, request: Dispute, by: str
) -> None:
    """The invoice is disputed (``by``: "portal" or the team member who recorded it)."""
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


def promise_to_pay(organization: Organization, customer: dict[str, Any], request: Promise, by: str | None) -> None:
    """The customer promises to pay the invoices by a date (``by``: None on the portal, else the team
    member who recorded it): one promise per invoice (``PROMISES_PER_INVOICE``), all or none."""
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


class DisputeResolution(RelanceModel):
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


def resolve_dispute(principal: Principal, invoice_id: str, resolution: DisputeResolution) -> Invoice:
    """``POST /v1/invoices/{id}/resolve-dispute``: the invoice is back in dunning (admins: whether a
    disputed invoice is owed is a decision on the ledger)."""
    require_admin(principal)
    invoice = visible_invoice(principal, invoice_id)
    told = {
        "event": "dispute_resolved",
        "reason": (invoice.get("disputed") or {}).get("reason"),
        "comment": resolution.comment,
    }
    cleared = ledger_store.clear_mark_entry(principal.organization_id, invoice_id, "disputed")
    return _end_mark(principal, invoice, cleared, told, "resolved", not_marked="the invoice is not disputed")


def raise_dispute(principal: Principal, invoice_id: str, request: Dispute) -> Invoice:
    """The team records the customer's dispute (told by phone or mail), as the portal would: the
    invoice is out of dunning until an admin resolves it."""
    invoice = visible_invoice(principal, invoice_id)
    customer = customer_item(principal, invoice["customerId"])
    open_dispute(get_organization(principal.organization_id), customer, invoice_id, request, principal.principal_id)
    return get_invoice(principal, invoice_id)


def record_promise(principal: Principal, invoice_id: str, promised_for: date, comment: str | None) -> Invoice:
    """The team records the customer's promise to pay the invoice by a date (same rules as the portal's:
    one per invoice until cleared with ``reset_promise``)."""
    invoice = visible_invoice(principal, invoice_id)
    customer = customer_item(principal, invoice["customerId"])
    request = Promise(invoice_ids=[invoice_id], promised_for=promised_for, comment=comment)
    promise_to_pay(get_organization(principal.organization_id), customer, request, principal.principal_id)
    return get_invoice(principal, invoice_id)


class PromiseReset(RelanceModel):
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


def reset_promise(principal: Principal, invoice_id: str, request: PromiseReset) -> Invoice:
    """``POST /v1/invoices/{id}/reset-promise``: the team clears the customer's promise on the invoice
    (a running one ends: dunning takes the invoice back; a broken one is forgotten) and the customer
    may promise once more on the portal."""
    invoice = visible_invoice(principal, invoice_id)
    told = {
        "event": "promise_reset",
        "promisedFor": invoice.get("promisedUntil") or invoice.get("promiseBroken"),
        "comment": request.comment,
    }
    cleared = ledger_store.reset_promise_entry(principal.organization_id, invoice_id)
    return _end_mark(
        principal, invoice, cleared, told, "promise-reset", not_marked="the invoice has no promise to clear"
    )


def _end_mark(
    principal: Principal,
    invoice: dict[str, Any],
    cleared: dict[str, Any],
    told: dict[str, Any],
    kind: str,
    *,
    not_marked: str,
) -> Invoice:
    """The team ends a mark on the invoice (``cleared``: the conditional update that ends it) and the
    timelines tell it (``told``, with who and which invoice), together or neither; then dunning takes
    the invoice back. 409 when the invoice has no such mark (``not_marked``) or changed meanwhile."""
    org_id, invoice_id = principal.organization_id, invoice["id"]
    now = clock.now().isoformat()
    data = {**told, "by": principal.principal_id, "number": invoice["number"]}
    entry_id = stable_id("evt", kind, invoice_id, now)
    entries = timeline.record_entries(org_id, invoice["customerId"], [invoice_id], "event", now, entry_id, data)
    try:
        transact([cleared, *entries])
    except TransactionCancelled as error:
        if error.reasons[:1] == ["ConditionalCheckFailed"]:
            raise Conflict(not_marked) from error
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
