"""Reads every aggregate shares: one item by key, a key prefix, a customer's records."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key as KeyCondition

from relance.storage import keys
from relance.storage.table import query_all, table, without_keys


def get(key: keys.Key, *, consistent: bool = False) -> dict[str, Any] | None:
    """GetItem: the item's attributes, or None."""
    item = table().get_item(Key=key, ConsistentRead=consistent).get("Item")
    return without_keys(item) if item else None


def under_prefix(prefix: keys.Key, projection: str | None = None) -> list[dict[str, Any]]:
    """Query ``PK`` with SK beginning with the prefix, every page."""
    condition = KeyCondition("PK").eq(prefix["PK"]) & KeyCondition("SK").begins_with(prefix["SK"])
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition}
    if projection:
        kwargs["ProjectionExpression"] = projection
    return [without_keys(i) for i in query_all(**kwargs)]


def of_customer(org_id: str, customer_id: str, prefix: str) -> list[dict[str, Any]]:
    """Query GSI1 ``ORG#<org>#CUS#<customer>``, sort key beginning with ``<prefix>#``, oldest first."""
    condition = KeyCondition("GSI1PK").eq(keys.customer_records(org_id, customer_id)) & KeyCondition(
        "GSI1SK"
    ).begins_with(f"{prefix}#")
    return [without_keys(i) for i in query_all(IndexName="GSI1", KeyConditionExpression=condition)]


def delete(key: keys.Key) -> None:
    table().delete_item(Key=key)
