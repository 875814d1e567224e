"""Portal links: each stored under the SHA-256 of its secret, never the token itself."""

from __future__ import annotations

from typing import Any

from relance.storage import keys
from relance.storage.records import get
from relance.storage.table import table


def put_link(org_id: str, token_hash: str, link: dict[str, Any]) -> None:
    """PutItem ``ORG#<org>``/``PORTAL#<sha256 of secret>``."""
    table().put_item(Item={**keys.portal_link(org_id, token_hash), **link})


def get_link(org_id: str, token_hash: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``PORTAL#<sha256 of secret>``."""
    return get(keys.portal_link(org_id, token_hash))
