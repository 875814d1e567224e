"""People of an organization, with their role (mirrored in Cognito groups)."""

from __future__ import annotations

from typing import Any

from relance.storage import keys
from relance.storage.records import delete, get, under_prefix
from relance.storage.table import table


def get_user(org_id: str, user_id: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``USER#<id>``."""
    return get(keys.user(org_id, user_id))


def list_users(org_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``USER#``."""
    return under_prefix(keys.users_prefix(org_id))


def save_user(org_id: str, user: dict[str, Any]) -> None:
    table().put_item(Item={**keys.user(org_id, user["id"]), **user})


def delete_user(org_id: str, user_id: str) -> None:
    delete(keys.user(org_id, user_id))
