"""Tell people about what needs them: in-app notifications (email and Slack come with their channels)."""

from __future__ import annotations

from typing import Any

from relance import clock
from relance.ids import new_id
from relance.storage import keys
from relance.storage.table import table


def notify(org_id: str, user_ids: list[str], kind: str, data: dict[str, Any]) -> None:
    at = clock.now().isoformat()
    with table().batch_writer() as batch:
        for user_id in dict.fromkeys(user_ids):
            notification_id = new_id("ntf")
            batch.put_item(
                Item={
                    **keys.notification(org_id, user_id, at, notification_id),
                    "id": notification_id,
                    "userId": user_id,
                    "kind": kind,
                    "at": at,
                    "read": False,
                    **data,
                }
            )
