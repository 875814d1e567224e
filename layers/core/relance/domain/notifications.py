"""A person's notifications, as the API shows them: what needs them, and what it is about."""

from __future__ import annotations

from pydantic import MISSING, Field

from relance.domain.base import RelanceModel


class PaymentReceived(RelanceModel):
    """What Stripe said was paid, when it is not what was asked (Stripe's units and currency)."""

    amount_total: int | None
    currency: str | None
    event_id: str | None


class Notification(RelanceModel):
    """One notification of one person; beside what every one has, the ids of what it is about."""

    id: str
    user_id: str
    kind: str = Field(description="assigned, mention, reply_in, contact_invalidated, portal_message, dispute_opened…")
    summary: str
    at: str
    read: bool
    channels: list[str] = Field(description="in_app, email, slack: where the person is told")
    about: str = Field(description="what it is about, once per person (a reply's id, a note's…)")
    customer_id: str | MISSING = MISSING
    invoice_ids: list[str] | MISSING = MISSING
    action_id: str | MISSING = MISSING
    note_id: str | MISSING = MISSING
    reply_id: str | MISSING = MISSING
    contact_id: str | MISSING = MISSING
    email: str | MISSING = MISSING
    reason: str | MISSING = MISSING
    checkout_id: str | MISSING = MISSING
    received: PaymentReceived | MISSING = MISSING


class Notifications(RelanceModel):
    """The caller's in-app notifications, newest first, and how many of them are unread."""

    items: list[Notification]
    unread: int
