"""The base of every Relance model: camelCase on the wire and in storage, snake_case in Python."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class RelanceModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Record(RelanceModel):
    """A model read back from storage: internal attributes (keys, versions) are left out."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")
