"""Custom fields an organization defines on its customers, and the values they accept."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from relance.domain.base import RelanceModel


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    SELECT = "select"


class CustomFieldDefinition(RelanceModel):
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    type: FieldType
    options: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _options_for_select(self) -> CustomFieldDefinition:
        if (self.type == FieldType.SELECT) != bool(self.options):
            raise PydanticCustomError("options", "options are required for select fields, and only for them")
        return self

    def problem_with(self, value: Any) -> str | None:
        """Why ``value`` does not fit this field, or None (None always fits: it clears the field)."""
        if value is None:
            return None
        if self.type == FieldType.NUMBER:
            return None if isinstance(value, int) and not isinstance(value, bool) else "must be a whole number"
        if not isinstance(value, str):
            return "must be a string"
        if self.type == FieldType.TEXT:
            return None if len(value) <= 500 else "at most 500 characters"
        if self.type == FieldType.DATE:
            try:
                date.fromisoformat(value)
            except ValueError:
                return "must be a date (YYYY-MM-DD)"
            return None
        return None if value in self.options else f"must be one of {', '.join(self.options)}"
