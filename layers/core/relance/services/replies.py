"""Replies from the timeline: sent as the user, with the exchange quoted; they count as a contact."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from pydantic import EmailStr, Field, StringConstraints

from relance import clock
from relance.domain.base import RelanceModel
from relance.domain.organizations import Principal
from relance.errors import Conflict, Invalid, NotFound
from relance.ids import new_id
from relance.mail import ses
from relance.mail.rendering import RenderedEmail
from relance.services import timeline
from relance.services.customers import customer_item
from relance.services.nudges import nudge
from relance.services.organizations import get_organization
from relance.storage import actions as action_store
from relance.storage import customers as customer_store
from relance.storage import users as user_store


class ReplyFields(RelanceModel):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
    to: list[EmailStr] = Field(default_factory=list, max_length=10, description="added to the original recipients")
    cc: list[EmailStr] = Field(default_factory=list, max_length=10)


def reply(principal: Principal, action_id: str, fields: ReplyFields) -> dict[str, Any]:
    org_id = principal.organization_id
    original = action_store.get_action(org_id, action_id)
    if original is None:
        raise NotFound("action not found")
    customer = customer_item(principal, original["customerId"])
    if original["type"] != "email" or original["status"] != "sent":
        raise Conflict("only an email that was sent can be answered", {"status": original["status"]})
    org = get_organization(org_id)
    if not org.settings.sender_email:
        raise Invalid("the organization has no sender address", {"senderEmail": "set it in the settings"})
    user = user_store.get_user(org_id, principal.user_id) if principal.user_id else None
    sender = (user or {}).get("name") or org.settings.sender_name or org.name
    now = clock.now()
    quoted = "\n".join(f"> {line}" for line in (original.get("text") or "").splitlines())
    said = f"On {original['performedAt'][:10]}, {org.settings.sender_name or org.name} wrote:"
    email = RenderedEmail(
        subject=original.get("subject", "")
        if original.get("subject", "").startswith("Re: ")
        else f"Re: {original.get('subject', '')}",
        text=f"{fields.body}\n\n{sender}\n\n{said}\n{quoted}\n",
        html=f"<p>{escape(fields.body).replace(chr(10), '<br>')}</p><p>{escape(sender)}</p>"
        f"<p>{escape(said)}</p><blockquote>{escape(original.get('text') or '').replace(chr(10), '<br>')}</blockquote>",
    )
    to = list(dict.fromkeys([*original.get("to", []), *fields.to]))
    cc = [c for c in dict.fromkeys([*original.get("cc", []), *fields.cc]) if c not in to]
    action = {
        "id": new_id("act"),
        "customerId": customer["id"],
        "workflowId": original.get("workflowId"),
        "workflowVersion": 0,
        "stepId": "reply",
        "type": "email",
        "status": "planned",
        "scheduledAt": now.isoformat(),
        "invoiceIds": original["invoiceIds"],
        "cycle": -1,
        "manual": True,
        "createdAt": now.isoformat(),
        "owner": principal.user_id,
        "inReplyTo": original["id"],
    }
    action_store.create_if_absent(org_id, action)
    action_store.move(org_id, action["id"], "planned", "sending", {"claimedAt": now.isoformat()})
    envelope = ses.for_action(
        org_id,
        action["id"],
        sender_name=sender,
        sender_email=org.settings.sender_email,
        to=to,
        cc=cc,
        answering=original["id"],
    )
    message_id = ses.send(envelope, email)
    sent = {
        "messageId": message_id,
        "performedAt": now.isoformat(),
        "subject": email.subject,
        "to": to,
        "cc": cc,
        "text": email.text,
        "deliveryStatus": "sent",
    }
    action_store.move(org_id, action["id"], "sending", "sent", sent)
    customer_store.mark_step_performed(org_id, customer["id"], None, now.isoformat())  # a contact
    timeline.record(
        org_id,
        customer["id"],
        action["invoiceIds"],
        "reply_out",
        now.isoformat(),
        action["id"],
        {"subject": email.subject, "to": to, "cc": cc, "by": principal.principal_id, "inReplyTo": original["id"]},
    )
    nudge(org_id, customer["id"])  # the next reminder honours the minimum delay
    return {**action, **sent, "status": "sent"}
