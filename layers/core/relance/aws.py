"""Boto3 clients, created lazily and once per process.

Never at import: tests and the local runtime point ``AWS_ENDPOINT_URL`` at moto before
the first call, and ``reset_clients`` forgets clients made against an earlier endpoint.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from functools import cache, wraps
from typing import Any, ParamSpec, TypeVar, overload

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

P = ParamSpec("P")
R = TypeVar("R")


def is_transient(error: Exception) -> bool:
    """Whether ``error`` means AWS was unavailable, rather than that it refused the request."""
    if isinstance(error, ConnectionError | HTTPClientError):
        return True
    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in _TRANSIENT_CODES


def unavailable_as_retryable(function: Callable[P, R]) -> Callable[P, R]:
    """Raise ``AwsUnavailable`` for a transient AWS fault inside ``function`` (a state machine task)."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except Exception as error:
            if is_transient(error):
                raise AwsUnavailable(str(error)) from error
            raise

    return wrapper


# ---------------------------------------------------------------- reads made together

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")
E = TypeVar("E")
_readers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="relance-read")


@overload
def together(first: Callable[[], A], second: Callable[[], B], /) -> tuple[A, B]: ...


@overload
def together(first: Callable[[], A], second: Callable[[], B], third: Callable[[], C], /) -> tuple[A, B, C]: ...


@overload
def together(
    first: Callable[[], A], second: Callable[[], B], third: Callable[[], C], fourth: Callable[[], D], /
) -> tuple[A, B, C, D]: ...


@overload
def together(
    first: Callable[[], A],
    second: Callable[[], B],
    third: Callable[[], C],
    fourth: Callable[[], D],
    fifth: Callable[[], E],
    /,
) -> tuple[A, B, C, D, E]: ...


def together(*reads: Callable[[], Any]) -> tuple[Any, ...]:
    """The results of ``reads`` that do not depend on each other, made at the same time: a page waits
    one round trip for the slowest instead of one per read. The first runs in the calling thread, the
    others on a small process-wide pool (clients are thread-safe). Only the first read may call
    ``together`` itself (it runs in the caller's thread; a pooled read waiting on the pool could wait
    for ever). Every read is finished before this returns; the first error met, in order, is raised."""
    others = [_readers.submit(contextvars.copy_context().run, read) for read in reads[1:]]
    try:
        first = reads[0]()
    finally:
        wait(others)
    return (first, *(f.result() for f in others))
