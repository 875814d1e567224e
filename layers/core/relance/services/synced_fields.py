"""A record a source system manages keeps the fields its source sets read-only (docs/integrations.md,
"Synced fields"): changed in Relance, they would be overwritten by the next run, and the books would
disagree meanwhile. The services that change customers, contacts and invoices call these checks; sync's
own writes (a ``sync:<name>`` principal) pass."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relance.domain.integrations import label_of, refused_change
from relance.domain.organizations import Principal
from relance.errors import Conflict


def _is_sync(principal: Principal) -> bool:
    return principal.principal_id.startswith("sync:")


def check_change(principal: Principal, item: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
    """409 naming the first field of ``changes`` that the record's source sets (its value unchanged passes)."""
    if _is_sync(principal):
        return
    field = refused_change(item, changes)
    if field is not None:
        source = label_of(str(item["syncedFrom"]))
        raise Conflict(
            f"{field} is synced from {source}: change it in {source}", {field: f"read-only: synced from {source}"}
        )


def check_managed(principal: Principal, item: Mapping[str, Any], what: str) -> None:
    """409 when the record is managed in a source (delete it, void it there: the next run follows)."""
    if item.get("syncedFrom") and not _is_sync(principal):
        source = label_of(str(item["syncedFrom"]))
        raise Conflict(
            f"this {what} is managed in {source}: delete or void it there", {"syncedFrom": f"managed in {source}"}
        )
