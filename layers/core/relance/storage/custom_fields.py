"""Custom field definitions, in the organization's directory."""

from __future__ import annotations

from typing import Any

from relance.storage import keys
from relance.storage.records import delete, get, under_prefix
from relance.storage.table import table


def put_definition(org_id: str, definition: dict[str, Any]) -> None:
    """PutItem ``ORG#<org>``/``CF#<key>`` (in GSI3 ``ORG#<org>#DIRECTORY``)."""
    key = keys.custom_field(org_id, definition["key"])
    table().put_item(Item={**key, **keys.in_directory(org_id, key), **definition})


def get_definition(org_id: str, field_key: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``CF#<key>``."""
    return get(keys.custom_field(org_id, field_key))


def list_definitions(org_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``CF#``."""
    return under_prefix(keys.custom_fields_prefix(org_id))


def delete_definition(org_id: str, field_key: str) -> None:
    """DeleteItem ``ORG#<org>``/``CF#<key>``."""
    delete(keys.custom_field(org_id, field_key))
