"""SQS event-source mappings: poll each queue a function consumes and invoke it in batches.

As Lambda does: up to ``BatchSize`` records per invocation; with
``ReportBatchItemFailures`` only the records the function names are retried, otherwise a
raised error retries the whole batch. A retried record becomes visible again after the
queue's visibility timeout on the simulated clock (a timer of ``local/virtual_time.py``); once it has been
received ``maxReceiveCount`` times SQS moves it to the dead-letter queue.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.functions import FunctionError, LambdaFunction
from local.template import REGION, Template
from local.virtual_time import VirtualTime
from relance import clock


@dataclass
class EventSourceMapping:
    function: LambdaFunction
    queue_url: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool

    @classmethod
    def all_in(cls, template: Template, functions: list[LambdaFunction]) -> list[EventSourceMapping]:
        mappings = []
        for function in functions:
            for event in function.events.values():
                if event.get("Type") != "SQS":
                    continue
                props = event["Properties"]
                queue_arn = props["Queue"]
                name = queue_arn.rsplit(":", 1)[1]
                mappings.append(
                    cls(
                        function=function,
                        queue_url=f"{template.endpoint_url}/{queue_arn.split(':')[4]}/{name}",
                        queue_arn=queue_arn,
                        batch_size=int(props.get("BatchSize", 10)),
                        report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                    )
                )
        return mappings


def to_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as the record Lambda puts in the event."""
    attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": attributes,
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def failed_ids(mapping: EventSourceMapping, result: Any, batch_ids: set[str]) -> set[str]:
    """Which records to retry, from the function's answer (Lambda's partial-batch rules)."""
    if not mapping.report_batch_item_failures:
        return set()
    failures = (result or {}).get("batchItemFailures") if isinstance(result, dict) else None
    if not failures:
        return set()
    ids = {failure.get("itemIdentifier") for failure in failures}
    if not ids <= batch_ids:  # an empty or unknown identifier fails the whole batch
        return batch_ids
    return {i for i in ids if i}


_HIDDEN = 3600  # real seconds: the retry timer reveals the record sooner on a fast clock (SQS allows 12 h in all)


STOPPING = "(the local runtime is stopping)"
"""The body of the message that ends a poller's long poll when the runtime stops (never handed to a function)."""


class QueuePoller:
    """One thread per mapping, stopped by ``stop()``."""

    def __init__(self, mapping: EventSourceMapping, sqs: Any, virtual_time: VirtualTime) -> None:
        self.mapping = mapping
        self.sqs = sqs
        self.virtual_time = virtual_time
        self._retrying = 0  # records hidden until a timer makes them visible again
        self._retry_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sqs-{mapping.function.name}", daemon=True)
        attributes = sqs.get_queue_attributes(QueueUrl=mapping.queue_url, AttributeNames=["VisibilityTimeout"])
        self.visibility_timeout = int(attributes["Attributes"].get("VisibilityTimeout", 30))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.signal_stop()
        self._thread.join(timeout=5)

    def signal_stop(self) -> None:
        """Ask the thread to end; ``stop`` waits for it. Its long poll (up to a second) ends at once on a
        message sent for that, which it leaves in the queue (the queue goes with the runtime); were the send
        refused, the poll would end on its own. Signalling every poller first, then waiting, ends them all
        together rather than one after the other."""
        if self._stop.is_set():
            return
        self._stop.set()
        with contextlib.suppress(BotoCoreError, ClientError):
            self.sqs.send_message(QueueUrl=self.mapping.queue_url, MessageBody=STOPPING)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once(wait_seconds=1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Receive one batch and hand it to the function; returns how many records it held."""
        response = self.sqs.receive_message(
            QueueUrl=self.mapping.queue_url,
            MaxNumberOfMessages=min(self.mapping.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages or self._stop.is_set():  # stopping: a batch received now stays in the queue
            return 0
        records = [to_record(m, self.mapping.queue_arn) for m in messages]
        batch_ids = {m["MessageId"] for m in messages}
        try:
            result = self.mapping.function.invoke({"Records": records})
            retry = failed_ids(self.mapping, result, batch_ids)
        except FunctionError:
            retry = batch_ids
        for message in messages:
            if message["MessageId"] in retry:
                self._retry_later(message["ReceiptHandle"])
            else:
                self.sqs.delete_message(QueueUrl=self.mapping.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def _retry_later(self, receipt_handle: str) -> None:
        """Hidden for the queue's visibility timeout on the simulated clock, then visible again."""
        with self._retry_lock:
            self._retrying += 1
        self.sqs.change_message_visibility(
            QueueUrl=self.mapping.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=_HIDDEN
        )

        def reveal() -> None:
            try:
                self.sqs.change_message_visibility(
                    QueueUrl=self.mapping.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=0
                )
            except self.sqs.exceptions.ClientError:  # already visible again, or the runtime is stopping
                pass
            finally:
                with self._retry_lock:
                    self._retrying -= 1

        moment = clock.now() + timedelta(seconds=self.visibility_timeout)
        self.virtual_time.at(
            moment, f"retry on {self.mapping.queue_arn}", lambda: self.virtual_time.activity.spawn(reveal, "sqs-retry")
        )

    def settled(self) -> bool:
        """No record waiting to be handled or being handled (those hidden until a retry timer do not count)."""
        if self._stop.is_set():
            return True
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.mapping.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        with self._retry_lock:
            retrying = self._retrying
        visible = int(attributes.get("ApproximateNumberOfMessages", 0))
        return visible == 0 and int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)) <= retrying
