"""Keep each customer's payment rating up to date with its ledger."""

from __future__ import annotations

from datetime import date
from typing import Any

from relance import clock
from relance.domain.ledger import InvoiceBalance, InvoiceStatus
from relance.domain.money import Money
from relance.domain.rating import RatedInvoice, Rating, RatingBasis, rate
from relance.storage import customers as customer_store
from relance.storage import ledger as ledger_store
from relance.storage import organizations as org_store


def rated_invoices(invoices: list[dict[str, Any]]) -> list[RatedInvoice]:
    rated = []
    for item in invoices:
        if item["status"] == InvoiceStatus.VOIDED:
            continue
        balance = InvoiceBalance.model_validate(item)
        rated.append(
            RatedInvoice(
                invoice_id=item["id"],
                number=item["number"],
                amount=Money(amount=int(item["amount"]), currency=item["currency"]),
                due_at=date.fromisoformat(item["dueAt"]),
                paid_at=date.fromisoformat(item["paidAt"]) if item.get("paidAt") else None,
                open_outstanding=balance.outstanding if balance.status == InvoiceStatus.OPEN else 0,
            )
        )
    return rated


def basis_of(org_id: str) -> RatingBasis:
    organization = org_store.get(org_id) or {}
    return RatingBasis(organization.get("settings", {}).get("ratingBasis", RatingBasis.PAID))


def refresh(
    org_id: str,
    customer_id: str,
    basis: RatingBasis | None = None,
    read: tuple[dict[str, Any], list[dict[str, Any]]] | None = None,
) -> Rating | None:
    """Recompute and store the rating; a concurrent ledger write makes it read again. ``read``: the customer
    item and its invoices as the caller just read them (the nightly run), for the first attempt."""
    basis = basis or basis_of(org_id)
    for _ in range(5):
        if read is not None:
            (customer, invoices), read = read, None
        else:
            found = customer_store.get_customer(org_id, customer_id, consistent=True)
            if found is None:
                return None
            customer, invoices = found, ledger_store.records_of(org_id, customer_id, "invoice")
        rating = rate(rated_invoices(invoices), clock.now().date(), basis)
        stored = rating.model_dump(mode="json", by_alias=True)
        if customer_store.save_rating(org_id, customer_id, stored, int(customer["ledgerVersion"])):
            return rating
    return None
