"""The organization's sender address: who may use it, and what SES says about it.

An organization sends only from an address it registered (setting ``senderEmail``
registers it), and one address belongs to one organization: the first that registers it.
SES verifies it (the link in the email SES sends to it); until then SES refuses to send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, Field

from relance.domain.base import RelanceModel

RESEND_INTERVAL = timedelta(minutes=1)
"""At most one verification email a minute per address (SES allows one such call a second per account)."""


class SenderStatus(StrEnum):
    NOT_STARTED = "not_started"  # SES has no identity for it (never created, or deleted)
    PENDING = "pending"  # the verification email is sent; nobody clicked its link yet
    VERIFIED = "verified"  # SES sends from it
    FAILED = "failed"  # the link expired (after 24 hours) or verification failed: send it again


@dataclass(frozen=True)
class IdentityState:
    """What SES v2 ``GetEmailIdentity`` says of one identity (an address or a domain)."""

    verified_for_sending: bool
    verification_status: str  # PENDING, SUCCESS, FAILED, TEMPORARY_FAILURE, NOT_STARTED


def status_of(identity: IdentityState | None) -> SenderStatus:
    """One identity's status: ``VerifiedForSendingStatus`` decides "verified"; ``None`` is no identity."""
    if identity is None:
        return SenderStatus.NOT_STARTED
    if identity.verified_for_sending:
        return SenderStatus.VERIFIED
    return {
        "FAILED": SenderStatus.FAILED,
        "NOT_STARTED": SenderStatus.NOT_STARTED,
    }.get(identity.verification_status.upper(), SenderStatus.PENDING)


def sender_status(address: IdentityState | None, domain: IdentityState | None) -> SenderStatus:
    """What SES will do with the address: send if it, or its whole domain, is verified for sending."""
    if status_of(domain) == SenderStatus.VERIFIED:
        return SenderStatus.VERIFIED
    return status_of(address)


def claim_key(email: str) -> str:
    """Addresses are one per organization whatever their case: ``AR@x.com`` is ``ar@x.com``."""
    return email.strip().lower()


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()


def resend_allowed(last_sent_at: datetime | None, now: datetime) -> bool:
    """A verification email may go again once ``RESEND_INTERVAL`` has passed since the last one."""
    return last_sent_at is None or now - last_sent_at >= RESEND_INTERVAL


class Sender(RelanceModel):
    """The sender address and its verification in SES (read-only, ``GET /v1/organization``)."""

    email: str
    status: SenderStatus = Field(description="not_started, pending (email sent, link not clicked), verified, failed")
    checked_at: AwareDatetime | None = Field(default=None, description="when SES was last asked")
    verification_sent_at: AwareDatetime | None = Field(
        default=None, description="when Relance last asked SES to send the verification email"
    )
