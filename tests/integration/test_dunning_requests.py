"""What one reminder costs in DynamoDB requests, held to docs/dunning.md's figures: a Plan that starts an
execution makes at most 4, each reminder (Act and the Plan after it, one invocation) at most 8."""

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from relance import aws
from relance.services import dunning
from relance.storage import customers as customer_store
from tests.integration.conftest import mailing_runtime
from tests.integration.helpers import actions_of, jump_until, ok, outbox, start_customer, timeline

PLAN_AT_MOST = 4
REMINDER_AT_MOST = 8


@pytest.fixture(scope="module")
def fast() -> Iterator[Any]:
    with mailing_runtime() as started:
        ok(
            started.api_session.post(
                f"{started.base_url}/v1/workflows",
                json={
                    "name": "Two reminders",
                    "language": "en",
                    "tone": "formal",
                    "minContactDelayDays": 7,
                    "steps": [
                        {"id": "first", "offsetDays": 1, "action": "email"},
                        {"id": "second", "offsetDays": 10, "action": "email"},
                    ],
                },
            ),
            201,
        )
        yield started


class Requests:
    """The DynamoDB requests each invocation of the dunning functions makes, in its own thread only (a
    mail event handled meanwhile by another function is not counted)."""

    def __init__(self) -> None:
        self.by_invocation: list[tuple[str, list[str]]] = []
        self._current = threading.local()

    def __call__(self, model: Any, **_: Any) -> None:
        made = getattr(self._current, "made", None)
        if made is not None:
            made.append(model.name)

    def wrap(self, runtime: Any, logical_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
        function = runtime.functions[logical_id]
        real = function.invoke

        def counted(event: dict[str, Any], **options: Any) -> Any:
            made: list[str] = []
            self._current.made = made
            try:
                return real(event, **options)
            finally:
                self._current.made = None
                self.by_invocation.append((logical_id, made))

        monkeypatch.setattr(function, "invoke", counted)


@pytest.fixture
def requests_made(fast: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Requests]:
    counter = Requests()
    for logical_id in ("DunningPlanFunction", "DunningActFunction"):
        counter.wrap(fast, logical_id, monkeypatch)
    clients = (aws.resource("dynamodb").meta.client, aws.client("dynamodb"))
    for client in clients:
        client.meta.events.register("before-call.dynamodb", counter)
    yield counter
    for client in clients:
        client.meta.events.unregister("before-call.dynamodb", counter)


def test_a_reminder_costs_at_most_eight_dynamodb_requests_and_a_plan_four(fast, requests_made):
    customer_id, _ = start_customer(fast, "Counted Ltd", "ap@counted.example", due_days_ago=3, workflow="Two reminders")

    jump_until(fast, lambda: len(outbox(fast, "ap@counted.example")) >= 2, what="both reminders are sent")
    fast.settle()

    plans = [made for name, made in requests_made.by_invocation if name == "DunningPlanFunction"]
    acts = [made for name, made in requests_made.by_invocation if name == "DunningActFunction"]
    sent = actions_of(fast, customer_id, "sent")
    assert [a["stepId"] for a in sorted(sent, key=lambda a: a["performedAt"])] == ["first", "second"]
    assert len(acts) >= 2
    assert plans and all(len(made) <= PLAN_AT_MOST for made in plans), plans
    assert all(len(made) <= REMINDER_AT_MOST for made in acts), acts


def test_an_email_too_big_for_one_transaction_is_marked_and_finished_one_write_after_the_other(fast, monkeypatch):
    monkeypatch.setattr(dunning, "TRANSACTION_ITEMS", 2)  # as an email naming a hundred invoices would
    customer_id, _ = start_customer(fast, "Many Ltd", "ap@many.example", due_days_ago=3, workflow="Two reminders")

    jump_until(fast, lambda: outbox(fast, "ap@many.example"), what="the first reminder is sent")
    fast.settle()

    [sent] = actions_of(fast, customer_id, "sent")
    customer = customer_store.get_customer(fast.session["organization"]["id"], customer_id)
    assert sent["stepId"] == "first" and "first" in customer["performedSteps"]
    assert customer["lastContactAt"] == sent["performedAt"]
    assert [e["status"] for e in timeline(fast, customer_id) if e["id"] == sent["id"]] == ["sent"]
    assert len(outbox(fast, "ap@many.example")) == 1
