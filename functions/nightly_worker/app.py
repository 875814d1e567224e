"""Nightly worker (invoked asynchronously by the schedule): ratings, balance reconciliation, promises and
analytics snapshots for the one organization and night it names. An error fails the invocation: Lambda
retries it twice, then sends it to the nightly dead-letter queue (template.yaml, EventInvokeConfig)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.observability import logger, metrics, traced
from relance.services.nightly import run_invoked


@logger.inject_lambda_context(clear_state=True)
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_invoked(event)
