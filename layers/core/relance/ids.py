"""Opaque, time-ordered identifiers: ``<prefix>_<ulid>``, stamped by ``relance.clock``."""

from __future__ import annotations

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
