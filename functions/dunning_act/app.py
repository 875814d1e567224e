"""Dunning state machine, Act: re-check at send time, perform the action once and plan the next (or record
the action's failure, then plan the next)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.observability import logger, traced
from relance.services.dunning import Answer, act_then_plan, record_failure_then_plan


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: LambdaContext) -> Answer:
    logger.append_keys(customer_id=event["customerId"], action_id=event["actionId"])
    org_id, customer_id, action_id = event["organizationId"], event["customerId"], event["actionId"]
    if "error" in event:
        return record_failure_then_plan(org_id, customer_id, action_id, event["error"], event["execution"])
    return act_then_plan(org_id, customer_id, action_id, event["execution"])
