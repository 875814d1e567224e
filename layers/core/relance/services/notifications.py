"""Tell people about what needs them: in-app notifications (email and Slack come with their channels)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key as KeyCondition

from relance import clock
from relance.domain.organizations import Principal
from relance.errors import NotFound
from relance.ids import new_id
from relance.storage import keys
from relance.storage.table import table, update_if


def notify(org_id: str, user_ids: list[str], kind: str, data: dict[str, Any]) -> None:
    at = clock.now().isoformat()
    with table().batch_writer() as batch:
        for user_id in dict.fromkeys(user_ids):
            notification_id = new_id("ntf")
            batch.put_item(
                Item={
                    **keys.notification(org_id, user_id, notification_id),
                    "id": notification_id,
                    "userId": user_id,
                    "kind": kind,
                    "at": at,
                    "read": False,
                    **data,
                }
            )


def list_notifications(principal: Principal, limit: int = 50) -> dict[str, Any]:
    """The caller's notifications, newest first, and how many are unread (Query of their partition)."""
    if not principal.user_id:
        return {"items": [], "unread": 0}
    page = table().query(
        KeyConditionExpression=KeyCondition("PK").eq(
            keys.notifications_of(principal.organization_id, principal.user_id)
        ),
        ScanIndexForward=False,
    )
    items = [{k: v for k, v in i.items() if k not in ("PK", "SK")} for i in page["Items"]]
    return {"items": items[:limit], "unread": sum(1 for i in items if not i["read"])}


def mark_read(principal: Principal, notification_id: str) -> None:
    key = keys.notification(principal.organization_id, principal.user_id or "-", notification_id)
    if not update_if(key, "SET #r = :true", "attribute_exists(PK)", {":true": True}, names={"#r": "read"}):
        raise NotFound("notification not found")
