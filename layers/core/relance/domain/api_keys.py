"""API keys: ``rk_<organization id>_<secret>``, shown once, stored as the SHA-256 of the secret.

The organization id inside the key lets the authorizer find the key with one GetItem in
the organization's partition. The secret carries 256 bits of randomness, so a plain
SHA-256 (not a slow password hash) is the right way to store it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import NamedTuple

_KEY = re.compile(r"^rk_(org_[0-9a-z]{26})_([A-Za-z0-9_-]{43})$")


class ParsedKey(NamedTuple):
    organization_id: str
    secret_hash: str


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate(organization_id: str) -> tuple[str, str]:
    """A new key for the organization: ``(plaintext to show once, hash to store)``."""
    secret = secrets.token_urlsafe(32)
    return f"rk_{organization_id}_{secret}", secret_hash(secret)


def parse(raw: str) -> ParsedKey | None:
    """The organization and hash a presented key claims, or None when it is not a key."""
    match = _KEY.match(raw.strip())
    if match is None:
        return None
    return ParsedKey(match.group(1), secret_hash(match.group(2)))
