"""People of an organization."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, EmailStr, Field, StringConstraints

from relance.domain.base import OneLine, Record, RelanceModel


class Role(StrEnum):
    ADMIN = "admin"
    ACCOUNT_MANAGER = "account_manager"


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    SLACK = "slack"


Initials = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3, pattern=r"^[A-Z]+$")]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), OneLine]
Signature = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


def initials_of(name: str) -> str:
    """``"Ada Lovelace"`` → ``"AL"``."""
    return "".join(part[0] for part in name.split()[:3] if part[0].isalpha()).upper() or "U"


class UserFields(RelanceModel):
    email: EmailStr
    name: PersonName
    initials: Initials | None = None
    role: Role
    notification_channels: list[Channel] = Field(default_factory=lambda: [Channel.IN_APP, Channel.EMAIL])
    slack_webhook_url: Annotated[str, StringConstraints(pattern=r"^https://hooks\.slack\.com/")] | None = None
    weekly_digest: bool = Field(default=False, description="emailed the weekly analytics digest on Monday nights")


class UserPatch(RelanceModel):
    name: PersonName | None = None
    initials: Initials | None = None
    role: Role | None = None
    notification_channels: list[Channel] | None = None
    slack_webhook_url: Annotated[str, StringConstraints(pattern=r"^https://hooks\.slack\.com/")] | None = None
    signature: Signature | None = Field(
        default=None, description="closes the person's replies to customers (their name when empty)"
    )
    weekly_digest: bool | None = Field(
        default=None, description="emailed the weekly analytics digest on Monday nights (opt-in)"
    )


class User(Record):
    id: str
    email: str
    name: str
    initials: str
    role: Role
    notification_channels: list[Channel]
    slack_webhook_url: str | None = None
    signature: str | None = None
    weekly_digest: bool = False
    created_at: AwareDatetime


class ApiKeyFields(RelanceModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), OneLine]


class ApiKey(Record):
    id: str
    name: str
    role: str
    created_at: AwareDatetime
    key: str | None = None  # only in the answer that creates it


class Invitation(Record):
    """An organization's invitation of a person whose address belongs to another organization, as
    that person sees it (``GET /v1/invitations``)."""

    id: str
    organization_name: str
    role: Role
    invited_at: AwareDatetime


class Membership(Record):
    """Where an accepted invitation took the person: sign in again to act there."""

    organization_id: str
    user_id: str
    role: Role
