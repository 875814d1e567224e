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


def get_many(wanted: list[keys.Key], *, consistent: bool = False) -> list[dict[str, Any] | None]:
    """BatchGetItem: each key's item (or None), in the order asked, in one request (more only for the keys
    DynamoDB leaves unprocessed)."""
    name = table().name
    found: dict[tuple[str, str], dict[str, Any]] = {}
    pending: list[keys.Key] = list(wanted)
    while pending:
        answer = table().meta.client.batch_get_item(
            RequestItems={name: {"Keys": pending, "ConsistentRead": consistent}}
        )
        for item in answer["Responses"].get(name, []):
            found[(item["PK"], item["SK"])] = item
        pending = answer.get("UnprocessedKeys", {}).get(name, {}).get("Keys", [])
    return [without_keys(item) if (item := found.get((k["PK"], k["SK"]))) else None for k in wanted]


def customer_kinds(org_id: str, customer_id: str, first: str, last: str) -> dict[str, list[dict[str, Any]]]:
    """One Query of GSI1 ``ORG#<org>#CUS#<customer>``, sort keys from ``<first>#`` to ``<last>#…``: what is
    filed under the customer of those kinds and the kinds between them (``CON`` contacts, ``CRN`` credit
    notes, ``CUS`` the customer itself, ``INV`` invoices, ``NOTE`` notes, ``PAY`` payments, ``PINNED``
    pinned notes), by kind, oldest first."""
    condition = KeyCondition("GSI1PK").eq(keys.customer_records(org_id, customer_id)) & KeyCondition("GSI1SK").between(
        f"{first}#", f"{last}$"
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for item in query_all(IndexName="GSI1", KeyConditionExpression=condition):
        found.setdefault(str(item["GSI1SK"]).split("#", 1)[0], []).append(without_keys(item))
    return found


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
