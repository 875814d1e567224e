"""Sync schedule (EventBridge, every 15 minutes): one message per enabled source connection onto the sync queue."""

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.observability import logger, traced
from relance.services.integrations import queue_scheduled_runs


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runs = queue_scheduled_runs(os.environ["SYNC_QUEUE_URL"])
    (logger.info if runs else logger.debug)("sync runs fanned out", runs=runs)
    return {"runs": runs}
