"""The organization's sender address: registered to one organization, verified by SES.

Setting ``senderEmail`` registers the address to the organization (refused when another
organization registered it first) and asks SES to verify it: SES emails it a link, and
sends from it once someone clicks. ``GET /v1/organization`` shows where that stands.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from relance import clock
from relance.domain.organizations import Organization
from relance.domain.senders import (
    Sender,
    SenderStatus,
    claim_key,
    domain_of,
    resend_allowed,
    sender_status,
    status_of,
)
from relance.errors import Conflict, Invalid, NotFound, SenderNotVerified, TooManyRequests
from relance.mail import identities
from relance.observability import logger
from relance.storage import senders as store
from relance.storage.table import TransactionCancelled

RECORD_EVERY = timedelta(hours=1)
"""How often an unchanged status is written again as SES's last word (for when SES cannot answer)."""


def is_registered(org_id: str, email: str) -> bool:
    return store.get(org_id, claim_key(email)) is not None


def register(org_id: str, email: str, settings: dict[str, Any]) -> bool:
    """Save ``settings`` naming ``email`` as the sender, the address becoming the organization's,
    then ask SES to verify it: True when SES emails it a link (False: SES already had it). 409
    naming ``senderEmail`` when another organization registered it: nothing is saved and no
    email goes to that address."""
    key = claim_key(email)
    now = clock.now().isoformat()
    try:
        store.register(org_id, key, settings, now)
    except TransactionCancelled as error:
        if error.reasons[0] == "ConditionalCheckFailed":
            raise Conflict(
                "another organization uses this sender address", {"senderEmail": "used by another organization"}
            ) from error
        if error.reasons[-1] == "ConditionalCheckFailed":
            raise NotFound("organization not found") from error
        raise Conflict("the settings changed meanwhile: try again") from error
    if not identities.create(email):
        return False
    store.record_verification_sent(org_id, key, now)
    return True


def sender_of(organization: Organization) -> Sender | None:
    """The sender address and what SES says of it now; the last known status if SES cannot answer."""
    email = organization.settings.sender_email
    if not email:
        return None
    key = claim_key(email)
    record = store.get(organization.id, key)
    sent_at = _when(record, "verificationSentAt")
    try:
        address = identities.get(email)
        domain = None if status_of(address) == SenderStatus.VERIFIED else identities.get(domain_of(email))
    except identities.Unanswered:  # what SES said last time
        logger.warning("SES did not answer about the sender identity", sender=email)
        status = SenderStatus((record or {}).get("status", SenderStatus.NOT_STARTED))
        return Sender(email=email, status=status, checked_at=_when(record, "checkedAt"), verification_sent_at=sent_at)
    now = clock.now()
    status = sender_status(address, domain)
    # Only an address registered here has a record (never one made by a read); it is written when the
    # status moved or its last check is old, not on every look at the settings.
    last = _when(record, "checkedAt")
    if record is not None and (record.get("status") != status.value or last is None or now - last >= RECORD_EVERY):
        store.record_check(organization.id, key, status.value, now.isoformat())
    return Sender(email=email, status=status, checked_at=now, verification_sent_at=sent_at)


def require_verified(organization: Organization) -> str:
    """The sender address when SES sends from it; else a 422 naming ``senderEmail``, before anything is written."""
    email = organization.settings.sender_email
    if not email:
        raise Invalid("the organization has no sender address", {"senderEmail": "set it in the settings"})
    if _sender(organization).status != SenderStatus.VERIFIED:
        raise SenderNotVerified(email)
    return email


def resend_verification(organization: Organization) -> Sender:
    """Ask SES to send the verification email again (at most once a minute); nothing to do once verified."""
    email = organization.settings.sender_email
    if not email:
        raise Invalid("the organization has no sender address", {"senderEmail": "set it in the settings first"})
    key = claim_key(email)
    record = store.get(organization.id, key)
    # Set before senders were registered: register it now, under the same rule (409 if another has it).
    if record is None and register(
        organization.id, email, organization.settings.model_dump(mode="json", by_alias=True)
    ):
        return _sender(organization)
    current = _sender(organization)
    if current.status == SenderStatus.VERIFIED:
        return current
    now = clock.now()
    if not resend_allowed(_when(record, "verificationSentAt"), now):
        raise TooManyRequests(
            "a verification email was sent less than a minute ago", {"senderEmail": "wait a minute and try again"}
        )
    if not identities.create(email):  # SES has it (pending or failed): SES v1 sends the email again
        identities.resend(email)
    store.record_verification_sent(organization.id, key, now.isoformat())
    return _sender(organization)


def _sender(organization: Organization) -> Sender:
    sender = sender_of(organization)
    assert sender is not None  # the organization has a sender address
    return sender


def _when(record: dict[str, Any] | None, field: str) -> datetime | None:
    value = (record or {}).get(field)
    return datetime.fromisoformat(value) if value else None
