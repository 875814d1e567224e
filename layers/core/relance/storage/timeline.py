"""Timelines: one partition per customer and per invoice, an entry under its customer and under each
invoice it names (same id in each, so a retried write is the same entry)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key as KeyCondition

from relance.storage import keys
from relance.storage.table import put, table, without_keys


def _subjects(customer_id: str, invoice_ids: list[str]) -> list[str]:
    return [keys.customer_subject(customer_id), *(keys.invoice_subject(i) for i in dict.fromkeys(invoice_ids))]


def _items(
    org_id: str, customer_id: str, invoice_ids: list[str], at: str, entry_id: str, entry: dict[str, Any]
) -> list[dict[str, Any]]:
    return [
        {**keys.timeline_entry(org_id, subject, at, entry_id), **entry}
        for subject in _subjects(customer_id, invoice_ids)
    ]


def put_entry(
    org_id: str, customer_id: str, invoice_ids: list[str], at: str, entry_id: str, entry: dict[str, Any]
) -> None:
    """BatchWriteItem: PutItem ``ORG#<org>#TL#CUS#<customer>``/``<at>#<entry>`` and the same under
    ``…#TL#INV#<invoice>`` for each of ``invoice_ids`` (a retry overwrites it)."""
    with table().batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
        for item in _items(org_id, customer_id, invoice_ids, at, entry_id, entry):
            batch.put_item(Item=item)


def entry_puts(
    org_id: str, customer_id: str, invoice_ids: list[str], at: str, entry_id: str, entry: dict[str, Any]
) -> list[dict[str, Any]]:
    """The same writes as ``put_entry``, as transaction entries (to land with the change it tells of)."""
    return [put(item) for item in _items(org_id, customer_id, invoice_ids, at, entry_id, entry)]


def delete_entry(org_id: str, customer_id: str, invoice_ids: list[str], at: str, entry_id: str) -> None:
    """BatchWriteItem: DeleteItem ``<at>#<entry>`` from the customer's timeline and each invoice's."""
    with table().batch_writer() as batch:
        for subject in _subjects(customer_id, invoice_ids):
            batch.delete_item(Key=keys.timeline_entry(org_id, subject, at, entry_id))


def newest_first(
    org_id: str, subject: str, limit: int, after: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Query ``ORG#<org>#TL#<subject>``, ScanIndexForward false, ``Limit``, from after the sort key
    ``after``: one page of entries as stored, and the sort key of its last when more follow."""
    pk = keys.timeline(org_id, subject)
    query: dict[str, Any] = {"KeyConditionExpression": KeyCondition("PK").eq(pk), "ScanIndexForward": False}
    if after:
        at, _, entry_id = after.partition("#")
        query["ExclusiveStartKey"] = keys.timeline_entry(org_id, subject, at, entry_id)
    answer = table().query(**query, Limit=limit)
    last = answer.get("LastEvaluatedKey")
    return [without_keys(item) for item in answer["Items"]], (str(last["SK"]) if last else None)
