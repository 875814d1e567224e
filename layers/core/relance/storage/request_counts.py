"""Each organization's API requests per wall-clock second: one item per second, removed (TTL) a little
after it stops mattering (``relance.api.throttle`` limits each organization with it)."""

from __future__ import annotations

from relance.storage import keys
from relance.storage.table import update_if

KEEP_SECONDS = 120


def count(org_id: str, second: int, limit: int) -> bool:
    """Count one request of the organization in ``second``; False (not counted) when it already has
    ``limit`` (one conditional UpdateItem)."""
    return update_if(
        keys.request_count(org_id, second),
        "ADD hits :one SET #ttl = if_not_exists(#ttl, :ttl)",
        "attribute_not_exists(hits) OR hits < :limit",
        {":one": 1, ":limit": limit, ":ttl": second + KEEP_SECONDS},
        {"#ttl": "ttl"},
    )
