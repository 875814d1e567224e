"""Replies from the timeline: sent as the user, with the exchange quoted; they count as a contact."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace
from datetime import datetime
from html import escape
from typing import Annotated, Any

from pydantic import EmailStr, Field, StringConstraints

from relance import clock
from relance.domain.actions import Action, ActionStatus
from relance.domain.base import OneLine, RelanceModel
from relance.domain.customers import CustomerRecord
from relance.domain.organizations import Principal
from relance.domain.timeline import EntryKind
from relance.domain.workflows import ActionType
from relance.errors import Conflict, Invalid, NotFound, PayloadTooLarge
from relance.ids import new_id
from relance.mail import ses
from relance.mail.rendering import RenderedEmail
from relance.services import senders, timeline
from relance.services.authorship import author_of
from relance.services.customers import customer_record_of
from relance.services.dunning import close_hold, get_action
from relance.services.inbound import store_attachments, stored_reply
from relance.services.nudges import nudge
from relance.services.organizations import get_organization
from relance.storage import actions as action_store
from relance.storage import customers as customer_store
from relance.storage import users as user_store

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # together, decoded: API Gateway takes 10 MB bodies


class ReplyAttachment(RelanceModel):
    filename: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine]
    content_type: str = Field(default="application/octet-stream", pattern=r"^[\w.+-]+/[\w.+-]+$")
    content_base64: str = Field(min_length=1)

    def data(self, index: int) -> bytes:
        try:
            return base64.b64decode(self.content_base64, validate=True)
        except (binascii.Error, ValueError) as error:
            raise Invalid(
                "an attachment is not valid base64", {f"attachments.{index}.contentBase64": "not base64"}
            ) from error


class ReplyFields(RelanceModel):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
    to: list[EmailStr] = Field(default_factory=list, max_length=10, description="added to the original recipients")
    cc: list[EmailStr] = Field(default_factory=list, max_length=10)
    attachments: list[ReplyAttachment] = Field(default_factory=list, max_length=10)


@dataclass(frozen=True)
class Exchange:
    """What is answered: who gets the answer, its subject, the history quoted under it."""

    to: list[str]
    cc: list[str]
    subject: str
    history: list[tuple[str, str]]  # (who wrote, when, as a heading; the text), newest first
    in_reply_to: str | None  # the Message-ID answered
    invoice_ids: list[str]
    reply_task: Action | None = None


def _exchange(org_id: str, original: Action, sender: str) -> Exchange:
    if original.type == ActionType.EMAIL and original.status == ActionStatus.SENT:
        said = f"On {(original.performed_at or '')[:10]}, {sender} wrote:"
        return Exchange(
            to=list(original.to),
            cc=list(original.cc),
            subject=original.subject or "",
            history=[(said, original.text or "")],
            in_reply_to=ses.message_id(org_id, original.id),
            invoice_ids=list(original.invoice_ids),
        )
    if original.type == ActionType.TASK and original.reply_id and original.status == ActionStatus.OPEN:
        inbound = stored_reply(org_id, original.reply_id)
        if inbound is None:
            raise NotFound("the reply this task is about is gone")
        said = f"On {inbound.received_at[:10]}, {inbound.sender} wrote:"
        return Exchange(
            to=[inbound.from_],
            cc=[],
            subject=inbound.subject,
            history=[(said, inbound.full_text or inbound.text)],
            in_reply_to=inbound.message_id,
            invoice_ids=list(original.invoice_ids),
            reply_task=original,
        )
    raise Conflict("only an email that was sent, or an open Reply task, can be answered", {"status": original.status})


def _answering(org_id: str, original: Action, exchange: Exchange, reply_id: str) -> Exchange:
    """The customer's mail that answered this email, answered in turn: their words quoted first, in its thread."""
    inbound = stored_reply(org_id, reply_id)
    if inbound is None or (inbound.customer_id, inbound.action_id) != (original.customer_id, original.id):
        raise NotFound("the customer's mail this answers is not a reply to this email")
    said = f"On {inbound.received_at[:10]}, {inbound.sender} wrote:"
    return replace(
        exchange,
        subject=inbound.subject or exchange.subject,
        history=[(said, inbound.full_text or inbound.text), *exchange.history],
        in_reply_to=inbound.message_id or exchange.in_reply_to,
    )


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines())


def _render(body: str, signature: str, exchange: Exchange) -> RenderedEmail:
    subject = exchange.subject if exchange.subject.lower().startswith("re:") else f"Re: {exchange.subject}"
    text = "\n\n".join([body, signature, *(f"{said}\n{_quoted(old)}" for said, old in exchange.history)])
    html = "".join(
        [
            f"<p>{escape(body).replace(chr(10), '<br>')}</p><p>{escape(signature).replace(chr(10), '<br>')}</p>",
            *(
                f"<p>{escape(said)}</p><blockquote>{escape(old).replace(chr(10), '<br>')}</blockquote>"
                for said, old in exchange.history
            ),
        ]
    )
    return RenderedEmail(subject=subject, text=text + "\n", html=html)


@dataclass(frozen=True)
class Outgoing:
    """The reply as it will go: rendered, from whom, to whom, with what files, in which thread."""

    exchange: Exchange
    email: RenderedEmail
    sender_name: str
    sender_email: str
    to: list[str]
    cc: list[str]
    files: list[ses.Attachment]


def reply(principal: Principal, action_id: str, fields: ReplyFields, *, answering: str | None = None) -> dict[str, Any]:
    """Answer a sent email (or the customer reply a Reply task is about) from the timeline; ``answering``,
    the customer's mail (a reply id) that answered the sent email: it is quoted too, and threaded. Everything
    is checked before anything is written; once sent, it counts as a contact and answers an open Reply task."""
    org_id = principal.organization_id
    original = get_action(org_id, action_id)
    if original is None:
        raise NotFound("action not found")
    customer = customer_record_of(principal, original.customer_id)
    outgoing = _outgoing(principal, original, fields, answering)
    now = clock.now()
    author = author_of(principal)  # who sends it: the user, or the API key by its label
    action = _claimed_action(org_id, customer, original, outgoing, author, now)
    sent = _send(org_id, action, outgoing, now)
    action_store.move(org_id, action.id, ActionStatus.SENDING, ActionStatus.SENT, sent)
    customer_store.mark_step_performed(org_id, customer.id, None, now.isoformat())  # a contact
    timeline.record(
        org_id,
        customer.id,
        action.invoice_ids,
        EntryKind.REPLY_OUT,
        now.isoformat(),
        action.id,
        {
            "subject": outgoing.email.subject,
            "to": outgoing.to,
            "cc": outgoing.cc,
            "text": fields.body,
            **author,
            "by": principal.principal_id,
            "inReplyTo": original.id,
            "attachments": action.attachments,
        },
    )
    _answered(org_id, customer, outgoing.exchange, principal, now.isoformat())
    nudge(org_id, customer.id)  # the next reminder honours the minimum delay
    return {**action.stored(), **sent, "status": ActionStatus.SENT}


def _outgoing(principal: Principal, original: Action, fields: ReplyFields, answering: str | None) -> Outgoing:
    """The reply to send, or why it cannot go (a 422 naming ``senderEmail``, bad or too large
    attachments, nothing to answer): all checked before anything is written."""
    org_id = principal.organization_id
    organization = get_organization(org_id)
    sender_email = senders.require_verified(organization)
    files = [ses.Attachment(a.filename, a.content_type, a.data(index)) for index, a in enumerate(fields.attachments)]
    if sum(len(f.data) for f in files) > MAX_ATTACHMENT_BYTES:
        raise PayloadTooLarge("attachments are over 10 MB together", {"attachments": "at most 10 MB together"})
    organization_name = organization.settings.sender_name or organization.name
    user = user_store.get_user(org_id, principal.user_id) if principal.user_id else None
    signature = (user or {}).get("signature") or (user or {}).get("name") or organization_name
    exchange = _exchange(org_id, original, organization_name)
    if answering and exchange.reply_task is None:  # a Reply task's exchange is that mail already
        exchange = _answering(org_id, original, exchange, answering)
    to = list(dict.fromkeys([*exchange.to, *(str(a).lower() for a in fields.to)]))
    cc = [c for c in dict.fromkeys([*exchange.cc, *(str(a).lower() for a in fields.cc)]) if c not in to]
    email = _render(fields.body, signature, exchange)
    return Outgoing(exchange, email, signature, sender_email, to, cc, files)


def _claimed_action(
    org_id: str,
    customer: CustomerRecord,
    original: Action,
    outgoing: Outgoing,
    author: dict[str, Any],
    now: datetime,
) -> Action:
    """The reply as a manual email action (its files stored with it), claimed for sending."""
    reply_id = new_id("act")
    action = Action(
        id=reply_id,
        customer_id=customer.id,
        workflow_id=original.workflow_id,
        workflow_version=0,
        step_id="reply",
        type=ActionType.EMAIL,
        status=ActionStatus.PLANNED,
        scheduled_at=now.isoformat(),
        invoice_ids=outgoing.exchange.invoice_ids,
        cycle=-1,
        manual=True,
        created_at=now.isoformat(),
        **author,
        in_reply_to=original.id,
        attachments=store_attachments(org_id, reply_id, outgoing.files),
    )
    action_store.create_if_absent(org_id, action.stored())
    action_store.move(org_id, reply_id, ActionStatus.PLANNED, ActionStatus.SENDING, {"claimedAt": now.isoformat()})
    return action


def _send(org_id: str, action: Action, outgoing: Outgoing, now: datetime) -> dict[str, Any]:
    """Send it through SES: what the action keeps of it; when SES refuses, the action fails saying why
    (nothing stays ``sending``) and the error goes on."""
    envelope = ses.for_action(
        org_id,
        action.id,
        sender_name=outgoing.sender_name,
        sender_email=outgoing.sender_email,
        to=outgoing.to,
        cc=outgoing.cc,
        in_reply_to=outgoing.exchange.in_reply_to,
    )
    try:
        message_id = ses.send(envelope, outgoing.email, tuple(outgoing.files))
    except ses.SenderNotVerified as refused:  # SES refused it after the check: nothing went, say why
        action_store.move(org_id, action.id, ActionStatus.SENDING, ActionStatus.FAILED, {"reason": refused.message})
        raise
    except Exception as error:
        reason = f"not sent: {type(error).__name__}: {str(error)[:300]}"
        action_store.move(org_id, action.id, ActionStatus.SENDING, ActionStatus.FAILED, {"reason": reason})
        raise
    return {
        "messageId": message_id,
        "performedAt": now.isoformat(),
        "subject": outgoing.email.subject,
        "to": outgoing.to,
        "cc": outgoing.cc,
        "text": outgoing.email.text,
        "deliveryStatus": "sent",
    }


def _answered(org_id: str, customer: CustomerRecord, exchange: Exchange, principal: Principal, at: str) -> None:
    """An open Reply task of the customer is answered by this email: done, dunning goes on."""
    task_id = exchange.reply_task.id if exchange.reply_task else customer.open_reply_task_id
    if not task_id:
        return
    task = exchange.reply_task or get_action(org_id, task_id)
    closed = {"closedAt": at, "closedBy": principal.principal_id, "note": "answered"}
    if task and action_store.move(org_id, task_id, ActionStatus.OPEN, ActionStatus.DONE, closed):
        timeline.record(
            org_id,
            customer.id,
            task.invoice_ids,
            EntryKind.EVENT,
            at,
            f"{task_id}_done",
            {"event": "done", "actionId": task_id, "by": principal.principal_id, "note": "answered"},
        )
    close_hold(org_id, customer, task_id)
