"""Deployment settings, read once from the function's environment (set by template.yaml)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """What a function needs to know about the stack it runs in."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    stage: str = Field(default="local", validation_alias="STAGE")
    table_name: str = Field(default="relance", validation_alias="TABLE_NAME")
    documents_bucket: str = Field(default="relance-documents", validation_alias="DOCUMENTS_BUCKET")
    aws_region: str = Field(default="us-east-1", validation_alias="AWS_REGION")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process; tests clear the cache after changing the environment."""
    return Settings()
