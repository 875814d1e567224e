"""Dunning Plan, invoked asynchronously by a nudge: the customer's next action, and its execution started
at the Wait for it (none when nothing is left to do)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.observability import logger, traced
from relance.services.dunning import Answer, plan_and_start


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: LambdaContext) -> Answer:
    logger.append_keys(customer_id=event["customerId"], execution=event["execution"])
    return plan_and_start(event["organizationId"], event["customerId"], event["execution"])
