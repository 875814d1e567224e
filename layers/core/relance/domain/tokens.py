"""Bearer secrets that carry their organization: ``<prefix>_<organization id>_<secret>``.

The secret has 256 bits of randomness and is stored only as its SHA-256 (at that entropy a
slow hash adds nothing); the organization id in the token finds the record with one GetItem
in the organization's partition. API keys use the prefix ``rk``, portal links ``pt``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import NamedTuple


class ParsedToken(NamedTuple):
    organization_id: str
    secret_hash: str


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate(prefix: str, organization_id: str) -> tuple[str, str]:
    """A new token: ``(plaintext to hand out once, hash to store)``."""
    secret = secrets.token_urlsafe(32)
    return f"{prefix}_{organization_id}_{secret}", secret_hash(secret)


def parse(prefix: str, raw: str) -> ParsedToken | None:
    """The organization and hash a presented token claims, or None when it is not one."""
    match = re.fullmatch(rf"{prefix}_(org_[0-9a-z]{{26}})_([A-Za-z0-9_-]{{43}})", raw.strip())
    if match is None:
        return None
    return ParsedToken(match.group(1), secret_hash(match.group(2)))
