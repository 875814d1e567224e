"""Portal links: an unguessable token per link, scoped to one customer, expiring.

The token (``pt_<org>_<secret>``, 256 bits of randomness) is handed out once; only the
SHA-256 of its secret is stored. Every use checks the expiry: DynamoDB TTL only cleans up.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from pydantic import AwareDatetime, Field

from relance import clock
from relance.domain import tokens
from relance.domain.base import RelanceModel
from relance.domain.organizations import Principal
from relance.domain.portal import link_open
from relance.errors import NotFound
from relance.services.customers import customer_item
from relance.services.organizations import get_organization
from relance.settings import get_settings
from relance.storage import keys
from relance.storage.records import get
from relance.storage.table import table

PREFIX = "pt"


class PortalLink(RelanceModel):
    url: str
    expires_at: AwareDatetime


class PortalLinkRequest(RelanceModel):
    expires_in_days: int | None = Field(
        default=None, ge=1, le=1000, description="how long the link works; default: the organization's setting"
    )
    preview: bool = Field(
        default=False, description="a link for the team to look at the portal: its visits are not the customer's"
    )


class PortalAccess(NamedTuple):
    """Who a valid token lets in."""

    organization_id: str
    customer_id: str
    preview: bool


def issue(org_id: str, customer_id: str, valid_days: int, reason: str, *, preview: bool = False) -> PortalLink:
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
            "preview": preview,
            "ttl": int(expires_at.timestamp()) + 86400,
        }
    )
    return PortalLink(url=f"{get_settings().public_base_url}/portal/{plaintext}", expires_at=expires_at)


def create(principal: Principal, customer_id: str, request: PortalLinkRequest) -> PortalLink:
    """``POST /v1/customers/{id}/portal-link``: the customer must be visible to the caller."""
    customer_item(principal, customer_id)
    org = get_organization(principal.organization_id)
    days = request.expires_in_days or org.settings.portal_link_validity_days
    reason = "preview" if request.preview else f"requested by {principal.user_id or principal.principal_id}"
    return issue(principal.organization_id, customer_id, days, reason, preview=request.preview)


def resolve(raw: str) -> PortalAccess:
    """The customer a presented token opens; NotFound (never saying why) when it is malformed,
    unknown or expired."""
    parsed = tokens.parse(PREFIX, raw)
    if parsed is None:
        raise NotFound("no such portal link")
    link = get(keys.portal_link(parsed.organization_id, parsed.secret_hash))
    if link is None or not link_open(link["expiresAt"], clock.now()):
        raise NotFound("no such portal link")
    return PortalAccess(parsed.organization_id, link["customerId"], bool(link.get("preview")))
