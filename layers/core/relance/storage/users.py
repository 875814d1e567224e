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
    key = keys.user(org_id, user["id"])
    table().put_item(Item={**key, **keys.in_directory(org_id, key), **user})


def delete_user(org_id: str, user_id: str) -> None:
    delete(keys.user(org_id, user_id))


def find_by_email(org_id: str, email: str) -> dict[str, Any] | None:
    """The organization's user with this address (lower case), if any (Query of its users)."""
    return next((u for u in list_users(org_id) if str(u.get("email", "")).lower() == email), None)


def put_invitation(email: str, invitation: dict[str, Any]) -> None:
    table().put_item(Item={**keys.invitation(email, invitation["id"]), **invitation})


def get_invitation(email: str, invitation_id: str) -> dict[str, Any] | None:
    """GetItem ``INVITEE#<address>``/``IVT#<id>``, strongly consistent."""
    return get(keys.invitation(email, invitation_id), consistent=True)


def invitations_of(email: str) -> list[dict[str, Any]]:
    """Query ``INVITEE#<address>``, SK begins with ``IVT#``."""
    return under_prefix(keys.invitations_of(email))


def delete_invitation(email: str, invitation_id: str) -> None:
    delete(keys.invitation(email, invitation_id))
