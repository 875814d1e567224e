"""Reads that do not depend on each other, made at the same time (``together``): a page waits one
round trip for the slowest instead of one per read. Not an AWS adapter: the reads are any callables
(the storage functions a service or a screen calls), run on a small process-wide pool."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, TypeVar, overload

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
