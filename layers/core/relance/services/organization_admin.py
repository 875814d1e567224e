"""Create organizations, and change an organization's settings, name and sender (admins)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from relance import clock
from relance.domain import api_keys
from relance.domain.base import OneLine, RelanceModel
from relance.domain.customers import DEFAULT_POSITIONS
from relance.domain.inbound import inbound_address
from relance.domain.organizations import (
    Organization,
    OrganizationSettings,
    Principal,
    automatic_actions_back_on,
    send_window_changed,
)
from relance.domain.senders import Sender
from relance.ids import new_id
from relance.services import senders
from relance.services.access import require_admin
from relance.services.nudges import nudge_organization
from relance.services.organizations import get_organization
from relance.services.workflows import default_workflow_items
from relance.settings import get_settings
from relance.storage import organizations as store
from relance.storage.contacts import position_item


class OrganizationView(Organization):
    """The organization as ``GET /v1/organization`` shows it, with where its sender's verification stands."""

    sender: Sender | None = Field(
        default=None, description="read-only: the sender address's verification by SES; null without senderEmail"
    )
    inbound_address: str | None = Field(
        default=None,
        description="read-only: the organization's own inbound address (ar+<organization>@<ReplyDomain>); mail "
        "sent or forwarded there is for this organization alone, matched to one of its customers or kept unmatched",
    )


def create_organization(name: str, settings: OrganizationSettings | None = None) -> tuple[Organization, str]:
    """A new organization with a first admin API key; returns it and the key, shown once."""
    organization = Organization(
        id=new_id("org"),
        name=name,
        created_at=clock.now(),
        settings=settings or OrganizationSettings(),
    )
    plaintext, secret_hash = api_keys.generate(organization.id)
    key_record = {
        "id": new_id("key"),
        "name": "Initial admin key",
        "role": "admin",
        "createdAt": organization.created_at.isoformat(),
    }
    positions = default_position_items(organization.id)
    workflows = default_workflow_items(organization.id, positions)
    store.create(organization.model_dump(mode="json", by_alias=True), key_record, secret_hash, positions + workflows)
    return organization, plaintext


def default_position_items(org_id: str) -> list[dict[str, object]]:
    """The positions every organization starts with."""
    return [position_item(org_id, {"id": new_id("pos"), "name": name}) for name in DEFAULT_POSITIONS]


def update_settings(principal: Principal, settings: OrganizationSettings) -> Organization:
    """Replace the organization's settings (admin); a new rating basis applies from the next rating.
    Automatic actions back on (or a new send window) plan every workflow again.

    A sender address new to the organization is registered to it (409 naming ``senderEmail``
    when another organization has it) and SES starts verifying it; one it registered before
    (switching back) is only set.
    """
    require_admin(principal)
    org_id = principal.organization_id
    before = get_organization(org_id).settings
    document = settings.model_dump(mode="json", by_alias=True)
    if settings.sender_email and not senders.is_registered(org_id, settings.sender_email):
        senders.register(org_id, settings.sender_email, document)
    else:
        store.update_settings(org_id, document)
    if send_window_changed(before, settings) or automatic_actions_back_on(before, settings):
        nudge_organization(org_id)  # every planned moment may have moved, or held workflows go on
    return get_organization(org_id)


class OrganizationName(RelanceModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine]


def rename_organization(principal: Principal, fields: OrganizationName) -> Organization:
    """The organization's name (admin): on the portal, in reminders' signatures, in invitations."""
    require_admin(principal)
    store.rename(principal.organization_id, fields.name)
    return get_organization(principal.organization_id)


def organization_view(organization_id: str) -> OrganizationView:
    """The organization with where its sender's verification by SES stands (asked of SES now)."""
    organization = get_organization(organization_id)
    return OrganizationView.model_validate(
        {
            **organization.model_dump(),
            "sender": senders.sender_of(organization),
            "inbound_address": inbound_address(organization.id, get_settings().reply_domain),
        }
    )


def resend_sender_verification(principal: Principal) -> Sender:
    """Ask SES to email the sender address its verification link again (admin)."""
    require_admin(principal)
    return senders.resend_verification(get_organization(principal.organization_id))
