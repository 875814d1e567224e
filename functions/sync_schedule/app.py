"""Sync schedule (EventBridge, every 15 minutes): an asynchronous invocation of the sync worker per enabled
source connection."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.observability import logger, traced
from relance.services.integrations import queue_scheduled_runs
from relance.settings import get_settings


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    worker = get_settings().sync_worker_function
    if not worker:
        raise RuntimeError("SYNC_WORKER_FUNCTION is not set")
    runs = queue_scheduled_runs(worker)
    (logger.info if runs else logger.debug)("sync runs fanned out", runs=runs)
    return {"runs": runs}
