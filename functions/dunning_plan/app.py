"""Dunning state machine, Plan: the customer's next action, and how long to wait for it."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.observability import logger, tracer
from relance.services.dunning import plan


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    logger.append_keys(customer_id=event["customerId"], execution=event["execution"])
    return plan(event["organizationId"], event["customerId"], event["execution"])
