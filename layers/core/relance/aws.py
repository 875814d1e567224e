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
