"""How many DynamoDB requests, and how many round trips, the web server made while answering.

The web function runs in the local runtime's process, in the HTTP server's request threads and the
``relance-read`` pool (``relance.concurrency.together``). Each request is held in flight for ``HOLD``
seconds, so requests made together overlap for certain while requests made one after the other
never do: a round trip is a request started while none of ours was in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from relance import aws

HOLD = 0.5
THREADS = ("process_request", "relance-read")  # not the runtime's executions meanwhile


@dataclass
class Made:
    requests: int = 0
    round_trips: int = 0
    operations: list[str] = field(default_factory=list)


@contextmanager
def dynamodb_made() -> Iterator[Made]:
    made = Made()
    lock = threading.Lock()
    in_flight = [0]

    def ours() -> bool:
        return any(name in threading.current_thread().name for name in THREADS)

    def started(**request: Any) -> None:
        if not ours():
            return
        with lock:
            if in_flight[0] == 0:
                made.round_trips += 1
            in_flight[0] += 1
            made.requests += 1
            made.operations.append(f"{request['model'].name} {threading.current_thread().name}")
        time.sleep(HOLD)

    def ended(**_: object) -> None:
        if ours():
            with lock:
                in_flight[0] -= 1

    clients = (aws.resource("dynamodb").meta.client, aws.client("dynamodb"))
    hooks: list[tuple[str, Callable[..., None]]] = [
        ("before-call.dynamodb", started),
        ("after-call.dynamodb", ended),
        ("after-call-error.dynamodb", ended),
    ]
    for client in clients:
        for event, hook in hooks:
            client.meta.events.register(event, hook)
    try:
        yield made
    finally:
        for client in clients:
            for event, hook in hooks:
                client.meta.events.unregister(event, hook)
