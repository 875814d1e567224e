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

from relance.domain.timeline import EntryKind, TimelineEntry
from relance.errors import Invalid
from relance.ids import new_id
from relance.services import authorship
from relance.services.pagination import MAX_LIMIT
from relance.storage import files, keys
from relance.storage import timeline as store
from relance.storage.files import safe_name

DOWNLOAD_SECONDS = 300
_CURSOR = re.compile(r"^\d{4}-\d{2}-\d{2}T[^#]+#[\w-]+$")
PEOPLE_FIELDS = ("owner", "by", "closedBy", "assignedBy")


def _entry(
    customer_id: str, invoice_ids: list[str], kind: str, at: str, entry_id: str, data: dict[str, Any]
) -> TimelineEntry:
    return TimelineEntry(id=entry_id, kind=kind, at=at, customer_id=customer_id, invoice_ids=invoice_ids, data=data)


def record(
    org_id: str, customer_id: str, invoice_ids: list[str], kind: str, at: str, entry_id: str, data: dict[str, Any]
) -> None:
    """Write the entry on the customer's timeline and on each invoice's (same id: idempotent); ``kind`` is an
    ``EntryKind`` (another is refused), ``data`` what the kind tells."""
    entry = _entry(customer_id, invoice_ids, kind, at, entry_id, data)
    store.put_entry(org_id, customer_id, invoice_ids, at, entry_id, entry.stored())


def record_event(org_id: str, customer_id: str, at: str, data: dict[str, Any]) -> None:
    """An event on the customer's timeline alone, under a new id (``data["event"]`` says which)."""
    record(org_id, customer_id, [], EntryKind.EVENT, at, new_id("evt"), data)


def record_entries(
    org_id: str, customer_id: str, invoice_ids: list[str], kind: str, at: str, entry_id: str, data: dict[str, Any]
) -> list[dict[str, Any]]:
    """The same entry as transaction items, to land together with the change it tells of."""
    entry = _entry(customer_id, invoice_ids, kind, at, entry_id, data)
    return store.entry_puts(org_id, customer_id, invoice_ids, at, entry_id, entry.stored())


def remove(org_id: str, customer_id: str, invoice_ids: list[str], at: str, entry_id: str) -> None:
    store.delete_entry(org_id, customer_id, invoice_ids, at, entry_id)


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
    items, last = store.newest_first(org_id, subject, limit, _decode(cursor) if cursor else None)
    return items, base64.urlsafe_b64encode(last.encode()).decode() if last else None


def present(
    org_id: str, items: list[dict[str, Any]], people: dict[str, tuple[str, str]] | None = None
) -> list[dict[str, Any]]:
    """Names and initials of the people (and API keys) in the entries — from ``people`` when known
    (``authorship.people``), else one Query of the users, one of the keys — files as links."""
    return [with_links(entry) for entry in authorship.name_people(org_id, items, PEOPLE_FIELDS, people)]


def download_url(key: str, filename: str, content_type: str | None = None) -> str:
    """A file of the documents bucket, downloaded as ``filename``."""
    disposition = f'attachment; filename="{safe_name(filename)}"'
    return files.download_url(key, DOWNLOAD_SECONDS, content_type=content_type, disposition=disposition)


def raw_message_url(source: dict[str, Any], reply_id: str) -> str:
    """The raw message of a customer reply, as stored where SES put it (``source``: bucket, key)."""
    disposition = f'attachment; filename="{safe_name(reply_id)}.eml"'
    return files.message_url(source["bucket"], source["key"], DOWNLOAD_SECONDS, disposition=disposition)


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
    items, next_cursor = page(org_id, keys.customer_subject(customer["id"]), limit=limit, cursor=cursor)
    return paused_first(customer, items, cursor), next_cursor


def for_invoice(
    org_id: str, invoice_id: str, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """The invoice's timeline, newest first."""
    return page(org_id, keys.invoice_subject(invoice_id), limit=limit, cursor=cursor)


def paused_first(customer: dict[str, Any], items: list[dict[str, Any]], cursor: str | None) -> list[dict[str, Any]]:
    """A page of the customer's timeline (``page``) as shown: while collection is paused, that first."""
    if customer.get("collectionPaused") and not cursor:
        return [
            {"kind": "event", "event": "collection_paused", "pinned": True, "since": customer.get("pausedAt")},
            *items,
        ]
    return items
