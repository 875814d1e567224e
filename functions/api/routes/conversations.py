"""What happened with a customer: timelines, notes, replies in and out, notifications."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from relance.api.caller import caller
from relance.api.pages import Page
from relance.domain.actions import ShownAction
from relance.domain.base import RelanceModel
from relance.domain.files import Attachment
from relance.domain.inbound import BlockedMail, Reply
from relance.domain.notes import Note
from relance.domain.notifications import Notifications
from relance.domain.organizations import Principal
from relance.domain.timeline import PausedBanner, ShownEntry
from relance.services import inbound, notes, notifications, replies, timeline
from relance.services.access import customer_item
from relance.services.ledger import visible_invoice
from relance.services.notes import FileDeclaration, NoteFields, NotePatch, Upload
from relance.services.replies import ReplyFields

router = Router()
Caller = Annotated[Principal, Depends(caller)]
Limit = Annotated[int, Query(ge=1, le=200)]


class Assignment(RelanceModel):
    customer_id: str = Field(min_length=1, description="the customer this reply is from")


class WrittenNote(Note):
    """A note just written: each file it declares comes with its presigned upload."""

    uploads: list[Upload]


class FileAdded(RelanceModel):
    """A file declared on a note, and the presigned upload to send it with."""

    attachment: Attachment
    upload: Upload


@router.get("/v1/customers/<customer_id>/timeline", tags=["timeline"], summary="A customer's timeline, newest first")
def customer_timeline(
    principal: Caller, customer_id: str, limit: Limit = 50, cursor: str | None = None
) -> Page[ShownEntry | PausedBanner]:
    customer = customer_item(principal, customer_id)
    items, next_cursor = timeline.for_customer(principal.organization_id, customer, limit=limit, cursor=cursor)
    return Page[ShownEntry | PausedBanner](items=items, next_cursor=next_cursor)


@router.get("/v1/invoices/<invoice_id>/timeline", tags=["timeline"], summary="An invoice's timeline, newest first")
def invoice_timeline(
    principal: Caller, invoice_id: str, limit: Limit = 50, cursor: str | None = None
) -> Page[ShownEntry]:
    visible_invoice(principal, invoice_id)
    items, next_cursor = timeline.for_invoice(principal.organization_id, invoice_id, limit=limit, cursor=cursor)
    return Page[ShownEntry](items=items, next_cursor=next_cursor)


# ---------------------------------------------------------------- notes


@router.post(
    "/v1/customers/<customer_id>/notes",
    status_code=201,
    tags=["notes"],
    summary="Write a note (with @mentions and files)",
)
def create_note(principal: Caller, customer_id: str, body: NoteFields) -> tuple[WrittenNote, int]:
    return WrittenNote.model_validate(notes.create(principal, customer_id, body)), 201


@router.get("/v1/customers/<customer_id>/notes", tags=["notes"], summary="A customer's notes, pinned first")
def customer_notes(principal: Caller, customer_id: str, pinned: bool = False) -> Page[Note]:
    return Page[Note](items=notes.notes_of(principal, customer_id, pinned_only=pinned))


@router.get("/v1/notes/<note_id>", tags=["notes"], summary="A note")
def get_note(principal: Caller, note_id: str) -> Note:
    return Note.model_validate(notes.get_note(principal, note_id))


@router.patch("/v1/notes/<note_id>", tags=["notes"], summary="Edit a note's text (author or admin), pin or unpin it")
def update_note(principal: Caller, note_id: str, body: NotePatch) -> Note:
    return Note.model_validate(notes.update(principal, note_id, body))


@router.delete(
    "/v1/notes/<note_id>", status_code=204, tags=["notes"], summary="Delete a note and its files (author or admin)"
)
def delete_note(principal: Caller, note_id: str) -> tuple[None, int]:
    notes.delete(principal, note_id)
    return None, 204


@router.post(
    "/v1/notes/<note_id>/attachments",
    status_code=201,
    tags=["notes"],
    summary="Add a file to a note: answers a presigned upload",
)
def add_note_attachment(principal: Caller, note_id: str, body: FileDeclaration) -> tuple[FileAdded, int]:
    return FileAdded.model_validate(notes.add_attachment(principal, note_id, body)), 201


# ---------------------------------------------------------------- replies


@router.post(
    "/v1/actions/<action_id>/reply",
    status_code=201,
    tags=["replies"],
    summary="Answer an email (or a Reply task) from the timeline",
)
def reply(principal: Caller, action_id: str, body: ReplyFields) -> tuple[ShownAction, int]:
    return ShownAction.model_validate(replies.reply(principal, action_id, body)), 201


@router.get("/v1/replies/unmatched", tags=["replies"], summary="Customer mail no customer was found for")
def unmatched_replies(principal: Caller) -> Page[Reply]:
    return Page[Reply](items=inbound.list_unmatched(principal))


@router.get(
    "/v1/replies/blocked",
    tags=["replies"],
    summary="Mail dropped for a virus: who sent it, when, its subject and SES's verdicts (admins)",
)
def blocked_replies(principal: Caller) -> Page[BlockedMail]:
    return Page[BlockedMail](items=inbound.list_blocked(principal))


@router.get("/v1/replies/<reply_id>", tags=["replies"], summary="A customer reply, with its files")
def get_reply(principal: Caller, reply_id: str) -> Reply:
    return Reply.model_validate(inbound.get_reply(principal, reply_id))


@router.post(
    "/v1/replies/<reply_id>/assign", tags=["replies"], summary="Put an unmatched reply on a customer's timeline"
)
def assign_reply(principal: Caller, reply_id: str, body: Assignment) -> Reply:
    return Reply.model_validate(inbound.assign(principal, reply_id, body.customer_id))


# ---------------------------------------------------------------- notifications


@router.get("/v1/notifications", tags=["notifications"], summary="The caller's notifications and unread count")
def list_notifications(principal: Caller) -> Notifications:
    return Notifications.model_validate(notifications.list_notifications(principal))


@router.post(
    "/v1/notifications/<notification_id>/read",
    status_code=204,
    tags=["notifications"],
    summary="Mark a notification read",
)
def read_notification(principal: Caller, notification_id: str) -> tuple[None, int]:
    notifications.mark_read(principal, notification_id)
    return None, 204
