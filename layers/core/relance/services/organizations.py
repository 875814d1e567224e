"""An organization as services read it, and the principal behind an API key: what most requests need
of an organization (creating one and changing its settings are ``organization_admin``)."""

from __future__ import annotations

from relance.domain import api_keys
from relance.domain.organizations import Organization, Principal
from relance.errors import NotFound
from relance.storage import organizations as store


def get_organization(organization_id: str) -> Organization:
    item = store.get(organization_id)
    if item is None:
        raise NotFound("organization not found")
    return Organization.model_validate(item)


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
