"""The local runtime's mechanisms, on the fixture stack of tests/fixtures/runtime."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import requests

from local.runtime import LocalRuntime
from relance import aws, clock
from tests.integration.helpers import eventually


def module_of(stack: LocalRuntime, logical_id: str) -> Any:
    return stack.functions[logical_id].module


# ---------------------------------------------------------------- API Gateway


def test_request_reaches_handler_as_api_gateway_event_and_comes_back(fixture_stack):
    response = requests.get(f"{fixture_stack.base_url}/open/42?q=a&q=b", headers={"X-Trace": "t"})

    assert response.status_code == 200
    assert response.json() == {"resource": "/open/{id}", "pathParameters": {"id": "42"}}
    event = module_of(fixture_stack, "EchoFunction").events[-1]
    assert event["httpMethod"] == "GET"
    assert event["path"] == "/open/42"
    assert event["queryStringParameters"] == {"q": "b"}
    assert event["multiValueQueryStringParameters"] == {"q": ["a", "b"]}
    assert event["headers"]["X-Trace"] == "t"
    assert event["requestContext"]["stage"] == "local"  # the runtime deploys Stage=local
    assert event["requestContext"]["path"] == "/local/open/42"
    assert event["isBase64Encoded"] is False


def test_static_segment_wins_over_path_parameter(fixture_stack):
    response = requests.get(f"{fixture_stack.base_url}/open/static")

    assert response.json()["resource"] == "/open/static"


def test_multi_value_response_headers_are_all_sent(fixture_stack):
    response = requests.get(f"{fixture_stack.base_url}/open/1")

    assert response.raw.headers.getlist("X-Seen") == ["a", "b"]


def test_unknown_route_gets_api_gateway_missing_token_response(fixture_stack):
    response = requests.get(f"{fixture_stack.base_url}/nowhere")

    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}


def test_missing_identity_source_is_401_without_calling_the_authorizer(fixture_stack):
    gatekeeper = module_of(fixture_stack, "EchoFunction")
    before = len(gatekeeper.events)

    response = requests.get(f"{fixture_stack.base_url}/files/a.pdf")

    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert len(gatekeeper.events) == before


def test_authorizer_unauthorized_is_401(fixture_stack):
    response = requests.get(f"{fixture_stack.base_url}/files/a.pdf", headers={"X-Pass": "wrong"})

    assert response.status_code == 401


def test_authorizer_deny_policy_is_403(fixture_stack):
    response = requests.get(f"{fixture_stack.base_url}/files/a.pdf", headers={"X-Pass": "deny"})

    assert response.status_code == 403
    assert "explicit deny" in response.json()["Message"]


def test_authorizer_context_reaches_the_function_as_strings(fixture_stack):
    response = requests.get(f"{fixture_stack.base_url}/files/docs/a.pdf", headers={"X-Pass": "open"})

    assert response.status_code == 200
    assert response.json()["pathParameters"] == {"proxy": "docs/a.pdf"}
    authorizer = module_of(fixture_stack, "EchoFunction").events[-1]["requestContext"]["authorizer"]
    assert authorizer["principalId"] == "user-1"
    assert authorizer["tenant"] == "t-1"
    assert authorizer["admin"] == "true"
    assert authorizer["level"] == "3"


def test_binary_body_round_trips_base64_encoded(fixture_stack):
    pdf = b"%PDF-1.7\x00\xff\xfe binary"

    response = requests.put(
        f"{fixture_stack.base_url}/files/a.pdf",
        data=pdf,
        headers={"X-Pass": "open", "Content-Type": "application/pdf"},
    )

    assert response.status_code == 200
    assert response.content == pdf
    event = module_of(fixture_stack, "EchoFunction").events[-1]
    assert event["isBase64Encoded"] is True


# ---------------------------------------------------------------- Step Functions


def run_execution(stack: LocalRuntime, payload: dict[str, Any]) -> dict[str, Any]:
    sfn = aws.client("stepfunctions")
    arn = stack.template.arn_of("LoopStateMachine")
    name = f"test-{uuid.uuid4()}"  # moto, unlike AWS, does not make up a name
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))["executionArn"]

    def finished() -> dict[str, Any] | None:
        described = sfn.describe_execution(executionArn=execution)
        return described if described["status"] != "RUNNING" else None

    return eventually(finished, timeout=30, what="the execution finishes")


def test_task_wait_task_loop_runs_to_completion_with_in_process_lambdas(fixture_stack):
    counter = module_of(fixture_stack, "CounterFunction")
    before = len(counter.calls)

    execution = run_execution(fixture_stack, {"target": 3, "waitSeconds": 1})

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["count"] == 3
    assert json.loads(execution["output"])["stage"] == "local"  # the function's environment
    assert [call.get("count", 0) for call in counter.calls[before:]] == [0, 1, 2]
    history = aws.client("stepfunctions").get_execution_history(executionArn=execution["executionArn"])
    waits = [e for e in history["events"] if e["type"] == "WaitStateEntered"]
    assert len(waits) == 2


def test_function_error_type_is_the_state_machine_error_name(fixture_stack):
    execution = run_execution(fixture_stack, {"target": 3, "failWith": "Deferred"})

    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    assert output["deferred"] is True
    assert json.loads(output["cause"])["errorType"] == "Deferred"


def test_uncaught_function_error_fails_the_execution_after_retries(fixture_stack):
    counter = module_of(fixture_stack, "CounterFunction")
    before = len(counter.calls)

    execution = run_execution(fixture_stack, {"target": 3, "failWith": "Transient"})

    assert execution["status"] == "FAILED"
    assert execution["error"] == "Transient"
    assert len(counter.calls) - before == 3  # the first try and two retries


# ---------------------------------------------------------------- SNS → SQS → Lambda


def dead_letters(stack: LocalRuntime) -> list[str]:
    url = stack.template.queue_url("EventsDeadLetterQueue")
    messages = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"])["Message"] for m in messages]


def test_sns_publish_reaches_the_sqs_driven_handler(fixture_stack):
    consumer = module_of(fixture_stack, "ConsumerFunction")
    topic = fixture_stack.template.arn_of("EventsTopic")

    aws.client("sns").publish(TopicArn=topic, Message="hello")

    assert eventually(lambda: "hello" in consumer.received)


def test_failing_record_ends_in_dead_letter_queue_after_retries(fixture_stack):
    consumer = module_of(fixture_stack, "ConsumerFunction")
    topic = fixture_stack.template.arn_of("EventsTopic")

    aws.client("sns").publish(TopicArn=topic, Message="poison pill")
    aws.client("sns").publish(TopicArn=topic, Message="good one")

    assert eventually(lambda: dead_letters(fixture_stack) == ["poison pill"])
    assert consumer.received.count("poison pill") == 2  # maxReceiveCount
    assert consumer.received.count("good one") == 1


# ---------------------------------------------------------------- schedules and clock


def test_a_clock_jump_runs_the_nightly_schedule_once_for_each_night_in_order(fixture_stack):
    nightly = module_of(fixture_stack, "NightlyFunction")
    before = len([r for r in nightly.runs if r.get("detail-type") == "Scheduled Event"])
    start = clock.now()

    clock.advance(timedelta(days=3))

    runs = [r for r in nightly.runs if r.get("detail-type") == "Scheduled Event"][before:]
    assert len(runs) == 3
    assert all(r["source"] == "aws.events" and r["time"].endswith("T02:00:00Z") for r in runs)
    nights = [datetime.fromisoformat(r["time"].replace("Z", "+00:00")) for r in runs]
    assert nights == sorted(nights) and start < nights[0] and nights[-1] <= clock.now()
    assert [b - a for a, b in itertools.pairwise(nights)] == [timedelta(days=1)] * 2


def test_a_wait_inside_a_jump_ends_at_its_own_moment(fixture_stack):
    counter = module_of(fixture_stack, "CounterFunction")
    sfn = aws.client("stepfunctions")
    before = len(counter.calls)
    clock.configure(time_scale=0)  # time moves only by the jump
    try:
        started = clock.now()
        execution = sfn.start_execution(
            stateMachineArn=fixture_stack.template.arn_of("LoopStateMachine"),
            name=f"jump-{started.timestamp():.0f}",
            input=json.dumps({"target": 3, "waitSeconds": 3600}),
        )["executionArn"]
        fixture_stack.settle()
        assert len(counter.calls) - before == 1  # then it waits an hour, which has not passed

        clock.advance(timedelta(hours=5))

        assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"
        seen = [c["seenAt"] for c in counter.calls[before:]]
        assert seen == [started, started + timedelta(hours=1), started + timedelta(hours=2)]
    finally:
        clock.configure(time_scale=3600)


def test_scheduler_schedule_passes_its_input(fixture_stack):
    nightly = module_of(fixture_stack, "NightlyFunction")

    clock.advance(timedelta(days=7))

    assert eventually(lambda: {"job": "weekday-morning"} in nightly.runs)
