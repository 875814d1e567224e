"""SES events of the emails we sent: delivery status per recipient, bounces, complaints.

Statuses only move forward (sent < delivered < opened < clicked; bounced and complained
win), so events arriving twice or out of order change nothing. A permanent bounce or a
complaint makes the contact invalid (reminders then skip it), lands on the timeline and
notifies the customer's account managers. A failed email is never re-sent automatically.
"""

from __future__ import annotations

from typing import Any

from relance import clock
from relance.observability import logger
from relance.services import timeline
from relance.services.notifications import notify
from relance.storage import actions as action_store
from relance.storage import contacts as contact_store
from relance.storage import customers as customer_store

RANK = {"sent": 0, "delivered": 1, "opened": 2, "clicked": 3, "bounced": 10, "complained": 11}


def recipients_of(event: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    """The status an SES event means, and the recipients it is about (with their details)."""
    kind = event["eventType"]
    everyone = [{"emailAddress": e} for e in event["mail"].get("destination", [])]
    if kind == "Send":
        return "sent", everyone
    if kind == "Delivery":
        return "delivered", [{"emailAddress": e} for e in event["delivery"]["recipients"]]
    if kind == "Open":
        return "opened", everyone
    if kind == "Click":
        return "clicked", everyone
    if kind == "Bounce":
        permanent = event["bounce"]["bounceType"] == "Permanent"
        return ("bounced" if permanent else None), event["bounce"]["bouncedRecipients"]
    if kind == "Complaint":
        return "complained", event["complaint"]["complainedRecipients"]
    return None, []


def handle(event: dict[str, Any]) -> None:
    tags = event["mail"].get("tags", {})
    if "organization" not in tags or "action" not in tags:
        logger.info("SES event of an email we did not tag", message_id=event["mail"].get("messageId"))
        return
    org_id, action_id = tags["organization"][0], tags["action"][0]
    action = action_store.get_action(org_id, action_id)
    if action is None:
        logger.warning("SES event for an unknown action", action_id=action_id)
        return
    status, recipients = recipients_of(event)
    if status is None:
        return
    for recipient in recipients:
        email = recipient["emailAddress"].lower()
        if action_store.raise_status(org_id, action_id, "recipientStatus", status, RANK[status], email) and status in (
            "bounced",
            "complained",
        ):
            invalidate(org_id, action, email, status, recipient.get("diagnosticCode") or event["eventType"])
    action_store.raise_status(org_id, action_id, "deliveryStatus", status, RANK[status])


def invalidate(org_id: str, action: dict[str, Any], email: str, status: str, reason: str) -> None:
    """The address bounced (or complained): the contact is invalid until marked valid again."""
    now = clock.now().isoformat()
    customer = customer_store.get_customer(org_id, action["customerId"]) or {}
    for contact in contact_store.contacts_of(org_id, action["customerId"]):
        if contact["email"].lower() != email:
            continue
        contact_store.save_contact(
            org_id, {**contact, "invalid": True, "invalidSince": now, "invalidReason": f"{status}: {reason}"}
        )
        timeline.record(
            org_id,
            action["customerId"],
            action["invoiceIds"],
            "event",
            now,
            f"{action['id']}_{email}",
            {
                "event": "contact_invalidated",
                "contactId": contact["id"],
                "email": email,
                "reason": f"{status}: {reason}",
                "actionId": action["id"],
            },
        )
        notify(
            org_id,
            customer.get("accountManagerIds", []),
            "contact_invalidated",
            f"{email} ({customer.get('name', 'a customer')}) can no longer receive email: {reason}",
            f"{action['id']}:{email}",
            {"customerId": action["customerId"], "contactId": contact["id"], "email": email, "reason": reason},
        )
