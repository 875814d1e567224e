"""Dunning costs: per reminder through the real state machine, and planning throughput."""

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from local.runtime import LocalRuntime
from relance import aws
from relance.domain.planner import CustomerState, OpenInvoice, plan_next
from relance.domain.send_window import SendWindow
from relance.domain.workflows import Workflow, default_workflows
from tests.bench.conftest import FIGURES
from tests.integration.conftest import mailing_runtime
from tests.integration.helpers import jump_until, start_customer


@pytest.fixture(scope="module")
def fast() -> Iterator[LocalRuntime]:
    with mailing_runtime() as started:
        session = started.api_session
        session.post(
            f"{started.base_url}/v1/workflows",
            json={
                "name": "One reminder",
                "language": "en",
                "tone": "formal",
                "minContactDelayDays": 7,
                "steps": [{"id": "once", "offsetDays": 1, "action": "email"}],
            },
        )
        yield started


def test_one_reminder_through_the_state_machine(benchmark, fast, dynamodb_requests):
    """Timed: from attaching the customer to its workflow until the execution has sent and ended."""
    invocations = {"n": 0, "dynamodb": 0, "DunningPlanFunction": 0, "DunningActFunction": 0}
    for logical_id in ("DunningPlanFunction", "DunningActFunction"):
        function = fast.functions[logical_id]
        real = function.invoke

        def counted(event, real=real, logical_id=logical_id, **options):
            invocations["n"] += 1
            start = dynamodb_requests.made_here()  # the invocation's own, not those of requests meanwhile
            try:
                return real(event, **options)
            finally:
                invocations["dynamodb"] += dynamodb_requests.made_here() - start
                invocations[logical_id] += dynamodb_requests.made_here() - start

        function.invoke = counted  # type: ignore[method-assign]
    before = dynamodb_requests.count
    sfn = aws.client("stepfunctions")
    arn = fast.template.arn_of("DunningStateMachine")

    def one_reminder():
        customer_id, _ = start_customer(fast, "Bench Ltd", "ap@bench.example", due_days_ago=3, workflow="One reminder")

        def finished():
            runs = sfn.list_executions(stateMachineArn=arn)["executions"]
            return [r for r in runs if r["name"].startswith(customer_id) and r["status"] == "SUCCEEDED"]

        return jump_until(fast, finished, what="the reminder is sent and the execution ends")[-1]

    execution = benchmark.pedantic(one_reminder, rounds=1, iterations=1)
    history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    entered = [e for e in history if e["type"].endswith("StateEntered")]
    fast.settle()
    FIGURES["one reminder: state transitions"] = str(len(entered))
    FIGURES["one reminder: Lambda invocations (Plan, Act that plans next)"] = str(invocations["n"])
    FIGURES["one reminder: DynamoDB requests made by Plan and Act"] = str(invocations["dynamodb"])
    FIGURES["one reminder: DynamoDB requests made by Act (the reminder, then the next plan)"] = str(
        invocations["DunningActFunction"]
    )
    FIGURES["one reminder: DynamoDB requests made by Plan (the run's start)"] = str(invocations["DunningPlanFunction"])
    FIGURES["one reminder: DynamoDB requests, setting the customer up through the API included"] = str(
        dynamodb_requests.count - before
    )
    assert any(e["type"] == "TaskStateEntered" for e in entered)


def test_planning_throughput_10000_customers(benchmark):
    workflow = Workflow(id="wf", **default_workflows(None)[0].model_dump())
    window = SendWindow(timezone=ZoneInfo("Europe/Paris"))
    rng = random.Random(3)
    today = date(2026, 11, 23)
    customers = [
        [
            OpenInvoice(
                f"i{c}-{n}",
                "N",
                "EUR",
                rng.randint(1, 10**6),
                today - timedelta(days=60),
                today + timedelta(days=rng.randint(-90, 30)),
            )
            for n in range(rng.randint(1, 6))
        ]
        for c in range(10_000)
    ]
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    state = CustomerState(performed=("before-due",), last_contact_at=now - timedelta(days=3))

    def plan_all():
        return sum(1 for invoices in customers if plan_next(workflow, invoices, state, window, now).step)

    planned = benchmark.pedantic(plan_all, rounds=3, iterations=1)
    assert planned > 0
    FIGURES["planning: customers per second (pure planner)"] = f"{10_000 / benchmark.stats.stats.mean:,.0f}"
