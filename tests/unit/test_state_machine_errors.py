"""The error names the state machines retry or catch are the names the code raises: Lambda reports an
exception by its class name, so renaming one would silently end its retries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.functions import FunctionError, FunctionRegistry
from local.template import Template
from relance.aws import AwsUnavailable
from relance.storage import table
from tests.conftest import ROOT

DEFINITIONS = sorted((ROOT / "statemachines").glob("*.asl.json"))
OURS = {AwsUnavailable.__name__: AwsUnavailable}
"""Every exception of ours a definition names."""


def _error_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        yield from node.get("ErrorEquals", [])
        for value in node.values():
            yield from _error_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _error_names(value)


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda p: p.name)
def test_a_definition_names_only_exceptions_of_ours_and_of_aws(definition):
    names = set(_error_names(json.loads(definition.read_text(encoding="utf-8"))))

    assert {n for n in names if not n.startswith(("States.", "Lambda."))} <= set(OURS)


class ThrottledTable:
    """A table whose every call DynamoDB throttles, after the client's own retries."""

    def __getattr__(self, operation: str) -> Any:
        def throttled(**_: Any) -> None:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, operation)

        return throttled


@pytest.mark.parametrize(
    ("function", "event", "state"),
    [
        ("DunningActFunction", "dunning_act/act.json", "Act"),
        ("DunningActFunction", "dunning_act/act-after-error.json", "RecordFailure"),
    ],
)
def test_a_throttled_task_fails_with_the_name_its_state_retries(monkeypatch, sample_event, function, event, state):
    monkeypatch.setattr(table, "dynamodb_table", lambda name: ThrottledTable())
    task = FunctionRegistry(Template(ROOT / "template.yaml"))[function]

    with pytest.raises(FunctionError) as failed:
        task.invoke(sample_event(event))

    dunning = json.loads((ROOT / "statemachines" / "dunning.asl.json").read_text(encoding="utf-8"))
    retried = {name for retry in dunning["States"][state]["Retry"] for name in retry["ErrorEquals"]}
    assert failed.value.payload["errorType"] == AwsUnavailable.__name__
    assert failed.value.payload["errorType"] in retried


def test_a_throttled_plan_fails_so_that_lambda_runs_it_again(monkeypatch, sample_event):
    """The Plan function is invoked asynchronously, outside the state machine: its failure is retried by
    Lambda (EventInvokeConfig), then kept in its dead-letter queue — never answered as a plan."""
    monkeypatch.setattr(table, "dynamodb_table", lambda name: ThrottledTable())
    template = Template(ROOT / "template.yaml")
    plan = FunctionRegistry(template)["DunningPlanFunction"]

    with pytest.raises(FunctionError) as failed:
        plan.invoke(sample_event("dunning_plan/plan.json"))

    assert failed.value.payload["errorType"] == AwsUnavailable.__name__
    assert plan.retries >= 1 and plan.on_failure is not None
