"""Dunning state machine, Plan: the customer's next action, and when it is due."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.observability import logger, traced
from relance.services.dunning import Answer, plan


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: LambdaContext) -> Answer:
    logger.append_keys(customer_id=event["customerId"], execution=event["execution"])
    return plan(event["organizationId"], event["customerId"], event["execution"])
