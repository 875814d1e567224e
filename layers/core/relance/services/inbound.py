"""Customer replies: inbound mail that SES stored in S3, matched to its customer, put on the timeline.

Which organization: only the addresses SES delivered the message to decide
(``relance.domain.inbound.organizations_addressed``: ``ar+<org>@`` or ``reply+<org>.<action>@``
at the ReplyDomain); the message is looked at in each organization they name and in no other.
Mail that names none is quarantined (``QUARANTINE``), shown to no tenant.

Which customer, within that organization only, in order: the reply address's action, a reply
address of its own in To/Cc, the In-Reply-To and References Message-IDs of its own
(``<<org>.<action>@…>``), the sender's address among its contacts, then (when the organization
chose it) the sender's mail domain when it belongs to one customer only and is no public mail
domain. Mail that matches nobody is kept in the organization's unmatched list until a user
assigns it; it is never dropped. Every step is idempotent: a retried message lands once.

What SES made of it (``relance.domain.inbound.screen``): a virus is never kept, only a record
for the admins (``BLOCKED#``); mail whose sender nothing vouches for (SPF, DKIM or DMARC failed,
or none passed) or flagged as spam is marked so and matched only by a reply token it carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from relance import clock
from relance.domain.actions import Action, ActionStatus
from relance.domain.customers import CustomerRecord
from relance.domain.inbound import (
    MAX_ADDRESSES,
    VERDICTS,
    InboundReply,
    Screening,
    is_public_mail_domain,
    organizations_addressed,
    screen,
)
from relance.domain.organizations import Principal
from relance.domain.workflows import ActionType
from relance.errors import Conflict, NotFound
from relance.ids import stable_id
from relance.mail import ses
from relance.mail.inbound import InboundMail, parse
from relance.observability import logger, metrics
from relance.services import timeline
from relance.services.access import customer_item, require_admin
from relance.services.customers import check_can_see_customer
from relance.services.notifications import notify, people_to_tell
from relance.services.nudges import nudge
from relance.services.organizations import get_organization
from relance.settings import get_settings
from relance.storage import actions as action_store
from relance.storage import contacts as contact_store
from relance.storage import customers as customer_store
from relance.storage import files
from relance.storage import inbound as store
from relance.storage import organizations as organization_store

QUARANTINE_SECONDS = 90 * 86400


@dataclass(frozen=True)
class Match:
    customer_id: str | None = None
    action_id: str | None = None
    matched_by: str | None = None  # reply_address, message_id, sender, sender_domain


# ---------------------------------------------------------------- matching


def _exists(org_id: str, customer_id: str) -> bool:
    return customer_store.get_customer(org_id, customer_id, consistent=True) is not None


def _by_action(org_id: str, action_id: str | None, matched_by: str) -> Match | None:
    """The action's customer, while it exists (an action outlives a deleted customer)."""
    action = action_store.get_action(org_id, action_id) if action_id else None
    if action is None or not _exists(org_id, action["customerId"]):
        return None
    return Match(action["customerId"], action_id, matched_by)


def _by_reference(org_id: str, candidates: list[str], matched_by: str) -> Match | None:
    """The first of ``candidates`` that names an action of this organization (another's: ignored)."""
    for text in candidates:
        reference = ses.parse_reference(text)
        found = _by_action(org_id, reference[1], matched_by) if reference and reference[0] == org_id else None
        if found:
            return found
    return None


def _customers_of(org_id: str, contacts: list[dict[str, Any]]) -> set[str]:
    """The customers of these contacts that exist: a contact left behind matches nobody."""
    return {customer_id for customer_id in {c["customerId"] for c in contacts} if _exists(org_id, customer_id)}


def find_customer(org_id: str, reply_action: str | None, mail: InboundMail, *, trusted_sender: bool = True) -> Match:
    """Who in this organization the mail is from, as far as its own records tell; never another's.
    A sender nothing vouches for (``trusted_sender`` false: unverified or spam) is matched only by a
    reply token the mail carries, never by its address or domain."""
    found = (
        _by_action(org_id, reply_action, "reply_address")
        or _by_reference(org_id, [*mail.to, *mail.cc], "reply_address")
        or _by_reference(org_id, mail.references, "message_id")
    )
    if found:
        return found
    domain = mail.sender.rpartition("@")[2]
    if not domain or not trusted_sender:
        return Match()
    customers = _customers_of(org_id, contact_store.contacts_by_mail(org_id, domain, mail.sender))
    if len(customers) == 1:
        return Match(customers.pop(), None, "sender")
    if customers:  # a contact of several customers: a person decides
        return Match()
    if get_organization(org_id).settings.match_replies_by_sender_domain and not is_public_mail_domain(domain):
        customers = _customers_of(org_id, contact_store.contacts_by_mail(org_id, domain))
        if len(customers) == 1:
            return Match(customers.pop(), None, "sender_domain")
    return Match()


# ---------------------------------------------------------------- receiving


def reply_id_of(bucket: str, key: str) -> str:
    """The same stored message is always the same reply: a retry finds it."""
    return stable_id("rpl", f"{bucket}/{key}")


def store_attachments(org_id: str, message_id: str, attachments: list[ses.Attachment]) -> list[dict[str, Any]]:
    """The files of a reply (in or out) in the documents bucket; what the timeline shows of them."""
    stored = []
    for index, file in enumerate(attachments, start=1):
        key = files.reply_file_key(org_id, message_id, index, file.filename)
        files.put(key, file.data, file.content_type)
        stored.append({"name": file.filename, "contentType": file.content_type, "size": len(file.data), "key": key})
    return stored


def receive(
    bucket: str, key: str, recipients: list[str], verdicts: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Take in one message SES stored at ``bucket``/``key``, delivered to ``recipients`` (SES's
    envelope recipients, ``receipt.recipients``) with SES's ``verdicts`` (``verdicts_of(receipt)``;
    none: nothing is trusted): a reply in each organization they name — or, with a virus, a record
    for its admins — or, naming none, a quarantine record. What was stored."""
    mail = parse(files.read_message(bucket, key))
    reply_id = reply_id_of(bucket, key)
    screening = screen(verdicts)
    given = {name: (verdicts or {}).get(name, "MISSING") for name in VERDICTS}
    named = organizations_addressed(recipients, get_settings().reply_domain)
    addressed = {org_id: action for org_id, action in named.items() if organization_store.get(org_id)}
    source = {"bucket": bucket, "key": key}
    if not addressed:
        reason = "virus" if screening.virus else "no_organization"
        return [_quarantine(reply_id, mail, recipients, source, reason, given)]
    if screening.virus:
        return [_block(org_id, reply_id, mail, recipients, given) for org_id in addressed]
    return [
        _receive_in(org_id, action, reply_id, mail, source, screening, given) for org_id, action in addressed.items()
    ]


def _block(
    org_id: str, reply_id: str, mail: InboundMail, recipients: list[str], verdicts: dict[str, str]
) -> dict[str, Any]:
    """A message SES found a virus in: who sent it, when, its subject and the verdicts, for the
    organization's admins (``GET /v1/replies/blocked``); its text and files are never kept or shown."""
    record = {
        "id": reply_id,
        "status": "blocked",
        "reason": "virus",
        "from": mail.sender,
        "fromName": mail.sender_name,
        "recipients": [r.lower()[:320] for r in recipients[:MAX_ADDRESSES]],
        "subject": mail.subject,
        "sentAt": mail.sent_at,
        "receivedAt": clock.now().isoformat(),
        "verdicts": verdicts,
    }
    if store.add_blocked(org_id, record):
        logger.warning("inbound mail with a virus blocked", organization_id=org_id, reply_id=reply_id)
        metrics.add_metric(name="InboundMailVirusBlocked", unit="Count", value=1)
    return record


def list_blocked(principal: Principal) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins ``BLOCKED#``, newest first: mail dropped for a virus (admins only)."""
    require_admin(principal)
    rows = store.blocked_mail(principal.organization_id)
    return sorted(rows, key=lambda r: (r["receivedAt"], r["id"]), reverse=True)


def _quarantine(
    reply_id: str,
    mail: InboundMail,
    recipients: list[str],
    source: dict[str, str],
    reason: str,
    verdicts: dict[str, str],
) -> dict[str, Any]:
    """Keep who sent what to whom, and why it reached no organization, for the operators only (never
    through the API): the message itself stays in the inbound bucket."""
    now = clock.now()
    record = {
        "id": reply_id,
        "status": "quarantined",
        "reason": reason,
        "from": mail.sender,
        "fromName": mail.sender_name,
        "recipients": [r.lower()[:320] for r in recipients[:MAX_ADDRESSES]],
        "subject": mail.subject,
        "messageId": mail.message_id,
        "sentAt": mail.sent_at,
        "receivedAt": now.isoformat(),
        "source": source,
        "verdicts": verdicts,
        "ttl": int(now.timestamp()) + QUARANTINE_SECONDS,
    }
    if not store.quarantine(record):
        return record  # a retry: kept already
    logger.warning("inbound mail quarantined", reason=reason, recipients=record["recipients"], key=source["key"])
    metrics.add_metric(name="InboundMailQuarantined", unit="Count", value=1)
    return record


def list_quarantined() -> list[dict[str, Any]]:
    """Query ``QUARANTINE``: mail that reached no organization (operators only: no API serves it)."""
    return store.quarantined_mail()


def _receive_in(
    org_id: str,
    reply_action: str | None,
    reply_id: str,
    mail: InboundMail,
    source: dict[str, str],
    screening: Screening,
    verdicts: dict[str, str],
) -> dict[str, Any]:
    """The message as a reply of this organization's: matched to one of its customers, or unmatched."""
    match = find_customer(org_id, reply_action, mail, trusted_sender=screening.trusted_sender)
    attachments = store_attachments(org_id, reply_id, mail.attachments)
    reply = InboundReply.model_validate(
        {
            "id": reply_id,
            "status": "matched" if match.customer_id else "unmatched",
            "customerId": match.customer_id,
            "actionId": match.action_id,
            "matchedBy": match.matched_by,
            "from": mail.sender,
            "fromName": mail.sender_name,
            "to": mail.to,
            "cc": mail.cc,
            "subject": mail.subject,
            "text": mail.reply,
            "fullText": mail.text,
            "truncated": mail.truncated,  # cut to fit (relance.domain.inbound): rawUrl has all of it
            "attachmentsOmitted": mail.attachments_omitted,
            "messageId": mail.message_id,
            "automatic": mail.automatic,
            "sentAt": mail.sent_at,
            "receivedAt": clock.now().isoformat(),
            "attachments": attachments,
            "source": source,
            "unverified": screening.unverified,  # nothing vouches for the sender (SPF, DKIM, DMARC)
            "spam": screening.spam,
            "verdicts": verdicts,
        }
    )
    if not store.add_reply(org_id, reply.stored()):  # a retry: carry on with the stored one
        reply = stored_reply(org_id, reply_id) or reply
    if reply.status == "matched" and reply.customer_id and not _land(org_id, reply):
        reply = _unmatch(org_id, reply)  # its customer was deleted meanwhile: kept for a person to assign
    if reply.status != "matched":
        metrics.add_metric(name="InboundMailUnmatched", unit="Count", value=1)
    return reply.stored()


def stored_reply(org_id: str, reply_id: str) -> InboundReply | None:
    """The customer's mail as stored now, or None."""
    item = store.get_reply(org_id, reply_id, consistent=True)
    return InboundReply.model_validate(item) if item is not None else None


def _unmatch(org_id: str, reply: InboundReply) -> InboundReply:
    """A matched reply whose customer is no more, back onto the unmatched list (nothing is dropped)."""
    store.unmatch(org_id, reply.stored())
    return reply.model_copy(update={"status": "unmatched", "customer_id": None, "action_id": None, "matched_by": None})


def _land(org_id: str, reply: InboundReply) -> bool:
    """Put the reply on its customer's timeline, tell the AMs and, if asked, open a Reply task;
    False (nothing done) when the customer is no more."""
    item = customer_store.get_customer(org_id, reply.customer_id, consistent=True) if reply.customer_id else None
    if item is None:
        return False
    customer = CustomerRecord.model_validate(item)
    answered = action_store.get_action(org_id, reply.action_id) if reply.action_id else None
    invoice_ids = list(answered["invoiceIds"]) if answered else []
    shown = reply.stored()
    timeline.record(
        org_id,
        customer.id,
        invoice_ids,
        "reply_in",
        reply.received_at,
        reply.id,
        {
            "from": reply.from_,
            "fromName": reply.from_name,
            "subject": reply.subject,
            "text": reply.text,
            "attachments": shown.get("attachments", []),
            "actionId": reply.action_id,
            "matchedBy": reply.matched_by,
            "automatic": reply.automatic,
            "truncated": reply.truncated,
            "source": reply.source,
            "unverified": reply.unverified,
            "spam": reply.spam,
        },
    )
    who = f"{reply.sender} (unverified sender)" if reply.unverified or reply.spam else reply.sender
    notify(
        org_id,
        people_to_tell(org_id, item),
        "reply_in",
        f"{who} ({customer.name}) replied: {reply.subject or '(no subject)'}",
        reply.id,
        {"customerId": customer.id, "replyId": reply.id},
    )
    if get_organization(org_id).settings.handle_replies and not reply.automatic:
        open_reply_task(org_id, customer, reply, invoice_ids)
    return True


def open_reply_task(org_id: str, customer: CustomerRecord, reply: InboundReply, invoice_ids: list[str]) -> None:
    """A Reply task that holds the customer's dunning until someone answers or ignores the reply."""
    now = clock.now().isoformat()
    managers = customer.account_manager_ids
    task = Action(
        id=stable_id("act", "reply-task", reply.id),
        customer_id=customer.id,
        workflow_id=customer.dunning_plan_id,
        workflow_version=0,
        step_id="reply",
        type=ActionType.TASK,
        status=ActionStatus.OPEN,
        title=f"Answer {reply.sender}: {reply.subject or '(no subject)'}",
        scheduled_at=now,
        performed_at=now,
        invoice_ids=invoice_ids,
        cycle=-1,
        manual=True,
        created_at=now,
        owner=managers[0] if managers else None,
        reply_id=reply.id,
    )
    if not action_store.create_if_absent(org_id, task.stored()):
        return
    customer_store.update_dunning(org_id, customer.id, {"openReplyTaskId": task.id})
    timeline.record(
        org_id,
        customer.id,
        invoice_ids,
        "action",
        now,
        task.id,
        {"type": "task", "status": "open", "stepId": "reply", "owner": task.owner, "replyId": reply.id},
    )
    nudge(org_id, customer.id)  # the planned reminder waits for the task


# ---------------------------------------------------------------- the unmatched list


def list_unmatched(principal: Principal) -> list[dict[str, Any]]:
    """Query GSI1 ``ORG#<org>#UNMATCHED``, newest first. Admins only: mail that matched no customer
    may be about any customer (or none), so it is no account manager's to read."""
    require_admin(principal)
    return [timeline.with_links(r) for r in store.unmatched_replies(principal.organization_id)]


def get_reply(principal: Principal, reply_id: str) -> dict[str, Any]:
    reply = store.get_reply(principal.organization_id, reply_id)
    if reply is None or (not reply.get("customerId") and not principal.is_admin):
        raise NotFound("reply not found")  # an unmatched reply is the admins' only: to others, absent
    if reply.get("customerId"):
        try:
            check_can_see_customer(principal, reply["customerId"])  # an AM sees only their customers' replies
        except NotFound as error:
            raise NotFound("reply not found") from error
    return timeline.with_links(reply)


def assign(principal: Principal, reply_id: str, customer_id: str) -> dict[str, Any]:
    """Give an unmatched reply to a customer: it lands on that timeline as if it had matched (admins only)."""
    require_admin(principal)
    org_id = principal.organization_id
    customer = customer_item(principal, customer_id)
    found = stored_reply(org_id, reply_id)
    if found is None:
        raise NotFound("reply not found")
    if not store.assign(org_id, reply_id, customer["id"], principal.principal_id):
        raise Conflict("this reply is already on a customer's timeline", {"status": found.status})
    changes = {"status": "matched", "customer_id": customer["id"], "matched_by": "assigned"}
    reply = found.model_copy(update={**changes, "assigned_by": principal.principal_id})
    if not _land(org_id, reply):  # the customer was deleted since it was chosen: back to unmatched
        _unmatch(org_id, reply)
        raise NotFound("customer not found")
    return timeline.with_links(reply.stored())
