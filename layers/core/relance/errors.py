"""Domain errors: raised anywhere in Relance, mapped once to the API error shape."""

from __future__ import annotations

from collections.abc import Mapping


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
