"""The records the API answers with, as models: an answer read into one and written out again is the same
JSON — an attribute the record does not have stays absent, a null stays null — and one the model does not
know is refused (the document would not tell it), but for a timeline entry, which may tell more."""

import pytest
from pydantic import TypeAdapter, ValidationError

from relance.domain.actions import ShownAction
from relance.domain.inbound import BlockedMail, Reply
from relance.domain.notes import Note
from relance.domain.notifications import Notifications
from relance.domain.timeline import PausedBanner, ShownEntry


def as_answered(model, answer):
    adapter = TypeAdapter(model)
    return adapter.dump_python(adapter.validate_python(answer), mode="json", by_alias=True)


OPEN_TASK = {
    "id": "act_1",
    "customerId": "cus_1",
    "workflowId": None,
    "workflowVersion": 0,
    "stepId": "manual-task",
    "type": "task",
    "status": "open",
    "scheduledAt": "2026-03-02T09:00:00+00:00",
    "invoiceIds": ["inv_1"],
    "cycle": -1,
    "createdAt": "2026-03-02T09:00:00+00:00",
    "owner": "usr_1",
    "note": None,
    "manual": True,
}
SENT_EMAIL = {
    **OPEN_TASK,
    "stepId": "overdue-1",
    "type": "email",
    "status": "sent",
    "carryingInvoiceId": None,
    "cycle": 0,
    "claimedAt": "2026-03-02T09:00:01+00:00",
    "messageId": "0100-abc",
    "performedAt": "2026-03-02T09:00:01+00:00",
    "subject": "Invoice INV-1 is overdue",
    "to": ["ap@customer.example"],
    "cc": [],
    "text": "Dear customer, …",
    "portalLinkExpiresAt": "2026-04-01T09:00:01+00:00",
    "deliveryStatus": "bounced",
    "deliveryStatusRank": 10,
    "recipientStatus": {"ap@customer.example": "bounced"},
    "recipientStatusRank": {"ap@customer.example": 10},
}


@pytest.mark.parametrize("action", [OPEN_TASK, SENT_EMAIL, {**SENT_EMAIL, "customerName": "Acme", "outcome": "sent"}])
def test_an_action_is_answered_with_the_attributes_it_has_and_no_others(action):
    answered = as_answered(ShownAction, action)

    assert answered == action
    assert "subject" not in as_answered(ShownAction, OPEN_TASK)  # absent, not null
    assert as_answered(ShownAction, OPEN_TASK)["note"] is None  # null, as stored


def test_an_action_attribute_the_document_does_not_tell_is_refused():
    with pytest.raises(ValidationError, match="nextStep"):
        ShownAction.model_validate({**OPEN_TASK, "nextStep": "x"})


def test_a_timeline_entry_keeps_what_its_kind_tells_even_beyond_the_documented_fields():
    reassigned = {
        "id": "act_1_assigned",
        "kind": "event",
        "at": "2026-03-02T10:00:00+00:00",
        "customerId": "cus_1",
        "invoiceIds": [],
        "event": "reassigned",
        "actionId": "act_1",
        "assignedBy": "user:usr_1",
        "assignedByName": "Ann Admin",
        "assignedByInitials": "AA",
        "to": "usr_2",
        "somethingNew": {"told": True},
    }

    assert as_answered(ShownEntry, reassigned) == reassigned


def test_the_paused_banner_is_told_apart_from_the_entries():
    banner = {"kind": "event", "event": "collection_paused", "pinned": True, "since": None}
    paused = {
        "id": "evt_1",
        "kind": "event",
        "at": "2026-03-02T10:00:00+00:00",
        "customerId": "cus_1",
        "invoiceIds": [],
        "event": "paused",
        "by": "apikey:key_1",
    }
    adapter = TypeAdapter(ShownEntry | PausedBanner)

    assert isinstance(adapter.validate_python(banner), PausedBanner)
    assert isinstance(adapter.validate_python(paused), ShownEntry)
    assert as_answered(ShownEntry | PausedBanner, banner) == banner


def test_a_customer_reply_keeps_from_as_on_the_wire():
    reply = {
        "id": "rpl_1",
        "status": "unmatched",
        "customerId": None,
        "actionId": None,
        "matchedBy": None,
        "from": "ap@customer.example",
        "fromName": "Accounts Payable",
        "to": ["ar+org_1@reply.example"],
        "cc": [],
        "subject": "Re: invoice",
        "text": "Paid yesterday.",
        "fullText": "Paid yesterday.\n> Dear customer",
        "truncated": False,
        "attachmentsOmitted": 0,
        "messageId": None,
        "automatic": False,
        "sentAt": None,
        "receivedAt": "2026-03-02T10:00:00+00:00",
        "attachments": [{"name": "remittance.pdf", "contentType": "application/pdf", "size": 3, "url": "https://x"}],
        "rawUrl": "https://raw",
        "unverified": True,
        "spam": False,
        "verdicts": {"spam": "PASS", "virus": "PASS", "spf": "FAIL", "dkim": "GRAY", "dmarc": "FAIL"},
    }
    blocked = {
        "id": "rpl_2",
        "status": "blocked",
        "reason": "virus",
        "from": "x@bad.example",
        "fromName": "",
        "recipients": ["ar+org_1@reply.example"],
        "subject": "invoice",
        "sentAt": None,
        "receivedAt": "2026-03-02T10:00:00+00:00",
        "verdicts": {"virus": "FAIL"},
    }

    assert as_answered(Reply, reply) == reply
    assert as_answered(Reply, {**reply, "assignedBy": "user:usr_1"})["assignedBy"] == "user:usr_1"
    assert as_answered(BlockedMail, blocked) == blocked


def test_a_note_and_a_notification_show_what_they_are_about_and_no_more():
    note = {
        "id": "note_1",
        "customerId": "cus_1",
        "invoiceIds": [],
        "actionId": None,
        "body": "@usr_1 call them",
        "mentions": ["usr_1"],
        "pinned": False,
        "author": "apikey:key_1",
        "owner": "apikey:key_1",
        "ownerName": "CRM sync",
        "createdAt": "2026-03-02T10:00:00+00:00",
        "updatedAt": "2026-03-02T10:00:00+00:00",
        "attachments": [{"id": "att_1", "name": "a.txt", "contentType": "text/plain", "size": 1, "url": "https://x"}],
    }
    mention = {
        "id": "ntf_1",
        "userId": "usr_1",
        "kind": "mention",
        "summary": "CRM sync mentioned you on Acme: call them",
        "at": "2026-03-02T10:00:00+00:00",
        "read": False,
        "channels": ["in_app", "email"],
        "about": "note_1",
        "customerId": "cus_1",
        "noteId": "note_1",
    }

    assert as_answered(Note, note) == note
    assert as_answered(Notifications, {"items": [mention], "unread": 1}) == {"items": [mention], "unread": 1}
