"""Nightly (EventBridge schedule): one message per organization onto the nightly queue."""

import json
import os

from aws_lambda_powertools.utilities.typing import LambdaContext

from relance import clock
from relance.aws import client
from relance.observability import logger, traced
from relance.services.nightly import organizations_to_run


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict, context: LambdaContext) -> dict:
    run_date = clock.now().date().isoformat()
    organizations = organizations_to_run()
    queue = os.environ["NIGHTLY_QUEUE_URL"]
    for start in range(0, len(organizations), 10):
        batch = organizations[start : start + 10]
        client("sqs").send_message_batch(
            QueueUrl=queue,
            Entries=[
                {"Id": str(i), "MessageBody": json.dumps({"organizationId": org, "runDate": run_date})}
                for i, org in enumerate(batch)
            ],
        )
    logger.info("nightly run fanned out", organizations=len(organizations), run_date=run_date)
    return {"organizations": len(organizations), "runDate": run_date}
