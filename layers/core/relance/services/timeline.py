"""One timeline per customer and per invoice: every action and event, stored as it happens.

An entry is written under the customer and under each invoice it concerns (same id, so a
retried write is the same entry). Reading is one Query of the subject's partition, newest
first, a page at a time; entries come back with their people's names and initials and their
files as short-lived download links.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from boto3.dynamodb.conditions import Key as KeyCondition

from relance.aws import client
from relance.errors import Invalid
from relance.services import authorship
from relance.services.pagination import MAX_LIMIT
from relance.settings import get_settings
from relance.storage import keys
from relance.storage.table import put, table, without_keys

DOWNLOAD_SECONDS = 300
_CURSOR = re.compile(r"^\d{4}-\d{2}-\d{2}T[^#]+#[\w-]+$")
PEOPLE_FIELDS = ("owner", "by", "closedBy", "assignedBy")


def _subjects(customer_id: str, invoice_ids: list[str]) -> list[str]:
    return [f"CUS#{customer_id}", *(f"INV#{i}" for i in dict.fromkeys(invoice_ids))]


def _entry(
    customer_id: str, invoice_ids: list[str], kind: str, at: str, entry_id: str, data: dict[str, Any]
) -> dict[str, Any]:
    return {"id": entry_id, "kind": kind, "at": at, "customerId": customer_id, "invoiceIds": invoice_ids, **data}


def record(
    org_id: str, customer_id: str, invoice_ids: list[str], kind: str, at: str, entry_id: str, data: dict[str, Any]
) -> None:
    """Write the entry on the customer's timeline and on each invoice's (same id: idempotent)."""
    entry = _entry(customer_id, invoice_ids, kind, at, entry_id, data)
    with table().batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
        for subject in _subjects(customer_id, invoice_ids):
            batch.put_item(Item={**keys.timeline_entry(org_id, subject, at, entry_id), **entry})


def record_entries(
    org_id: str, customer_id: str, invoice_ids: list[str], kind: str, at: str, entry_id: str, data: dict[str, Any]
) -> list[dict[str, Any]]:
    """The same entry as transaction items, to land together with the change it tells of."""
    entry = _entry(customer_id, invoice_ids, kind, at, entry_id, data)
    return [
        put({**keys.timeline_entry(org_id, subject, at, entry_id), **entry})
        for subject in _subjects(customer_id, invoice_ids)
    ]


def remove(org_id: str, customer_id: str, invoice_ids: list[str], at: str, entry_id: str) -> None:
    with table().batch_writer() as batch:
        for subject in _subjects(customer_id, invoice_ids):
            batch.delete_item(Key=keys.timeline_entry(org_id, subject, at, entry_id))


def _decode(cursor: str) -> str:
    try:
        sort_key = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, binascii.Error) as error:
        raise Invalid("cursor is not one this API gave", {"cursor": "invalid"}) from error
    if not _CURSOR.match(sort_key):
        raise Invalid("cursor is not one this API gave", {"cursor": "invalid"})
    return sort_key


def page(
    org_id: str, subject: str, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Query ``ORG#<org>#TL#<subject>`` newest first: one page, as shown, and the cursor of the next."""
    items, next_cursor = raw_page(org_id, subject, limit=limit, cursor=cursor)
    return present(org_id, items), next_cursor


def raw_page(
    org_id: str, subject: str, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """One Query of ``ORG#<org>#TL#<subject>`` newest first: a page as stored (``present`` shows it) and
    the cursor of the next."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid("limit out of range", {"limit": f"between 1 and {MAX_LIMIT}"})
    pk = keys.timeline(org_id, subject)
    query: dict[str, Any] = {
        "KeyConditionExpression": KeyCondition("PK").eq(pk),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if cursor:
        query["ExclusiveStartKey"] = {"PK": pk, "SK": _decode(cursor)}
    answer = table().query(**query)
    last = answer.get("LastEvaluatedKey")
    next_cursor = base64.urlsafe_b64encode(last["SK"].encode()).decode() if last else None
    return [without_keys(item) for item in answer["Items"]], next_cursor


def present(
    org_id: str, items: list[dict[str, Any]], people: dict[str, tuple[str, str]] | None = None
) -> list[dict[str, Any]]:
    """Names and initials of the people (and API keys) in the entries — from ``people`` when known
    (``authorship.people``), else one Query of the users, one of the keys — files as links."""
    return [with_links(entry) for entry in authorship.name_people(org_id, items, PEOPLE_FIELDS, people)]


def download_url(key: str, filename: str, content_type: str | None = None) -> str:
    params = {
        "Bucket": get_settings().documents_bucket,
        "Key": key,
        "ResponseContentDisposition": f'attachment; filename="{safe_name(filename)}"',
    }
    if content_type:
        params["ResponseContentType"] = content_type
    return str(client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=DOWNLOAD_SECONDS))


def safe_name(name: str) -> str:
    """A file name safe in a storage key and a header: letters, digits, ``._- `` only."""
    cleaned = re.sub(r"[^\w.\- ]+", "_", name).strip(" .") or "attachment"
    return cleaned[-120:]


def raw_message_url(source: dict[str, Any], reply_id: str) -> str:
    """The raw message of a customer reply, as stored where SES put it (``source``: bucket, key)."""
    params = {
        "Bucket": source["bucket"],
        "Key": source["key"],
        "ResponseContentDisposition": f'attachment; filename="{safe_name(reply_id)}.eml"',
        "ResponseContentType": "message/rfc822",
    }
    return str(client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=DOWNLOAD_SECONDS))


def with_links(entry: dict[str, Any]) -> dict[str, Any]:
    """A letter's PDF, a reply's raw message and an entry's attachments as download links; storage
    keys stay inside."""
    shown = {k: v for k, v in entry.items() if k not in ("documentKey", "source")}
    source = entry.get("source")
    if isinstance(source, dict) and source.get("bucket") and source.get("key"):
        shown["rawUrl"] = raw_message_url(source, str(entry.get("id", "message")))
    if entry.get("documentKey"):
        name = f"{entry.get('type', 'document')}-{entry.get('id', '')}.pdf"
        shown["documentUrl"] = download_url(entry["documentKey"], name, "application/pdf")
    if entry.get("attachments"):
        shown["attachments"] = [
            {
                **{k: v for k, v in a.items() if k != "key"},
                **({"url": download_url(a["key"], a.get("name", "file"))} if a.get("key") else {}),
            }
            for a in entry["attachments"]
        ]
    return shown


def for_customer(
    org_id: str, customer: dict[str, Any], *, limit: int = 50, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """The customer's timeline, newest first; while collection is paused, that shows first."""
    items, next_cursor = page(org_id, f"CUS#{customer['id']}", limit=limit, cursor=cursor)
    return paused_first(customer, items, cursor), next_cursor


def paused_first(customer: dict[str, Any], items: list[dict[str, Any]], cursor: str | None) -> list[dict[str, Any]]:
    """A page of the customer's timeline (``page``) as shown: while collection is paused, that first."""
    if customer.get("collectionPaused") and not cursor:
        return [
            {"kind": "event", "event": "collection_paused", "pinned": True, "since": customer.get("pausedAt")},
            *items,
        ]
    return items
