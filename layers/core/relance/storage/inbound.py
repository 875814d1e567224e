"""Inbound mail: customer replies (matched to a customer or on the unmatched list), mail blocked for a
virus, and mail that named no organization (quarantined). Each is put once: a retried message finds it."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key as KeyCondition

from relance.storage import keys
from relance.storage.records import get, under_prefix
from relance.storage.table import put_if, query_all, update_if, without_keys


def add_reply(org_id: str, reply: dict[str, Any]) -> bool:
    """PutItem ``ORG#<org>``/``RPL#<reply>`` if absent, on GSI1 ``ORG#<org>#UNMATCHED`` when it has no
    ``customerId``; False when it was stored already."""
    unmatched = (
        keys.unmatched_reply_index_entry(org_id, reply["receivedAt"], reply["id"]) if not reply["customerId"] else {}
    )
    return put_if({**keys.reply(org_id, reply["id"]), **unmatched, **reply}, "attribute_not_exists(PK)")


def get_reply(org_id: str, reply_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``RPL#<reply>``."""
    return get(keys.reply(org_id, reply_id), consistent=consistent)


def unmatch(org_id: str, reply: dict[str, Any]) -> bool:
    """UpdateItem ``RPL#<reply>`` back to ``unmatched`` (and onto GSI1 ``ORG#<org>#UNMATCHED``) while it is
    still matched to the customer it was read with; False when it is not."""
    entry = keys.unmatched_reply_index_entry(org_id, reply["receivedAt"], reply["id"])
    return update_if(
        keys.reply(org_id, reply["id"]),
        "SET #s = :unmatched, customerId = :none, actionId = :none, matchedBy = :none, GSI1PK = :pk, GSI1SK = :sk",
        "#s = :matched AND customerId = :customer",
        {
            ":unmatched": "unmatched",
            ":none": None,
            ":pk": entry["GSI1PK"],
            ":sk": entry["GSI1SK"],
            ":matched": "matched",
            ":customer": reply["customerId"],
        },
        {"#s": "status"},
    )


def assign(org_id: str, reply_id: str, customer_id: str, assigned_by: str) -> bool:
    """UpdateItem ``RPL#<reply>`` to ``matched`` (by ``assigned``) to the customer, off the unmatched list,
    while it is unmatched; False when it is not."""
    return update_if(
        keys.reply(org_id, reply_id),
        "SET #s = :matched, customerId = :c, matchedBy = :by, assignedBy = :who REMOVE GSI1PK, GSI1SK",
        "#s = :unmatched",
        {
            ":matched": "matched",
            ":c": customer_id,
            ":by": "assigned",
            ":who": assigned_by,
            ":unmatched": "unmatched",
        },
        {"#s": "status"},
    )


def unmatched_replies(org_id: str) -> list[dict[str, Any]]:
    """Query GSI1 ``ORG#<org>#UNMATCHED``, newest first."""
    rows = query_all(
        IndexName="GSI1",
        KeyConditionExpression=KeyCondition("GSI1PK").eq(keys.unmatched_replies(org_id)),
        ScanIndexForward=False,
    )
    return [without_keys(r) for r in rows]


def add_blocked(org_id: str, record: dict[str, Any]) -> bool:
    """PutItem ``ORG#<org>``/``BLOCKED#<reply>`` if absent; False when it was stored already."""
    return put_if({**keys.blocked_mail(org_id, record["id"]), **record}, "attribute_not_exists(PK)")


def blocked_mail(org_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``BLOCKED#``."""
    return under_prefix(keys.blocked_mail(org_id, ""))


def quarantine(record: dict[str, Any]) -> bool:
    """PutItem ``QUARANTINE``/``RPL#<reply>`` if absent; False when it was stored already."""
    return put_if({**keys.quarantined_mail(record["id"]), **record}, "attribute_not_exists(PK)")


def quarantined_mail() -> list[dict[str, Any]]:
    """Query ``QUARANTINE`` (maintenance: no API reads it)."""
    return [without_keys(r) for r in query_all(KeyConditionExpression=KeyCondition("PK").eq(keys.quarantine()))]
