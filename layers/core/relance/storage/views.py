"""Saved views of the customer list, in the organization's directory."""

from __future__ import annotations

from typing import Any

from relance.storage import keys
from relance.storage.records import delete, get, under_prefix
from relance.storage.table import table


def put_view(org_id: str, view: dict[str, Any]) -> None:
    """PutItem ``ORG#<org>``/``VIEW#<view>`` (in GSI3 ``ORG#<org>#DIRECTORY``)."""
    key = keys.view(org_id, view["id"])
    table().put_item(Item={**key, **keys.in_directory(org_id, key), **view})


def get_view(org_id: str, view_id: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``VIEW#<view>``."""
    return get(keys.view(org_id, view_id))


def list_views(org_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``VIEW#``: every saved view, whoever sees it."""
    return under_prefix(keys.views_prefix(org_id))


def delete_view(org_id: str, view_id: str) -> None:
    """DeleteItem ``ORG#<org>``/``VIEW#<view>``."""
    delete(keys.view(org_id, view_id))
