"""Bearer secrets that carry their organization: ``<prefix>_<organization id>_<secret>``.

The secret has 256 bits of randomness and is stored only as its SHA-256 (at that entropy a
slow hash adds nothing); the organization id in the token finds the record with one GetItem
in the organization's partition. API keys use the prefix ``rk``, portal links ``pt``, and the way
back from Stripe Checkout ``pr`` (``pr_<organization id>_<checkout id>_<secret>``: tied to its checkout).
Once a message carrying a token is sent, what is kept of it has the token redacted (``redact``).
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


class ParsedReference(NamedTuple):
    organization_id: str
    record_id: str
    secret_hash: str


def generate_for(prefix: str, organization_id: str, record_id: str) -> tuple[str, str]:
    """A new token tied to one record (``<prefix>_<organization id>_<record id>_<secret>``): the record
    is found with one GetItem and holds the hash. ``(plaintext to hand out once, hash to store)``."""
    secret = secrets.token_urlsafe(32)
    return f"{prefix}_{organization_id}_{record_id}_{secret}", secret_hash(secret)


def parse_for(prefix: str, record_prefix: str, raw: str) -> ParsedReference | None:
    """The organization, record and hash a presented record token claims, or None when it is not one."""
    match = re.fullmatch(
        rf"{prefix}_(org_[0-9a-z]{{26}})_({record_prefix}_[0-9a-z]{{26}})_([A-Za-z0-9_-]{{43}})", raw.strip()
    )
    if match is None:
        return None
    return ParsedReference(match.group(1), match.group(2), secret_hash(match.group(3)))


def redact(prefix: str, text: str) -> str:
    """``text`` with every token of this kind replaced by ``[link]``: what is kept of a message once sent."""
    return re.sub(rf"\b{prefix}_org_[0-9a-z]{{26}}_[A-Za-z0-9_-]{{43}}", "[link]", text)
