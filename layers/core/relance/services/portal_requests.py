"""What a portal visitor sends: a payment, a message to the AR team, a dispute, a promise to pay.

Each resolves the token first (``portal.open_link``) and refuses a preview link (409): the team
looks at the portal through one, nothing is sent from it.
"""

from __future__ import annotations

from typing import Any

from relance import clock
from relance.domain.organizations import Organization
from relance.domain.portal import Dispute, PortalMessage, Promise
from relance.ids import stable_id
from relance.mail import ses
from relance.observability import logger
from relance.services import disputes_and_promises, notifications, online_payments, timeline
from relance.services.portal import changes_allowed, open_link
from relance.storage import customers as customer_store


def pay(token: str, invoice_ids: list[str]) -> str:
    """Stripe Checkout for the selected invoices: where to send the visitor (Stripe sends them back
    through an opaque way back, never the token: ``returned``)."""
    visit = open_link(token)
    changes_allowed(visit)
    language = visit.customer.get("language") or visit.organization.settings.language
    return online_payments.start(visit.organization, visit.customer, invoice_ids, visit.access, language)


def send_message(token: str, message: PortalMessage) -> None:
    """A message to the organization's AR mailbox, on the timeline and to the account managers."""
    visit = open_link(token)
    changes_allowed(visit)
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
    changes_allowed(visit)
    disputes_and_promises.open_dispute(visit.organization, visit.customer, invoice_id, request, "portal")


def promise(token: str, request: Promise) -> None:
    """The customer promises to pay the invoices by a date: dunning waits until the day after.

    One promise per invoice (``PROMISES_PER_INVOICE``): not while one runs, not after one was made
    until the team clears it (``reset_promise``). All the invoices are promised, or none."""
    visit = open_link(token)
    changes_allowed(visit)
    disputes_and_promises.promise_to_pay(visit.organization, visit.customer, request, None)
