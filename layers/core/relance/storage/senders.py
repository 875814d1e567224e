"""Sender addresses: those an organization registered, and the guard giving each address to one organization."""

from __future__ import annotations

from typing import Any

from relance.storage import keys
from relance.storage.table import put, table, transact, update, without_keys


def get(org_id: str, email: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``SENDER#<email>``: the organization's record of that address, or None."""
    item = table().get_item(Key=keys.sender(org_id, email), ConsistentRead=True).get("Item")
    return without_keys(item) if item else None


def register(org_id: str, email: str, settings: dict[str, Any], at: str) -> None:
    """In one transaction: ``email`` becomes the organization's (unless another one has it), its
    record is kept, and the settings naming it are saved. ``TransactionCancelled`` with
    ``ConditionalCheckFailed`` first: another organization has the address; last: no organization."""
    transact(
        [
            put(
                {**keys.sender_owner(email), "organizationId": org_id, "email": email, "registeredAt": at},
                condition="attribute_not_exists(PK) OR organizationId = :org",
                values={":org": org_id},
            ),
            update(
                keys.sender(org_id, email),
                "SET email = if_not_exists(email, :email), registeredAt = if_not_exists(registeredAt, :at)",
                values={":email": email, ":at": at},
            ),
            update(
                keys.organization(org_id),
                "SET settings = :s",
                values={":s": settings},
                condition="attribute_exists(PK)",
            ),
        ]
    )


def record_check(org_id: str, email: str, status: str, checked_at: str) -> None:
    """What SES said of the address, and when."""
    table().update_item(
        Key=keys.sender(org_id, email),
        UpdateExpression="SET #s = :s, checkedAt = :at",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": status, ":at": checked_at},
    )


def record_verification_sent(org_id: str, email: str, at: str) -> None:
    """SES was asked to send the verification email (again) at ``at``."""
    table().update_item(
        Key=keys.sender(org_id, email),
        UpdateExpression="SET verificationSentAt = :at",
        ExpressionAttributeValues={":at": at},
    )
