"""Notes: each listed under its customer in GSI1, pinned ones apart (they come back with the customer)."""

from __future__ import annotations

from typing import Any

from relance.storage import keys
from relance.storage.records import delete, get, of_customer
from relance.storage.table import put_if


def _item(org_id: str, note: dict[str, Any]) -> dict[str, Any]:
    listing = keys.note_listing(bool(note.get("pinned")))
    index = keys.record_index_entry(org_id, note["customerId"], listing, note["createdAt"], note["id"])
    return {**keys.note(org_id, note["id"]), **index, **note}


def create(org_id: str, note: dict[str, Any]) -> bool:
    """PutItem ``ORG#<org>``/``NOTE#<note>`` (GSI1 ``ORG#<org>#CUS#<customer>`` / ``NOTE#`` or ``PINNED#``
    ``<createdAt>#<note>``) if absent; False when it exists."""
    return put_if(_item(org_id, note), "attribute_not_exists(PK)")


def replace_if_unchanged(org_id: str, note: dict[str, Any], seen_updated_at: str) -> bool:
    """PutItem the note (its GSI1 place following ``pinned``) while its ``updatedAt`` is still
    ``seen_updated_at``; False when it changed meanwhile."""
    return put_if(_item(org_id, note), "updatedAt = :seen", values={":seen": seen_updated_at})


def get_note(org_id: str, note_id: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``NOTE#<note>``, strongly consistent (its ``updatedAt`` guards a change)."""
    return get(keys.note(org_id, note_id), consistent=True)


def delete_note(org_id: str, note_id: str) -> None:
    """DeleteItem ``ORG#<org>``/``NOTE#<note>``."""
    delete(keys.note(org_id, note_id))


def notes_of(org_id: str, customer_id: str, *, pinned: bool) -> list[dict[str, Any]]:
    """Query GSI1 ``ORG#<org>#CUS#<customer>``, SK begins with ``PINNED#`` (``pinned``) or ``NOTE#``,
    oldest first."""
    return of_customer(org_id, customer_id, keys.note_listing(pinned))
