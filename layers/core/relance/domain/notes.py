"""A note on a customer (and on invoices or an action of theirs), as the API shows it."""

from __future__ import annotations

from pydantic import MISSING, Field

from relance.domain.base import RelanceModel
from relance.domain.files import Attachment


class Note(RelanceModel):
    """A note: its text with ``@usr_…`` mentions, pinned or not, who wrote it, its files. Times are ISO
    8601 with their offset, as stored."""

    id: str
    customer_id: str
    invoice_ids: list[str]
    action_id: str | None
    body: str
    mentions: list[str] = Field(description="the users the body mentions")
    pinned: bool
    author: str = Field(description="who wrote it: ``user:<id>`` or ``apikey:<id>``")
    owner: str = Field(description="the user who wrote it (their id), or the API key (``apikey:<id>``)")
    owner_name: str | MISSING = Field(default=MISSING, description="an API key's label, kept when it is revoked")
    created_at: str
    updated_at: str
    attachments: list[Attachment]
