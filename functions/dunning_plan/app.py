"""Dunning state machine, Plan: the customer's next action, and when it is due."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.observability import logger, traced
from relance.services.dunning import plan


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict, context: LambdaContext) -> dict:
    logger.append_keys(customer_id=event["customerId"], execution=event["execution"])
    return plan(event["organizationId"], event["customerId"], event["execution"])
