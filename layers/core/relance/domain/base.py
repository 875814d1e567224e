"""The base of every Relance model: camelCase on the wire and in storage, snake_case in Python."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.alias_generators import to_camel
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _single_line(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError("control_characters", "no line breaks, tabs or other control characters")
    return value


class _OneLine:
    """``Annotated[str, StringConstraints(...), OneLine]``: text that ends up on one line, in an email
    header or a file name (a person's, a sender's, a customer's or a file's name). A line break, tab or
    other control character is a 422 naming the field; the OpenAPI document says so with a pattern."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(_single_line, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {**handler(schema), "pattern": r"^[^\x00-\x1f\x7f]*$"}


OneLine = _OneLine()


class RelanceModel(BaseModel):
    # defer_build: a model's validator is built when it is first used, not when its module is imported (the
    # API function defines some 190 models; a request uses a few: docs/architecture.md, cold starts)
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)


class Record(RelanceModel):
    """A model read back from storage: internal attributes (keys, versions) are left out."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True)
