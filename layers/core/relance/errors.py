"""Domain errors: raised anywhere in Relance, mapped once to the API error shape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_LOCATIONS = {"body", "query", "path", "header", "cookie"}


class RelanceError(Exception):
    """Base of every error a client can cause; ``status`` and ``code`` shape the response."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})


class Invalid(RelanceError):
    """The request is well-formed but breaks a rule; ``fields`` names what is wrong."""

    status = 422
    code = "validation_error"


class SenderNotVerified(Invalid):
    """SES refuses to send from the organization's sender address: its identity is not verified.

    Raised by the SES adapter (``relance.mail.ses.send``) when SES answers ``MessageRejected``
    for the sender, and by services that check the sender before writing anything. Through
    the API it is a 422 naming ``senderEmail``; on a reminder it is the action's ``reason``.
    """

    code = "sender_not_verified"

    def __init__(self, sender: str) -> None:
        super().__init__(
            f"the sender address {sender} is not verified in SES: open the link in the verification email "
            "SES sent to it (POST /v1/organization/sender/verify sends it again)",
            {"senderEmail": "not verified in SES yet"},
        )
        self.sender = sender


class Unauthorized(RelanceError):
    status = 401
    code = "unauthorized"


class Forbidden(RelanceError):
    status = 403
    code = "forbidden"


class NotFound(RelanceError):
    """Absent, or not visible to the caller: the two are never told apart."""

    status = 404
    code = "not_found"


class Conflict(RelanceError):
    status = 409
    code = "conflict"


class PayloadTooLarge(RelanceError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(RelanceError):
    status = 429
    code = "too_many_requests"


def field_path(loc: Sequence[str | int]) -> str:
    """``("body", "steps", 0, "offsetDays")`` → ``"steps[0].offsetDays"``; a field of a route's query
    model (a parameter named ``query``: ``("query", "query", "sort")``) is named as sent: ``sort``."""
    parts = list(loc[1:] if loc and loc[0] in _LOCATIONS else loc)
    if tuple(loc[:2]) == ("query", "query") and len(loc) > 2:
        parts = parts[1:]
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def validation_fields(errors: Sequence[Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in errors:
        fields.setdefault(field_path(error.get("loc", ())), error.get("msg", "is invalid"))
    return fields
