"""Identifiers ``<prefix>_<26 characters>``: time-ordered (a ULID stamped by ``relance.clock``) or stable."""

from __future__ import annotations

import hashlib
import re

from ulid import ULID

from relance import clock

_ID = re.compile(r"^[a-z]{2,5}_[0-9a-z]{26}$")


def new_id(prefix: str) -> str:
    """A new id such as ``org_01jd3x...``; sorts by creation time."""
    return f"{prefix}_{str(ULID.from_datetime(clock.now())).lower()}"


def is_id(value: str, prefix: str) -> bool:
    """Whether ``value`` has the shape of an id with this prefix."""
    return bool(_ID.match(value)) and value.startswith(f"{prefix}_")


def stable_id(prefix: str, *parts: object) -> str:
    """The same parts always give the same id, so a retried write finds what the first attempt stored.

    ``<prefix>_`` and the first 26 hex digits of the SHA-256 of the parts joined by ``:`` (ids already
    stored were made so: the format must not change).
    """
    digest = hashlib.sha256(":".join(str(part) for part in parts).encode()).hexdigest()
    return f"{prefix}_{digest[:26]}"
