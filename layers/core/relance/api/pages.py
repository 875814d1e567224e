"""The list shape of docs/api.md: ``{"items": [...], "nextCursor": ...}``."""

from __future__ import annotations

from typing import Generic, TypeVar

from relance.domain.base import RelanceModel

T = TypeVar("T")


class Page(RelanceModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
