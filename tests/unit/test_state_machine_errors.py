"""The error names the state machines retry or catch are the names the code raises: Lambda reports an
exception by its class name, so renaming one would silently end its retries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from relance.aws import AwsUnavailable, unavailable_as_retryable
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


def test_a_throttled_task_fails_with_the_name_dunning_retries():
    @unavailable_as_retryable
    def task() -> None:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Query")

    with pytest.raises(AwsUnavailable) as raised:
        task()

    dunning = json.loads((ROOT / "statemachines" / "dunning.asl.json").read_text(encoding="utf-8"))
    for state in ("Plan", "Act", "RecordFailure"):
        retried = {name for retry in dunning["States"][state]["Retry"] for name in retry["ErrorEquals"]}
        assert type(raised.value).__name__ in retried, state
