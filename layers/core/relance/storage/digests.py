"""Weekly digests sent, one item per person and week: the claim that keeps a digest from going twice.

A digest is claimed (put if absent) before it is sent, marked ``sent`` with SES's message id after,
released (deleted) when SES took nothing so that a retried night sends it, or marked ``failed``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from relance.storage import keys
from relance.storage.records import delete, get
from relance.storage.table import put_if, table

KEEP_SECONDS = 400 * 86400
"""Kept past a year (clean-up only): long after any retry of the night could come."""


def claim(org_id: str, week_start: str, user_id: str, now: datetime) -> bool:
    """PutItem ``DIGEST#<week>#<user>`` if absent, ``sending``; False when it was claimed already."""
    item = {
        **keys.weekly_digest(org_id, week_start, user_id),
        "userId": user_id,
        "weekStart": week_start,
        "status": "sending",
        "claimedAt": now.isoformat(),
        "ttl": int(now.timestamp()) + KEEP_SECONDS,
    }
    return put_if(item, "attribute_not_exists(PK)")


def mark(org_id: str, week_start: str, user_id: str, status: str, fields: dict[str, Any]) -> None:
    """UpdateItem: ``sent`` (with ``messageId``, ``sentAt``) or ``failed`` (with ``reason``)."""
    names = {"#status": "status", **{f"#{name}": name for name in fields}}
    values = {":status": status, **{f":{name}": value for name, value in fields.items()}}
    table().update_item(
        Key=keys.weekly_digest(org_id, week_start, user_id),
        UpdateExpression="SET " + ", ".join(["#status = :status", *(f"#{n} = :{n}" for n in fields)]),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def release(org_id: str, week_start: str, user_id: str) -> None:
    """DeleteItem: nothing was sent, a retry may send it."""
    delete(keys.weekly_digest(org_id, week_start, user_id))


def get_digest(org_id: str, week_start: str, user_id: str) -> dict[str, Any] | None:
    """GetItem ``DIGEST#<week>#<user>``, strongly consistent."""
    return get(keys.weekly_digest(org_id, week_start, user_id), consistent=True)
