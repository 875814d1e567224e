"""The data ``python -m local serve`` starts with: a demo organization, or an empty one."""

from __future__ import annotations

from typing import Any

from relance.services.organizations import create_organization

DEMO_ORGANIZATION = "Demo Trading Ltd"
EMPTY_ORGANIZATION = "My Organization"


def seed(*, demo: bool) -> dict[str, Any]:
    """Create the first organization (with demo data when asked); returns its session facts."""
    organization, api_key = create_organization(DEMO_ORGANIZATION if demo else EMPTY_ORGANIZATION)
    return {
        "organization": {"id": organization.id, "name": organization.name},
        "apiKey": api_key,
        "users": [],
    }
