"""Customer replies (SES receipt rule → S3 + SNS → SQS): matched to a customer, onto its timeline."""

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.domain.inbound import verdicts_of
from relance.observability import logger, metrics, traced
from relance.services.inbound import receive

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    notification = json.loads(record.json_body["Message"])  # SNS envelope around SES's notification
    if notification.get("notificationType") != "Received":
        logger.info("not a received-mail notification", kind=notification.get("notificationType"))
        return
    receipt = notification["receipt"]
    stored = receipt["action"]
    # The envelope recipients SES delivered to (the receipt rule's), never the headers: they name the organization.
    recipients, verdicts = receipt.get("recipients", []), verdicts_of(receipt)
    for reply in receive(stored["bucketName"], stored["objectKey"], recipients, verdicts):
        logger.info("inbound mail", reply_id=reply["id"], status=reply["status"], matched_by=reply.get("matchedBy"))


@logger.inject_lambda_context(clear_state=True)
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
