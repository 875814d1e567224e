"""The team's side of a customer's portal links: a new link (or a preview for the team), and revoking every
link issued so far (``portal_links`` holds the links themselves: what a visitor's token opens)."""

from __future__ import annotations

from pydantic import Field

from relance import clock
from relance.domain.base import RelanceModel
from relance.domain.organizations import Principal
from relance.errors import NotFound
from relance.services import timeline
from relance.services.access import customer_item
from relance.services.organizations import get_organization
from relance.services.portal_links import PortalLink, generation_of, issue
from relance.storage import customers as customer_store


class PortalLinkRequest(RelanceModel):
    expires_in_days: int | None = Field(
        default=None, ge=1, le=1000, description="how long the link works; default: the organization's setting"
    )
    preview: bool = Field(
        default=False, description="a link for the team to look at the portal: its visits are not the customer's"
    )


def create(principal: Principal, customer_id: str, request: PortalLinkRequest) -> PortalLink:
    """``POST /v1/customers/{id}/portal-link``: the customer must be visible to the caller."""
    customer = customer_item(principal, customer_id, consistent=True)
    organization = get_organization(principal.organization_id)
    days = request.expires_in_days or organization.settings.portal_link_validity_days
    reason = "preview" if request.preview else f"requested by {principal.user_id or principal.principal_id}"
    return issue(
        principal.organization_id,
        customer_id,
        days,
        reason,
        preview=request.preview,
        generation=generation_of(customer),
    )


def revoke(principal: Principal, customer_id: str) -> None:
    """``DELETE /v1/customers/{id}/portal-links``: every link of the customer issued so far, and every
    way back from Stripe started from one, is dead (404 as an unknown link); the team sees who did it."""
    customer = customer_item(principal, customer_id)
    if customer_store.revoke_portal_links(principal.organization_id, customer["id"]) is None:
        raise NotFound("customer not found")
    event = {"event": "portal_links_revoked", "by": principal.principal_id}
    timeline.record_event(principal.organization_id, customer["id"], clock.now().isoformat(), event)
