"""Dunning state machine, Act: re-check at send time, perform the action once and plan the next (or record
the action's failure)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.observability import logger, traced
from relance.services.dunning import Answer, act_then_plan, record_failure


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: LambdaContext) -> Answer:
    logger.append_keys(customer_id=event["customerId"], action_id=event["actionId"])
    if "error" in event:
        return record_failure(event["organizationId"], event["customerId"], event["actionId"], event["error"])
    return act_then_plan(event["organizationId"], event["customerId"], event["actionId"], event["execution"])
