"""The single table, and the conversions every aggregate module shares."""

from __future__ import annotations

from typing import Any

from relance.aws import resource
from relance.settings import get_settings


def table() -> Any:
    """The boto3 Table resource of the single table named by ``TABLE_NAME``."""
    return resource("dynamodb").Table(get_settings().table_name)


def without_keys(item: dict[str, Any]) -> dict[str, Any]:
    """An item's attributes minus the table's key and index attributes."""
    return {k: v for k, v in item.items() if k not in {"PK", "SK", "GSI1PK", "GSI1SK", "ttl"}}
