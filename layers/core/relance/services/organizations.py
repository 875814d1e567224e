"""Create organizations and authenticate their API keys."""

from __future__ import annotations

from relance import clock
from relance.domain import api_keys
from relance.domain.customers import DEFAULT_POSITIONS
from relance.domain.organizations import Organization, OrganizationSettings, Principal
from relance.errors import NotFound
from relance.ids import new_id
from relance.services.access import require_admin
from relance.services.workflows import default_workflow_items
from relance.storage import organizations as store
from relance.storage.contacts import position_item


def create_organization(name: str, settings: OrganizationSettings | None = None) -> tuple[Organization, str]:
    """A new organization with a first admin API key; returns it and the key, shown once."""
    org = Organization(
        id=new_id("org"),
        name=name,
        created_at=clock.now(),
        settings=settings or OrganizationSettings(),
    )
    plaintext, secret_hash = api_keys.generate(org.id)
    key_record = {
        "id": new_id("key"),
        "name": "Initial admin key",
        "role": "admin",
        "createdAt": org.created_at.isoformat(),
    }
    positions = default_position_items(org.id)
    workflows = default_workflow_items(org.id, positions)
    store.create(org.model_dump(mode="json", by_alias=True), key_record, secret_hash, positions + workflows)
    return org, plaintext


def get_organization(organization_id: str) -> Organization:
    item = store.get(organization_id)
    if item is None:
        raise NotFound("organization not found")
    return Organization.model_validate(item)


def default_position_items(org_id: str) -> list[dict[str, object]]:
    """The positions every organization starts with."""
    return [position_item(org_id, {"id": new_id("pos"), "name": name}) for name in DEFAULT_POSITIONS]


def authenticate_api_key(raw_key: str) -> Principal | None:
    """The principal an ``X-Api-Key`` value stands for, or None if it is not a live key."""
    parsed = api_keys.parse(raw_key)
    if parsed is None:
        return None
    record = store.get_api_key(parsed.organization_id, parsed.secret_hash)
    if record is None:
        return None
    return Principal(
        organization_id=parsed.organization_id,
        role=record["role"],
        principal_id=f"apikey:{record['id']}",
    )


def update_settings(principal: Principal, settings: OrganizationSettings) -> Organization:
    """Replace the organization's settings (admin); a new rating basis applies from the next rating."""
    require_admin(principal)
    store.update_settings(principal.organization_id, settings.model_dump(mode="json", by_alias=True))
    return get_organization(principal.organization_id)
