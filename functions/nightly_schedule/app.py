"""Nightly (EventBridge schedule): an asynchronous invocation of the nightly worker per organization."""

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from relance import clock
from relance.observability import logger, traced
from relance.services.nightly import queue_runs


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run_date = clock.now().date()
    organizations = queue_runs(os.environ["NIGHTLY_WORKER_FUNCTION"], run_date)
    logger.info("nightly run fanned out", organizations=organizations, run_date=run_date.isoformat())
    return {"organizations": organizations, "runDate": run_date.isoformat()}
