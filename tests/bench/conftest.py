"""Benchmarks run on the local runtime; figures beyond timings are printed at the end."""

import threading
from collections.abc import Iterator

import pytest

from local import cost
from tests.integration.conftest import api, runtime  # noqa: F401  (the same local runtime)

FIGURES: dict[str, str] = {}


class DynamoDBRequests:
    """Counts DynamoDB requests made by this process (API function and authorizer included), and by each
    thread: a function invocation runs on one thread, while others (an HTTP request, an asynchronous
    invocation) may make theirs at the same time."""

    def __init__(self) -> None:
        self.count = 0
        self._here = threading.local()

    def __call__(self, **_: object) -> None:
        self.count += 1
        self._here.count = self.made_here() + 1

    def made_here(self) -> int:
        """How many this thread made."""
        return int(getattr(self._here, "count", 0))


@pytest.fixture
def dynamodb_requests() -> Iterator[DynamoDBRequests]:
    counter = DynamoDBRequests()
    entry = ("before-call.dynamodb", counter)
    from relance import aws

    aws.resource("dynamodb").meta.client.meta.events.register(*entry)
    aws.client("dynamodb").meta.events.register(*entry)
    yield counter
    aws.resource("dynamodb").meta.client.meta.events.unregister(*entry)
    aws.client("dynamodb").meta.events.unregister(*entry)


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("figures")
        for name, value in FIGURES.items():
            terminalreporter.write_line(f"{name}: {value}")
        # The monthly bill of `make cost`, with the figures this run measured in place of docs/cost.md's.
        measured = {k: n for k, v in FIGURES.items() if k in cost.BENCH_FIGURES and (n := _number(v)) is not None}
        total = cost.bill(1_000, bench={**cost.BENCH_FIGURES, **measured}).total
        terminalreporter.write_line(
            f"cost per 1,000 customers a month (make cost's model; {len(measured)} of its "
            f"{len(cost.BENCH_FIGURES)} bench figures measured in this run): ${total:.2f}"
        )
