"""One timeline per customer and per invoice: every action and event, stored as it happens."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key as KeyCondition

from relance.storage import keys
from relance.storage.table import table


def record(
    org_id: str, customer_id: str, invoice_ids: list[str], kind: str, at: str, entry_id: str, data: dict[str, Any]
) -> None:
    """Write the entry on the customer's timeline and on each invoice's (same id: idempotent)."""
    entry = {"id": entry_id, "kind": kind, "at": at, "customerId": customer_id, "invoiceIds": invoice_ids, **data}
    with table().batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
        for subject in [f"CUS#{customer_id}", *(f"INV#{i}" for i in invoice_ids)]:
            batch.put_item(Item={**keys.timeline_entry(org_id, subject, at, entry_id), **entry})


def entries(org_id: str, subject: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>#TL#<subject>``, newest first (one page of up to 100 entries)."""
    page = table().query(
        KeyConditionExpression=KeyCondition("PK").eq(keys.timeline(org_id, subject)), ScanIndexForward=False, Limit=100
    )
    return [{k: v for k, v in item.items() if k not in ("PK", "SK")} for item in page["Items"]]


def for_customer(org_id: str, customer: dict[str, Any]) -> list[dict[str, Any]]:
    """The customer's timeline, newest first; while collection is paused, that shows first."""
    items = entries(org_id, f"CUS#{customer['id']}")
    if customer.get("collectionPaused"):
        since = next((e["at"] for e in items if e.get("event") == "paused"), None)
        items = [{"kind": "event", "event": "collection_paused", "pinned": True, "since": since}, *items]
    return items
