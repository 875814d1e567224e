"""The dunning state machine's executions (Step Functions): one per customer, started and stopped
by name; and how its tasks ask it to try again."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from relance.aws import AwsUnavailable, client, is_transient
from relance.settings import get_settings

P = ParamSpec("P")
R = TypeVar("R")


def enabled() -> bool:
    """Whether this function knows the dunning state machine (``DUNNING_STATE_MACHINE_ARN``)."""
    return bool(get_settings().dunning_state_machine_arn)


def _state_machine() -> str:
    arn = get_settings().dunning_state_machine_arn
    if not arn:
        raise RuntimeError("DUNNING_STATE_MACHINE_ARN is not set")
    return arn


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"


def start(name: str, org_id: str, customer_id: str) -> None:
    """Start the execution ``name`` that chases the customer."""
    client("stepfunctions").start_execution(
        stateMachineArn=_state_machine(),
        name=name,
        input=json.dumps({"organizationId": org_id, "customerId": customer_id}),
    )


def stop(name: str, cause: str) -> bool:
    """Stop the execution ``name``; False when there is no such execution."""
    sfn = client("stepfunctions")
    try:
        sfn.stop_execution(executionArn=execution_arn(_state_machine(), name), cause=cause)
    except sfn.exceptions.ExecutionDoesNotExist:
        return False
    return True


def unavailable_as_retryable(task: Callable[P, R]) -> Callable[P, R]:
    """A task of the state machine (Plan, Act) that raises ``AwsUnavailable`` for a transient AWS fault:
    the one error of ours the definition retries (statemachines/dunning.asl.json)."""

    @wraps(task)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return task(*args, **kwargs)
        except Exception as error:
            if is_transient(error):
                raise AwsUnavailable(str(error)) from error
            raise

    return wrapper
