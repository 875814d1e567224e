"""In-app notifications, one partition per person, each kept 90 days (DynamoDB's TTL removes them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key as KeyCondition

from relance.storage import keys
from relance.storage.table import put_if, query_all, update_if, without_keys

KEEP_SECONDS = 90 * 86400


def add(org_id: str, user_id: str, notification: dict[str, Any], now: datetime) -> bool:
    """PutItem ``ORG#<org>#NOTIF#<user>``/``<id>`` if absent; False when it is there already (a retry)."""
    item = {
        **keys.notification(org_id, user_id, notification["id"]),
        "ttl": int(now.timestamp()) + KEEP_SECONDS,
        **notification,
    }
    return put_if(item, "attribute_not_exists(PK)")


def of_user(org_id: str, user_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>#NOTIF#<user>``: every notification of the person."""
    partition = KeyCondition("PK").eq(keys.notifications_of(org_id, user_id))
    return [without_keys(i) for i in query_all(KeyConditionExpression=partition)]


def mark_read(org_id: str, user_id: str, notification_id: str) -> bool:
    """UpdateItem ``read`` to true; False when the person has no such notification."""
    key = keys.notification(org_id, user_id, notification_id)
    return update_if(key, "SET #r = :true", "attribute_exists(PK)", {":true": True}, names={"#r": "read"})
