"""Timeline entries: what happened to a customer, kept on its timeline and on each invoice's it names."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from relance.domain.base import Record


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
