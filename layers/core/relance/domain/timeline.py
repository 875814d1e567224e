"""Timeline entries: what happened to a customer, kept on its timeline and on each invoice's it names."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import MISSING, ConfigDict, Field, model_validator

from relance.domain.actions import ActionStatus
from relance.domain.base import Record, RelanceModel
from relance.domain.files import Attachment
from relance.domain.workflows import ActionType


class EntryKind(StrEnum):
    """What an entry tells; the value is what is stored (``kind``)."""

    ACTION = "action"  # an email, letter, text, task or call, and where it stands (``status``)
    EVENT = "event"  # named by ``event``: skipped, postponed, paused, resumed, reassigned, done…
    REPLY_IN = "reply_in"  # the customer wrote
    REPLY_OUT = "reply_out"  # answered from the timeline
    PAYMENT = "payment"
    CREDIT_NOTE = "credit_note"
    NOTE = "note"
    PORTAL_MESSAGE = "portal_message"  # written on the portal


class TimelineEntry(Record):
    """An entry as stored: what every entry has, and beside it ``data``, what its kind tells (an email's
    subject, an event's reason…). ``at`` is ISO 8601 with its offset, as in the entry's sort key."""

    id: str
    kind: EntryKind
    at: str
    customer_id: str
    invoice_ids: list[str]
    data: dict[str, Any] = Field(default_factory=dict, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _data_beside(cls, value: Any) -> Any:
        """Read from storage, the attributes that are not the entry's are its data."""
        if not isinstance(value, dict) or "data" in value:
            return value
        own = {f.alias or name for name, f in cls.model_fields.items()} | set(cls.model_fields)
        return {
            **{k: v for k, v in value.items() if k in own},
            "data": {k: v for k, v in value.items() if k not in own},
        }

    def stored(self) -> dict[str, Any]:
        """The item's attributes: the entry's, then its data's."""
        return {**self.model_dump(mode="json", by_alias=True), **self.data}


class SettledInvoice(RelanceModel):
    """An invoice a payment or credit note settles: how much of it, and what the invoice still owes."""

    invoice_id: str
    number: str | None
    amount: int
    due_at: str | None
    outstanding: int
    status: str | None


class ShownEntry(RelanceModel):
    """An entry as the timeline shows it: what every entry has, then what its kind tells — the fields below
    are those Relance writes, each on the kinds named — with people's names and initials beside their ids,
    and files as download links. An entry may tell more than these."""

    model_config = ConfigDict(extra="allow")

    id: str
    kind: EntryKind
    at: str
    customer_id: str
    invoice_ids: list[str]
    event: str | MISSING = Field(default=MISSING, description="event: what happened (paused, skipped, reassigned…)")
    type: ActionType | MISSING = Field(default=MISSING, description="action, held: the action's type")
    status: ActionStatus | MISSING = Field(default=MISSING, description="action: where it stands")
    step_id: str | MISSING = Field(default=MISSING, description="action, skipped, postponed, held: the step")
    reason: str | MISSING | None = Field(default=MISSING, description="why (skipped, failed, disputed…)")
    action_id: str | MISSING | None = Field(default=MISSING, description="the action it is about")
    reply_id: str | MISSING = Field(default=MISSING, description="a Reply task: the customer's mail")
    in_reply_to: str | MISSING = Field(default=MISSING, description="reply_out: the action it answers")
    owner: str | MISSING | None = Field(default=MISSING, description="who does it, sent it or wrote it")
    owner_name: str | MISSING = MISSING
    owner_initials: str | MISSING = MISSING
    by: str | MISSING = Field(default=MISSING, description="who did it (a user or an API key)")
    by_name: str | MISSING = MISSING
    by_initials: str | MISSING = MISSING
    assigned_by: str | MISSING = Field(default=MISSING, description="reassigned: who gave it")
    assigned_by_name: str | MISSING = MISSING
    assigned_by_initials: str | MISSING = MISSING
    from_: str | MISSING | None = Field(
        default=MISSING, alias="from", description="reply_in, portal_message: the sender; workflow_changed: the old"
    )
    from_name: str | MISSING | None = MISSING
    to: list[str] | str | MISSING | None = Field(
        default=MISSING, description="emails: the recipients; reassigned: the new owner; workflow_changed: the new"
    )
    cc: list[str] | MISSING = MISSING
    subject: str | MISSING = MISSING
    text: str | MISSING = MISSING
    body: str | MISSING = Field(default=MISSING, description="note, portal_message")
    note: str | MISSING | None = MISSING
    comment: str | MISSING | None = Field(default=MISSING, description="disputes and promises")
    attachments: list[Attachment] | MISSING = MISSING
    raw_url: str | MISSING = Field(default=MISSING, description="reply_in: the raw message, a download link")
    document_url: str | MISSING = Field(default=MISSING, description="a letter's PDF, a download link")
    matched_by: str | MISSING | None = MISSING
    automatic: bool | MISSING = MISSING
    truncated: bool | MISSING = MISSING
    unverified: bool | MISSING = MISSING
    spam: bool | MISSING = MISSING
    mentions: list[str] | MISSING = MISSING
    pinned: bool | MISSING = MISSING
    author: str | MISSING = MISSING
    updated_at: str | MISSING = MISSING
    channel: str | MISSING = MISSING
    contact_id: str | MISSING = MISSING
    email: str | MISSING = MISSING
    was: str | MISSING | None = Field(default=MISSING, description="contact_validated: why it was invalid")
    number: str | MISSING = Field(default=MISSING, description="the invoice's number")
    numbers: list[str] | MISSING = MISSING
    promised_for: str | MISSING | None = MISSING
    amount: int | MISSING = Field(default=MISSING, description="minor units")
    currency: str | MISSING = MISSING
    on: str | MISSING = MISSING
    unapplied: int | MISSING = MISSING
    allocations: list[SettledInvoice] | MISSING = MISSING
    checkout_id: str | MISSING = MISSING
    payment_method: str | MISSING = MISSING
    since: str | MISSING | None = MISSING
    days: int | MISSING = MISSING


class PausedBanner(RelanceModel):
    """First on a customer's timeline while collection is paused (not an entry: no id, no time)."""

    kind: Literal["event"]
    event: Literal["collection_paused"]
    pinned: bool
    since: str | None
