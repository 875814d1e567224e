"""The analytics snapshots: the dashboard's figures per organization, scope and day, so the web app's
first page reads one item instead of the whole ledger (docs/analytics.md, "Snapshots").

A snapshot is the dashboard report as JSON, zlib-compressed into one binary attribute (a year of
monthly figures and 13 weeks per currency stay far below DynamoDB's 400 KB item limit). Snapshots
expire after ``KEEP_DAYS`` (the table's ``ttl``).
"""

from __future__ import annotations

import zlib
from datetime import date, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key as KeyCondition

from relance.storage import keys
from relance.storage.records import get
from relance.storage.table import table

KEEP_DAYS = 400
"""Long enough for "as of" any day of the last 13 months."""


def put_snapshot(org_id: str, scope: str, day: date, computed_at: datetime, body: bytes) -> None:
    """PutItem ``ORG#<org>``/``ANALYTICS#<scope>#<day>`` (a later computation of the day replaces it)."""
    expires = computed_at + timedelta(days=KEEP_DAYS)
    table().put_item(
        Item={
            **keys.analytics_snapshot(org_id, scope, day.isoformat()),
            "day": day.isoformat(),
            "computedAt": computed_at.isoformat(),
            "figures": zlib.compress(body),
            "ttl": int(expires.timestamp()),
        }
    )


def _figures(item: dict[str, Any]) -> bytes:
    return zlib.decompress(bytes(item["figures"]))


def snapshot_of(org_id: str, scope: str, day: date) -> bytes | None:
    """GetItem: the figures of that day's snapshot, or None."""
    item = get(keys.analytics_snapshot(org_id, scope, day.isoformat()))
    return _figures(item) if item else None


def latest_snapshot(org_id: str, scope: str) -> bytes | None:
    """Query ``ORG#<org>``, SK begins with ``ANALYTICS#<scope>#``, newest first, one item."""
    prefix = keys.analytics_snapshots_prefix(org_id, scope)
    items = (
        table()
        .query(
            KeyConditionExpression=KeyCondition("PK").eq(prefix["PK"]) & KeyCondition("SK").begins_with(prefix["SK"]),
            ScanIndexForward=False,
            Limit=1,
        )
        .get("Items", [])
    )
    return _figures(items[0]) if items else None
