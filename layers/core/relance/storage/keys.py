"""Every DynamoDB key of the single table, built here and nowhere else.

Each key starts with the organization (the tenant). ``docs/data-model.md`` lists the
access pattern each function serves.
"""

from __future__ import annotations

from typing import TypedDict


class Key(TypedDict):
    PK: str
    SK: str


def organization(org_id: str) -> Key:
    """An organization's profile and settings."""
    return {"PK": f"ORG#{org_id}", "SK": "ORG"}


def organizations_index() -> dict[str, str]:
    """GSI1 partition that lists every organization (the nightly fan-out)."""
    return {"GSI1PK": "ORGS"}


def organization_index_entry(org_id: str) -> dict[str, str]:
    """GSI1 attributes that put an organization into ``organizations_index``."""
    return {"GSI1PK": "ORGS", "GSI1SK": f"ORG#{org_id}"}


def api_key(org_id: str, secret_hash: str) -> Key:
    """An API key of an organization, addressed by the SHA-256 of its secret."""
    return {"PK": f"ORG#{org_id}", "SK": f"APIKEY#{secret_hash}"}


def api_keys_prefix(org_id: str) -> Key:
    """Partition and sort-key prefix of every API key of an organization."""
    return {"PK": f"ORG#{org_id}", "SK": "APIKEY#"}
