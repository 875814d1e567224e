"""Paying on the portal: a Stripe Checkout for the selected invoices, and what its webhooks tell.

``start`` records a checkout (``CHK#``: invoices and amounts, status ``open``) and opens a Stripe
Checkout session for it. Stripe's events then move the checkout forward, never back:

- ``checkout.session.completed`` with ``payment_status`` ``paid`` (card): the payment is recorded,
  allocated to the invoices, on the timeline; dunning is nudged so no reminder follows;
- the same with ``unpaid`` (ACH, SEPA debit, bank transfer): the invoices carry
  ``paymentInFlight`` (dunning leaves them alone) until
- ``checkout.session.async_payment_succeeded`` (recorded as above) or
  ``checkout.session.async_payment_failed`` (the invoices are open again, the failure is logged,
  on the timeline and told to the account managers);
- ``checkout.session.expired``: the checkout is closed.

Amounts cross the boundary in Stripe's units (``relance.domain.stripe_amounts``): ``start`` asks for
``stripeAmount`` and refuses first whatever Stripe would refuse; an event whose ``amount_total`` or
currency is not what the checkout asked for records nothing (``mismatch``, logged, team told). A
payment on its way longer than the organization's ``paymentInFlightDays`` gives its invoices back to
dunning (``expire_in_flight``, nightly).

Webhooks are idempotent by event id (Powertools idempotency, ``IdempotencyTable``) and the
payment id is derived from the checkout, so even two different events never record it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from relance import clock
from relance.domain.customers import PaymentMethods
from relance.domain.ledger import Allocation, InvoiceBalance, InvoiceStatus, PaymentFields
from relance.domain.money import Money
from relance.domain.organizations import Organization, Principal
from relance.domain.portal import (
    ABOVE_MAXIMUM,
    BELOW_MINIMUM,
    CURRENCY_NOT_PAYABLE,
    MAX_INVOICES_PER_PAYMENT,
    NO_METHOD,
    PAYMENT_REFUSED,
    PAYMENT_UNAVAILABLE,
    STRIPE_TYPES,
    TOO_MANY_INVOICES,
    Method,
    PortalRefused,
    in_flight_expired,
    payment_methods,
)
from relance.domain.stripe_amounts import (
    PRESENTMENT,
    ChargeRefused,
    NotRepresentable,
    Refusal,
    check_charge,
    from_stripe,
    to_stripe,
)
from relance.errors import Conflict, Invalid
from relance.ids import new_id, stable_id
from relance.observability import logger, metrics
from relance.payments import stripe_checkout
from relance.services import integrations, ledger, notifications, portal_links, timeline
from relance.services.nudges import nudge
from relance.services.portal_links import PortalAccess
from relance.storage import checkouts as checkout_store
from relance.storage import contacts as contact_store
from relance.storage import customers as customer_store
from relance.storage import idempotency
from relance.storage import ledger as ledger_store

EVENT_RETENTION_SECONDS = 30 * 86400  # Stripe retries a webhook for up to three days
BANK_TRANSFER_TYPES: dict[str, dict[str, Any]] = {
    "USD": {"type": "us_bank_transfer"},
    "GBP": {"type": "gb_bank_transfer"},
    "JPY": {"type": "jp_bank_transfer"},
    "MXN": {"type": "mx_bank_transfer"},
}


def payment_id(checkout_id: str) -> str:
    """The payment a checkout records: one id per checkout, whatever event records it."""
    return stable_id("pay", checkout_id)


# ---------------------------------------------------------------- starting a payment


def payable(org_id: str, customer_id: str, invoice_ids: list[str]) -> list[dict[str, Any]]:
    """The selected invoices if the customer can pay them now: at most ``MAX_INVOICES_PER_PAYMENT``,
    its own, open, one currency, none already being paid; else a refusal naming ``invoiceIds``."""
    if not invoice_ids:
        raise Invalid("select at least one invoice to pay", {"invoiceIds": "no invoice selected"})
    selected = list(dict.fromkeys(invoice_ids))
    if len(selected) > MAX_INVOICES_PER_PAYMENT:  # checked before reading any: one read per invoice
        raise PortalRefused(
            TOO_MANY_INVOICES,
            {"invoiceIds": f"at most {MAX_INVOICES_PER_PAYMENT} invoices at once"},
            count=MAX_INVOICES_PER_PAYMENT,
        )
    invoices = []
    for invoice_id in selected:
        invoice = ledger_store.get_invoice(org_id, invoice_id)
        if invoice is None or invoice["customerId"] != customer_id:
            raise Invalid("unknown invoice", {"invoiceIds": f"no such invoice: {invoice_id}"})
        balance = InvoiceBalance.model_validate(invoice)
        if balance.status != InvoiceStatus.OPEN or balance.outstanding <= 0:
            raise Invalid("invoice already settled", {"invoiceIds": f"invoice {invoice['number']} is not open"})
        if invoice.get("paymentInFlight"):
            raise Invalid(
                "a payment of this invoice is on its way",
                {"invoiceIds": f"invoice {invoice['number']} has a payment in progress"},
            )
        invoices.append(invoice)
    if len({i["currency"] for i in invoices}) > 1:
        raise Invalid("pay invoices of one currency at a time", {"invoiceIds": "the invoices' currencies differ"})
    return invoices


def _charge_refused(refused: ChargeRefused, currency: str) -> PortalRefused:
    """What the portal says when Stripe could not take the charge (checked before asking Stripe)."""
    limit = Money(amount=refused.limit or 0, currency=currency)
    if refused.reason == Refusal.CURRENCY:
        return PortalRefused(
            CURRENCY_NOT_PAYABLE, {"invoiceIds": f"Stripe does not charge in {currency}"}, currency=currency
        )
    if refused.reason == Refusal.TOO_MANY_LINES:
        return PortalRefused(
            TOO_MANY_INVOICES, {"invoiceIds": f"at most {refused.limit} invoices at once"}, count=refused.limit or 0
        )
    if refused.reason == Refusal.BELOW_MINIMUM:
        return PortalRefused(BELOW_MINIMUM, {"invoiceIds": f"at least {limit.format()} at once"}, amount=limit)
    return PortalRefused(ABOVE_MAXIMUM, {"invoiceIds": f"at most {limit.format()} at once"}, amount=limit)


def start(
    organization: Organization, customer: dict[str, Any], invoice_ids: list[str], access: PortalAccess, language: str
) -> str:
    """Open a Stripe Checkout for the selected invoices; the URL to send the payer to. Stripe's success
    and cancel URLs are an opaque way back (``portal_links.way_back``), never the visitor's token.

    Everything Stripe would refuse is refused first, before anything is written (``PortalRefused``,
    saying why). If Stripe still refuses, the checkout record is removed; if Stripe cannot be
    reached, it is marked ``failed``: no ``open`` checkout is left without a session.
    """
    if not stripe_checkout.enabled():
        raise Conflict("online payment is not available: pay by bank transfer or contact us")
    invoices = payable(organization.id, customer["id"], invoice_ids)
    currency = invoices[0]["currency"]
    if currency not in PRESENTMENT:
        raise _charge_refused(ChargeRefused(Refusal.CURRENCY), currency)
    allocations = [{"invoiceId": i["id"], "amount": InvoiceBalance.model_validate(i).outstanding} for i in invoices]
    total = sum(a["amount"] for a in allocations)
    methods = payment_methods(PaymentMethods.of(customer), currency, total, organization.settings.card_payment_limit)
    if not methods:
        raise PortalRefused(NO_METHOD, {"invoiceIds": "pay fewer invoices at once by card, or by bank transfer"})
    try:
        stripe_lines = check_charge(currency, [a["amount"] for a in allocations])
    except ChargeRefused as refused:
        raise _charge_refused(refused, currency) from refused
    stripe_total = sum(stripe_lines)
    try:
        stripe_customer_id = stripe_customer(organization.id, customer)
    except stripe_checkout.StripeRefused as error:
        raise PortalRefused(PAYMENT_REFUSED, {"invoiceIds": "Stripe refused the payment"}) from error
    except stripe_checkout.StripeUnavailable as error:
        raise PortalRefused(PAYMENT_UNAVAILABLE, {"invoiceIds": "Stripe is not available"}, 503) from error
    checkout_id = new_id("chk")
    back = portal_links.way_back(access, checkout_id)
    checkout_store.create(
        organization.id,
        {
            "id": checkout_id,
            "customerId": customer["id"],
            "currency": currency,
            "amount": total,
            "stripeAmount": stripe_total,  # what Stripe is asked for, in its units: the webhook must match it
            "charged": from_stripe(stripe_total, currency),  # the same in ours (three-decimal: rounded up)
            "allocations": allocations,
            "methods": [m.value for m in methods],
            "status": "open",
            "createdAt": clock.now().isoformat(),
            **back.stored,  # the way back, hashed, and the link it returns through
        },
    )
    metadata = {"organizationId": organization.id, "customerId": customer["id"], "checkoutId": checkout_id}
    try:
        session_id, url = stripe_checkout.create_checkout(
            reference=checkout_id,
            currency=currency,
            lines=[
                stripe_checkout.CheckoutLine(f"Invoice {i['number']}", amount)
                for i, amount in zip(invoices, stripe_lines, strict=True)
            ],
            payment_method_types=[STRIPE_TYPES[m] for m in methods],
            stripe_customer=stripe_customer_id,
            success_url=back.success_url,
            cancel_url=back.cancel_url,
            locale=language if language in ("en", "fr") else "auto",
            metadata=metadata,
            bank_transfer=_bank_transfer(currency, organization) if Method.BANK_TRANSFER in methods else None,
        )
    except stripe_checkout.StripeRefused as error:
        checkout_store.remove_unstarted(organization.id, checkout_id)
        raise PortalRefused(PAYMENT_REFUSED, {"invoiceIds": "Stripe refused the payment"}) from error
    except stripe_checkout.StripeUnavailable as error:
        # Stripe may have opened the session without answering: keep the record, closed, for the trail.
        checkout_store.move(organization.id, checkout_id, "failed", ("open",), {"failure": "Stripe did not answer"})
        raise PortalRefused(PAYMENT_UNAVAILABLE, {"invoiceIds": "Stripe is not available"}, 503) from error
    checkout_store.set_fields(organization.id, checkout_id, {"sessionId": session_id})
    return url


def _bank_transfer(currency: str, organization: Organization) -> dict[str, Any]:
    """Stripe's bank transfer options for the currency (EUR transfers go to the organization's country)."""
    transfer = BANK_TRANSFER_TYPES.get(currency) or {
        "type": "eu_bank_transfer",
        "eu_bank_transfer": {"country": organization.settings.bank_transfer_country},
    }
    return {"funding_type": "bank_transfer", "bank_transfer": transfer}


def stripe_customer(org_id: str, customer: dict[str, Any]) -> str:
    """The customer's Stripe customer, created at its first online payment."""
    if customer.get("stripeCustomerId"):
        return str(customer["stripeCustomerId"])
    main = contact_store.get_contact(org_id, customer["mainContactId"]) if customer.get("mainContactId") else None
    stripe_id = stripe_checkout.create_customer(
        customer["name"], (main or {}).get("email"), {"organizationId": org_id, "customerId": customer["id"]}
    )
    customer_store.set_field(org_id, customer["id"], "stripeCustomerId", stripe_id)
    return stripe_id


# ---------------------------------------------------------------- Stripe's events


def handle_webhook(payload: str, signature: str | None, lambda_context: Any = None) -> dict[str, Any]:
    """A webhook request: refused unless Stripe signed it; each event handled once."""
    event = stripe_checkout.verified_event(payload, signature)
    remembered, config = _idempotent(idempotency.persistence_layer())
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)  # an event cut short by the timeout can run again
    return remembered(event=event)


@cache
def _idempotent(persistence: BasePersistenceLayer) -> tuple[Callable[..., dict[str, Any]], IdempotencyConfig]:
    """``handle_event`` remembered by event id (once per persistence layer: new endpoint, new one)."""
    config = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=EVENT_RETENTION_SECONDS)
    remembered: Callable[..., dict[str, Any]] = idempotent_function(
        data_keyword_argument="event", persistence_store=persistence, config=config
    )(handle_event)
    return remembered, config


def handle_event(event: dict[str, Any]) -> dict[str, Any]:
    """What one Stripe event changes; events of other kinds, or of checkouts not ours, are ignored."""
    kind = event.get("type", "")
    session = (event.get("data") or {}).get("object") or {}
    metadata = session.get("metadata") or {}
    org_id, checkout_id = metadata.get("organizationId"), metadata.get("checkoutId")
    handlers = {
        "checkout.session.completed": _completed,
        "checkout.session.async_payment_succeeded": _succeeded,
        "checkout.session.async_payment_failed": _failed,
        "checkout.session.expired": _expired,
    }
    handler = handlers.get(kind)
    checkout = checkout_store.get_checkout(org_id, checkout_id) if handler and org_id and checkout_id else None
    if handler is None or checkout is None or org_id is None:
        logger.info("Stripe event ignored", event_id=event.get("id"), event_type=kind)
        return {"outcome": "ignored"}
    logger.info("Stripe event", event_id=event.get("id"), event_type=kind, checkout_id=checkout_id)
    return {"outcome": handler(org_id, checkout, session, event)}


def _charged(checkout: dict[str, Any], session: dict[str, Any]) -> int | None:
    """What Stripe charged, in our minor units, if it is what the checkout asked for (same currency,
    ``amount_total`` equal to ``stripeAmount`` in Stripe's units); None when it is not."""
    currency = str(session.get("currency") or "").upper()
    total = session.get("amount_total")
    expected = checkout.get("stripeAmount")
    if expected is None:  # a checkout opened before amounts were converted at the boundary
        expected = to_stripe(int(checkout["amount"]), checkout["currency"])
    if currency != checkout["currency"] or type(total) is not int or total != int(expected):
        return None
    try:
        return from_stripe(total, currency)
    except NotRepresentable:
        return None


def _completed(org_id: str, checkout: dict[str, Any], session: dict[str, Any], event: dict[str, Any]) -> str:
    if _charged(checkout, session) is None:
        return _mismatch(org_id, checkout, session, event)
    if session.get("payment_status") in ("paid", "no_payment_required"):
        return _succeeded(org_id, checkout, session, event)
    now = clock.now().isoformat()
    if not checkout_store.move(
        org_id, checkout["id"], "processing", ("open",), {"sessionId": session.get("id"), "processingAt": now}
    ):
        return "already past"
    invoice_ids = [a["invoiceId"] for a in checkout["allocations"]]
    for invoice_id in invoice_ids:
        ledger_store.set_invoice_mark(org_id, invoice_id, "paymentInFlight", checkout["id"])
    _on_timeline(org_id, checkout, session, "payment_processing")
    nudge(org_id, checkout["customerId"])  # a reminder planned for these invoices must not go
    return "processing"


def _succeeded(org_id: str, checkout: dict[str, Any], session: dict[str, Any], event: dict[str, Any]) -> str:
    amount = _charged(checkout, session)
    if amount is None:
        return _mismatch(org_id, checkout, session, event)
    if not checkout_store.move(org_id, checkout["id"], "paid", ("open", "processing", "paid"), {}):
        return "already past"
    received = clock.now().date()
    fields = PaymentFields(
        customer_id=checkout["customerId"],
        amount=amount,
        currency=checkout["currency"],
        received_at=received,
        allocations=_allocations(org_id, checkout, amount),
        reference=str(session.get("payment_intent") or session.get("id") or "")[:100] or None,
    )
    for allocation in checkout["allocations"]:
        ledger_store.clear_invoice_mark(org_id, allocation["invoiceId"], "paymentInFlight", checkout["id"])
    principal = Principal(organization_id=org_id, role="admin", principal_id="stripe")
    ledger.record_payment(principal, fields, payment_id(checkout["id"]))  # nudges dunning
    # An invoice a source system manages: the payment is written back there too (once, by a sync run).
    integrations.record_write_backs(org_id, payment_id(checkout["id"]), fields.allocations, received.isoformat())
    metrics.add_metric(name="PortalPayments", unit="Count", value=1)
    return "paid"


def _mismatch(org_id: str, checkout: dict[str, Any], session: dict[str, Any], event: dict[str, Any]) -> str:
    """Stripe tells of an amount or a currency the checkout did not ask for: nothing is recorded, the
    invoices are back in dunning, the error is logged and the account managers (else the admins) told."""
    received = {
        "amountTotal": session.get("amount_total"),
        "currency": session.get("currency"),
        "eventId": event.get("id"),
    }
    invoice_ids = _close_unpaid(org_id, checkout, "mismatch", {"received": received})
    if invoice_ids is None:
        return "already past"
    logger.error(
        "portal payment does not match its checkout",
        organization_id=org_id,
        customer_id=checkout["customerId"],
        checkout_id=checkout["id"],
        event_id=event.get("id"),
        expected={"stripeAmount": checkout.get("stripeAmount"), "currency": checkout["currency"]},
        received=received,
    )
    metrics.add_metric(name="PortalPaymentMismatches", unit="Count", value=1)
    _on_timeline(org_id, checkout, session, "payment_mismatch")
    customer = customer_store.get_customer(org_id, checkout["customerId"]) or {}
    notifications.notify(
        org_id,
        notifications.people_to_tell(org_id, customer),
        "payment_mismatch",
        f"A portal payment by {customer.get('name', 'a customer')} does not match what was asked: "
        "nothing was recorded, check it in Stripe",
        checkout["id"],
        {"customerId": checkout["customerId"], "invoiceIds": invoice_ids, "received": received},
    )
    nudge(org_id, checkout["customerId"])
    return "mismatch"


def _close_unpaid(org_id: str, checkout: dict[str, Any], status: str, fields: dict[str, Any]) -> list[str] | None:
    """Close a checkout that paid nothing (``status``) and give its invoices back to dunning; their
    ids, or None when the checkout was already past open or processing."""
    if not checkout_store.move(org_id, checkout["id"], status, ("open", "processing"), fields):
        return None
    invoice_ids = [a["invoiceId"] for a in checkout["allocations"]]
    for invoice_id in invoice_ids:
        ledger_store.clear_invoice_mark(org_id, invoice_id, "paymentInFlight", checkout["id"])
    return invoice_ids


def _allocations(org_id: str, checkout: dict[str, Any], amount: int) -> list[Allocation]:
    """What each invoice still owes of what was paid for it (paid meanwhile: the rest is unapplied)."""
    allocations, left = [], amount
    for planned in checkout["allocations"]:
        invoice = ledger_store.get_invoice(org_id, planned["invoiceId"])
        if invoice is None:
            continue
        balance = InvoiceBalance.model_validate(invoice)
        if balance.status != InvoiceStatus.OPEN:
            continue
        applied = min(int(planned["amount"]), balance.outstanding, left)
        if applied > 0:
            allocations.append(Allocation(invoice_id=planned["invoiceId"], amount=applied))
            left -= applied
    return allocations


def _failed(org_id: str, checkout: dict[str, Any], session: dict[str, Any], event: dict[str, Any]) -> str:
    invoice_ids = _close_unpaid(org_id, checkout, "failed", {})
    if invoice_ids is None:
        return "already past"
    logger.warning(
        "portal payment failed",
        organization_id=org_id,
        customer_id=checkout["customerId"],
        checkout_id=checkout["id"],
        event_id=event.get("id"),
    )
    metrics.add_metric(name="PortalPaymentsFailed", unit="Count", value=1)
    _on_timeline(org_id, checkout, session, "payment_failed")
    customer = customer_store.get_customer(org_id, checkout["customerId"]) or {}
    notifications.notify(
        org_id,
        list(customer.get("accountManagerIds", [])),
        "payment_failed",
        f"A portal payment by {customer.get('name', 'a customer')} failed",
        checkout["id"],
        {"customerId": checkout["customerId"], "invoiceIds": invoice_ids},
    )
    nudge(org_id, checkout["customerId"])  # the invoices are back in dunning
    return "failed"


def _expired(org_id: str, checkout: dict[str, Any], session: dict[str, Any], event: dict[str, Any]) -> str:
    return "expired" if checkout_store.move(org_id, checkout["id"], "expired", ("open",), {}) else "already past"


def _on_timeline(org_id: str, checkout: dict[str, Any], session: dict[str, Any], event: str) -> None:
    """``payment_processing``, ``payment_failed`` or ``payment_mismatch`` on the customer's and the
    invoices' timelines (once)."""
    timeline.record(
        org_id,
        checkout["customerId"],
        [a["invoiceId"] for a in checkout["allocations"]],
        "event",
        clock.now().isoformat(),
        f"evt_{checkout['id']}_{event}",
        {
            "event": event,
            "amount": int(checkout["amount"]),  # ours: Stripe's amount_total is in Stripe's units
            "currency": checkout["currency"],
            "checkoutId": checkout["id"],
            "paymentMethod": ",".join(session.get("payment_method_types") or checkout.get("methods", [])),
        },
    )


# ---------------------------------------------------------------- payments that never arrive


def expire_in_flight(
    org_id: str, customer_id: str, today: date, days: int, invoices: list[dict[str, Any]] | None = None
) -> int:
    """Payments on their way for more than ``days`` (the organization's ``paymentInFlightDays``):
    their invoices are back in dunning and payable, ``payment_in_flight_expired`` is on the
    timelines, the account managers (else the admins) are told (nightly). The checkout stays
    ``processing``: money that still arrives is recorded. How many invoices came back."""
    if invoices is None:
        invoices = ledger_store.records_of(org_id, customer_id, "invoice")
    held: dict[str, list[dict[str, Any]]] = {}
    for invoice in invoices:
        if invoice.get("paymentInFlight") and invoice["status"] == InvoiceStatus.OPEN:
            held.setdefault(str(invoice["paymentInFlight"]), []).append(invoice)
    back = 0
    for checkout_id, group in held.items():
        checkout = checkout_store.get_checkout(org_id, checkout_id)
        started = (checkout or {}).get("processingAt") or (checkout or {}).get("createdAt")
        since = date.fromisoformat(str(started)[:10]) if started else date.min  # no checkout: nothing can clear it
        if not in_flight_expired(since, today, days):
            continue
        cleared = [i for i in group if ledger_store.clear_invoice_mark(org_id, i["id"], "paymentInFlight", checkout_id)]
        if not cleared:
            continue
        back += len(cleared)
        if checkout is not None:
            checkout_store.set_fields(org_id, checkout_id, {"inFlightExpiredOn": today.isoformat()})
        _tell_in_flight_expired(org_id, customer_id, checkout_id, cleared, since, days)
    if back:
        metrics.add_metric(name="PortalPaymentsInFlightExpired", unit="Count", value=back)
        nudge(org_id, customer_id)
    return back


def _tell_in_flight_expired(
    org_id: str, customer_id: str, checkout_id: str, invoices: list[dict[str, Any]], since: date, days: int
) -> None:
    ids = [i["id"] for i in invoices]
    entry_id = f"evt_{checkout_id}_in_flight_expired"
    data = {
        "event": "payment_in_flight_expired",
        "checkoutId": checkout_id,
        "since": since.isoformat() if since != date.min else None,
        "days": days,
        "numbers": [i["number"] for i in invoices],
    }
    timeline.record(org_id, customer_id, ids, "event", clock.now().isoformat(), entry_id, data)
    customer = customer_store.get_customer(org_id, customer_id) or {}
    logger.warning("portal payment never arrived", organization_id=org_id, checkout_id=checkout_id, invoice_ids=ids)
    notifications.notify(
        org_id,
        notifications.people_to_tell(org_id, customer),
        "payment_in_flight_expired",
        f"The payment {customer.get('name', 'a customer')} started on the portal has not arrived after {days} days: "
        f"{len(ids)} invoice(s) are back in dunning",
        entry_id,
        {"customerId": customer_id, "invoiceIds": ids, "checkoutId": checkout_id},
    )
