"""Portal links: an unguessable token per link, scoped to one customer, expiring."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime

from relance import clock
from relance.domain import tokens
from relance.domain.base import RelanceModel
from relance.settings import get_settings
from relance.storage import keys
from relance.storage.table import table

PREFIX = "pt"


class PortalLink(RelanceModel):
    url: str
    expires_at: AwareDatetime


def issue(org_id: str, customer_id: str, valid_days: int, reason: str) -> PortalLink:
    """A new link for the customer, stored hashed with its expiry (DynamoDB TTL only cleans up)."""
    plaintext, token_hash = tokens.generate(PREFIX, org_id)
    now = clock.now()
    expires_at: datetime = now + timedelta(days=valid_days)
    table().put_item(
        Item={
            **keys.portal_link(org_id, token_hash),
            "customerId": customer_id,
            "createdAt": now.isoformat(),
            "expiresAt": expires_at.isoformat(),
            "reason": reason,
            "ttl": int(expires_at.timestamp()) + 86400,
        }
    )
    return PortalLink(url=f"{get_settings().public_base_url}/portal/{plaintext}", expires_at=expires_at)
