"""API keys: ``rk_<organization id>_<secret>``, shown once, stored as the SHA-256 of the secret."""

from __future__ import annotations

from relance.domain import tokens
from relance.domain.tokens import ParsedToken

PREFIX = "rk"
ParsedKey = ParsedToken


def generate(organization_id: str) -> tuple[str, str]:
    return tokens.generate(PREFIX, organization_id)


def parse(raw: str) -> ParsedKey | None:
    return tokens.parse(PREFIX, raw)
