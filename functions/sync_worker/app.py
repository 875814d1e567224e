"""Sync worker (invoked asynchronously: by the schedule, "Sync now", a write-back to send, or a run going on
where the last stopped): one run of the organization's connection to a source system. An error fails the
invocation: Lambda retries it twice, then sends it to the sync dead-letter queue (template.yaml)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.observability import logger, metrics, traced
from relance.services.integrations import run_message


@logger.inject_lambda_context(clear_state=True)
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = run_message(event)
    logger.info("sync run", integration=run.integration, outcome=run.outcome, write_backs=run.write_backs)
    return run.model_dump(mode="json", by_alias=True)
