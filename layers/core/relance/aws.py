"""Boto3 clients, created lazily and once per process.

Never at import: tests and the local runtime point ``AWS_ENDPOINT_URL`` at moto before
the first call, and ``reset_clients`` forgets clients made against an earlier endpoint.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

_lock = threading.Lock()
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


@cache
def client(service: str) -> Any:
    """The process-wide low-level client of ``service`` (e.g. ``"dynamodb"``)."""
    with _lock:  # boto3's default session is not thread-safe while it creates clients
        return boto3.session.Session().client(service, config=_CONFIG)


@cache
def resource(service: str) -> Any:
    """The process-wide resource of ``service`` (``"dynamodb"`` for typed attribute values)."""
    with _lock:
        return boto3.session.Session().resource(service, config=_CONFIG)


@cache
def dynamodb_table(name: str) -> Any:
    """The boto3 Table resource of ``name`` (made once: building one costs milliseconds)."""
    return resource("dynamodb").Table(name)


def reset_clients() -> None:
    """Forget every client, so the next call reads the environment again."""
    client.cache_clear()
    resource.cache_clear()
    dynamodb_table.cache_clear()


class AwsUnavailable(Exception):
    """AWS said "slow down" or "try later", or could not be reached, after the client's own retries.

    Nothing the caller asked was refused: the same work may succeed later. The name is the
    contract with the state machines, which retry it (``"ErrorEquals": ["AwsUnavailable"]``)
    and do not retry any other error.
    """


_TRANSIENT_CODES = frozenset(
    {
        "InternalFailure",
        "InternalServerError",
        "LimitExceededException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
    }
)


def is_transient(error: Exception) -> bool:
    """Whether ``error`` means AWS was unavailable, rather than that it refused the request."""
    if isinstance(error, ConnectionError | HTTPClientError):
        return True
    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in _TRANSIENT_CODES
