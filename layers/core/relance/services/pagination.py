"""Cursor pagination over sorted rows: the cursor is the opaque, validated sort key of the last row."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any, TypeVar

from relance.errors import Invalid

T = TypeVar("T")
MAX_LIMIT = 200


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error) as error:
        raise Invalid("cursor is not one this API gave", {"cursor": "invalid"}) from error
    if not isinstance(key, list) or len(key) < 2 or not isinstance(key[-1], str):
        raise Invalid("cursor is not one this API gave", {"cursor": "invalid"})
    if not all(isinstance(part, str | int | float) for part in key):
        raise Invalid("cursor is not one this API gave", {"cursor": "invalid"})
    return list(key)


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid("limit out of range", {"limit": f"between 1 and {MAX_LIMIT}"})


def paginate(
    rows: list[T],
    key: Callable[[T], tuple[Any, ...]],
    *,
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """The page of ``rows`` (sorted here by ``key``: scalars, the last one the id) after ``cursor``."""
    check_limit(limit)
    keyed = sorted(((key(row), row) for row in rows), key=lambda pair: pair[0], reverse=descending)
    if cursor:
        after = tuple(decode_cursor(cursor))
        try:
            keyed = [pair for pair in keyed if (pair[0] < after if descending else pair[0] > after)]
        except TypeError as error:
            raise Invalid("cursor does not fit this sort", {"cursor": "invalid for this sort"}) from error
    page = keyed[:limit]
    next_cursor = encode_cursor(list(page[-1][0])) if len(keyed) > limit else None
    return [row for _, row in page], next_cursor
