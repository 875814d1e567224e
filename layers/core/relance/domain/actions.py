"""Actions: an email, letter, text, task or call, planned for a workflow's step (or out of the blue), and
where it stands. docs/dunning.md tells how an action moves from one status to the next."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import MISSING, Field

from relance.domain.base import Record, RelanceModel
from relance.domain.files import Attachment
from relance.domain.workflows import ActionType


class ActionStatus(StrEnum):
    """Where an action stands; the value is what is stored (``status``)."""

    PLANNED = "planned"  # stored by Plan, due at ``scheduledAt``
    SENDING = "sending"  # claimed by Act, going out (an Act interrupted here is failed, never resent)
    SENT = "sent"  # an email or text that went
    TO_POST = "to_post"  # a letter written, for the post
    OPEN = "open"  # a task or call waiting for a person
    DONE = "done"  # a task or call a person completed
    SKIPPED = "skipped"  # by a person, or by dunning when nothing was left to remind of
    POSTPONED = "postponed"  # due while collection was paused: due again on resume
    REPLANNED = "replanned"  # sent back to Plan: the plan changed, or automatic actions were off
    FAILED = "failed"  # could not be done, saying why

    @property
    def is_final(self) -> bool:
        """Nothing more happens to it: not planned, being sent, or open for a person."""
        return self not in (ActionStatus.PLANNED, ActionStatus.SENDING, ActionStatus.OPEN)


class Action(Record):
    """An action as stored (``ACT#<action>``, docs/data-model.md). Times are ISO 8601 strings with their
    offset, as stored (``scheduledAt`` is also in the action's index key). Built by a service, it is
    written as ``stored()``: the attributes it was given, no others."""

    id: str
    customer_id: str
    workflow_id: str | None = None
    workflow_version: int = 0
    step_id: str = Field(description="the workflow's step; ``manual-<type>`` out of the blue, ``reply`` for a reply")
    type: ActionType
    status: ActionStatus
    scheduled_at: str
    invoice_ids: list[str] = Field(default_factory=list)
    carrying_invoice_id: str | None = None
    cycle: int = Field(default=0, description="the workflow's cycle; -1 out of the blue")
    created_at: str | None = None
    manual: bool = Field(default=False, description="out of the blue, a reply or a Reply task: not a workflow's")
    owner: str | None = Field(default=None, description="who does it, or who sent it (a user or ``apikey:<id>``)")
    owner_name: str | None = None
    note: str | None = None
    draft: dict[str, str] | None = Field(default=None, description="an email written for the customer: subject, text")
    reply_id: str | None = Field(default=None, description="a Reply task: the customer's mail it answers")
    title: str | None = Field(default=None, description="a Reply task's")
    in_reply_to: str | None = Field(default=None, description="a reply: the action it answers")
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    performed_at: str | None = None
    reason: str | None = None
    subject: str | None = None
    to: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    text: str | None = None

    def stored(self) -> dict[str, Any]:
        """The item's attributes: those the action was built or read with (an attribute never given is not
        written), camelCase as stored."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class ShownAction(RelanceModel):
    """An action as the API answers it: the attributes it has so far (one not written yet is absent, not
    null), what its delivery came to, a letter's PDF and its files as download links where shown."""

    id: str
    customer_id: str
    customer_name: str | MISSING = Field(default=MISSING, description="in the list of actions")
    workflow_id: str | None
    workflow_version: int
    step_id: str = Field(description="the workflow's step; ``manual-<type>`` out of the blue, ``reply`` for a reply")
    type: ActionType
    status: ActionStatus
    scheduled_at: str
    invoice_ids: list[str]
    carrying_invoice_id: str | MISSING | None = MISSING
    cycle: int = Field(description="the workflow's cycle; -1 out of the blue")
    created_at: str
    manual: bool | MISSING = Field(default=MISSING, description="out of the blue, a reply or a Reply task")
    title: str | MISSING = Field(default=MISSING, description="a Reply task's")
    owner: str | MISSING | None = Field(default=MISSING, description="who does it, or who sent it")
    owner_name: str | MISSING = Field(default=MISSING, description="an API key's label")
    note: str | MISSING | None = MISSING
    draft: dict[str, str] | MISSING = Field(default=MISSING, description="an email written for the customer")
    reply_id: str | MISSING = Field(default=MISSING, description="a Reply task: the customer's mail it answers")
    in_reply_to: str | MISSING = Field(default=MISSING, description="a reply: the action it answers")
    claimed_at: str | MISSING = MISSING
    performed_at: str | MISSING = MISSING
    held_at: str | MISSING = MISSING
    reason: str | MISSING = Field(default=MISSING, description="why it was skipped, postponed, replanned or failed")
    subject: str | MISSING = MISSING
    to: list[str] | MISSING = MISSING
    cc: list[str] | MISSING = MISSING
    text: str | MISSING = Field(default=MISSING, description="an email's text, without its portal link's token")
    attachments: list[Attachment] | MISSING = MISSING
    message_id: str | MISSING = MISSING
    portal_link_expires_at: str | MISSING = MISSING
    delivery_status: str | MISSING = Field(default=MISSING, description="sent, delivered, opened, bounced…")
    delivery_status_rank: int | MISSING = MISSING
    recipient_status: dict[str, str] | MISSING = Field(default=MISSING, description="by recipient's address")
    recipient_status_rank: dict[str, int] | MISSING = MISSING
    document_key: str | MISSING = Field(default=MISSING, description="a letter's PDF, where it is kept")
    document_url: str | MISSING = Field(default=MISSING, description="a letter's PDF, a download link")
    assigned_by: str | MISSING = MISSING
    assigned_at: str | MISSING = MISSING
    closed_at: str | MISSING = MISSING
    closed_by: str | MISSING = MISSING
    outcome: str | MISSING = Field(default=MISSING, description="an email out of the blue: sent, or why not")
