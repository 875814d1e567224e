"""How a run starts: a nudge invokes the Plan function, which plans the first action and starts the
customer's execution at its Wait (four transitions for a run of one reminder), or starts none."""

from __future__ import annotations

import json
from typing import Any

import pytest

from relance import aws
from relance.storage import customers as customer_store
from tests.integration.helpers import actions_of, jump_until, new_workflow, ok, outbox, start_customer


@pytest.fixture(scope="module")
def one_reminder(fast: Any) -> str:
    return str(new_workflow(fast, "One reminder", [{"id": "once", "offsetDays": 1, "action": "email"}])["name"])


def executions_of(runtime: Any, customer_id: str) -> list[dict[str, Any]]:
    sfn = aws.client("stepfunctions")
    arn = runtime.template.arn_of("DunningStateMachine")
    return [e for e in sfn.list_executions(stateMachineArn=arn)["executions"] if e["name"].startswith(customer_id)]


def states_entered(execution_arn: str) -> list[str]:
    history = aws.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]


def planned_in(execution: dict[str, Any]) -> dict[str, str]:
    """The plan an execution was started with: the Plan function's answer, where Act's goes."""
    described = aws.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])
    document = json.loads(described["input"])
    assert document["plan"]["next"] == "wait"
    return dict(document["plan"]["plan"])


def test_a_run_of_one_reminder_enters_four_states_and_starts_at_its_wait(fast, one_reminder):
    email = "ap@four-states.example"
    customer_id, _ = start_customer(fast, "Four States", email, due_days_ago=3, workflow=one_reminder)
    fast.settle()
    [started] = executions_of(fast, customer_id)
    [planned] = actions_of(fast, customer_id, "planned")
    assert planned_in(started)["action"] == planned["id"]

    jump_until(fast, lambda: outbox(fast, email), what="the reminder is sent")
    fast.settle()

    [ended] = executions_of(fast, customer_id)
    assert ended["status"] == "SUCCEEDED"
    assert states_entered(ended["executionArn"]) == ["Wait", "Act", "Next?", "Done"]


def test_a_nudge_with_nothing_to_chase_starts_no_execution(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer = ok(api.post(f"{base}/customers", json={"name": "Nothing Owed", "currency": "EUR"}), 201)
    workflow = next(w["id"] for w in ok(api.get(f"{base}/workflows"))["items"] if w["name"] == "Standard")

    ok(api.patch(f"{base}/customers/{customer['id']}", json={"dunningPlanId": workflow}))
    fast.settle()

    stored = customer_store.get_customer(fast.session["organization"]["id"], customer["id"])
    assert stored is not None and stored["execution"].startswith(customer["id"])  # the run was named and planned
    assert executions_of(fast, customer["id"]) == []


def test_a_plan_invoked_twice_plans_one_action_and_starts_one_execution(fast):
    """Lambda may deliver an asynchronous invocation twice, and retries a failed one: Plan again changes nothing."""
    customer_id, _ = start_customer(fast, "Twice Planned", "ap@twice.example", due_days_ago=-20)
    fast.settle()
    org = fast.session["organization"]["id"]
    stored = customer_store.get_customer(org, customer_id)
    assert stored is not None
    event = {"organizationId": org, "customerId": customer_id, "execution": stored["execution"]}

    again = fast.functions["DunningPlanFunction"].invoke(event)

    [planned] = actions_of(fast, customer_id, "planned")
    assert again["next"] == "wait" and again["action"] == planned["id"]
    [running] = executions_of(fast, customer_id)
    assert running["name"] == stored["execution"] and running["status"] == "RUNNING"


def test_a_plan_for_an_execution_a_newer_nudge_replaced_starts_nothing(fast, sample_event):
    customer_id, _ = start_customer(fast, "Late Plan", "ap@late-plan.example", due_days_ago=-20)
    fast.settle()
    event = {**sample_event("dunning_plan/plan.json"), "organizationId": fast.session["organization"]["id"]}
    event["customerId"] = customer_id  # the sample's execution is not the customer's current one

    assert fast.functions["DunningPlanFunction"].invoke(event) == {"next": "end", "reason": "superseded"}
    assert all(e["name"] != event["execution"] for e in executions_of(fast, customer_id))
