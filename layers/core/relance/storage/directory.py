"""An organization's small lists that screens name things with: users, saved views, workflows."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key as KeyCondition

from relance.storage import keys
from relance.storage.table import query_all


def directory(org_id: str) -> dict[str, list[dict[str, Any]]]:
    """One Query ``ORG#<org>``, SK between ``USER#`` and ``WF#…``: ``{"USER": [...], "VIEW": [...], "WF": [...]}``."""
    partition, start, end = keys.directory_range(org_id)
    condition = KeyCondition("PK").eq(partition) & KeyCondition("SK").between(start, end)
    found: dict[str, list[dict[str, Any]]] = {"USER": [], "VIEW": [], "WF": []}
    for item in query_all(KeyConditionExpression=condition):
        kind = str(item["SK"]).split("#", 1)[0]
        if kind in found:
            found[kind].append({k: v for k, v in item.items() if k not in ("PK", "SK")})
    return found
