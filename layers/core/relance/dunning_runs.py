"""The dunning state machine's executions (Step Functions): one per customer, planned and started,
then stopped, by name; and how its tasks ask it to try again.

A run begins with the Plan function, invoked asynchronously (``plan_run``): it plans the customer's
next action and starts the execution at its Wait (``start``), or starts none when nothing is left to
do. Lambda retries a failed Plan twice, then sends its invocation record to the dead-letter queue
(template.yaml, ``DunningPlanFunction``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import wraps
from typing import ParamSpec, TypeVar

from relance import queues
from relance.aws import AwsUnavailable, client, is_transient
from relance.observability import logger
from relance.settings import get_settings

P = ParamSpec("P")
R = TypeVar("R")


def enabled() -> bool:
    """Whether this function starts and stops dunning runs (``DUNNING_STATE_MACHINE_ARN`` and
    ``DUNNING_PLAN_FUNCTION``)."""
    settings = get_settings()
    return bool(settings.dunning_state_machine_arn and settings.dunning_plan_function)


def _state_machine() -> str:
    arn = get_settings().dunning_state_machine_arn
    if not arn:
        raise RuntimeError("DUNNING_STATE_MACHINE_ARN is not set")
    return arn


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"


def plan_run(name: str, org_id: str, customer_id: str) -> None:
    """Have the Plan function plan the customer's next action and start the execution ``name`` for it
    (asynchronously: this returns once Lambda holds the invocation)."""
    function = get_settings().dunning_plan_function
    if not function:
        raise RuntimeError("DUNNING_PLAN_FUNCTION is not set")
    queues.invoke(function, {"organizationId": org_id, "customerId": customer_id, "execution": name})


def start(name: str, org_id: str, customer_id: str, plan: Mapping[str, str]) -> None:
    """Start the execution ``name`` at its Wait for the action Plan planned (``plan``: Plan's answer, as
    the state machine's Act answers it). A retried Plan finds its execution started: nothing to do."""
    sfn = client("stepfunctions")
    document = {"organizationId": org_id, "customerId": customer_id, "plan": {"next": plan["next"], "plan": plan}}
    try:
        sfn.start_execution(stateMachineArn=_state_machine(), name=name, input=json.dumps(document))
    except sfn.exceptions.ExecutionAlreadyExists:
        logger.info("execution already started", execution=name)


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
