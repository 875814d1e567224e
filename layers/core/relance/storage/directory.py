"""Reads of the web app's screens: an organization's small lists (users, saved views, workflows), and
everything filed under one customer — each in one Query."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key as KeyCondition

from relance.storage import keys
from relance.storage.table import query_all, without_keys


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


def customer_records(org_id: str, customer_id: str) -> dict[str, list[dict[str, Any]]]:
    """One Query of GSI1 ``ORG#<org>#CUS#<customer>``, whatever the sort key: everything filed under a
    customer (contacts, invoices, payments, credit notes, refunds, actions, notes), by kind, oldest first."""
    condition = KeyCondition("GSI1PK").eq(keys.customer_records(org_id, customer_id))
    found: dict[str, list[dict[str, Any]]] = {}
    for item in query_all(IndexName="GSI1", KeyConditionExpression=condition):
        kind = str(item["GSI1SK"]).split("#", 1)[0]
        found.setdefault(kind, []).append(without_keys(item))
    return found
