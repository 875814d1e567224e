"""The application's queues: SQS (the nudge queue) and Lambda's own queue of asynchronous invocations
(the nightly and sync fan-outs: each item is an invocation of the worker, retried by Lambda and sent
to the worker's dead-letter queue when every attempt failed; template.yaml, ``EventInvokeConfig``).

Lambda's queue costs nothing while it is empty; an SQS queue read by an event source mapping is
long-polled all month by Lambda, whose requests SQS bills (docs/cost.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from relance.aws import client
from relance.observability import logger

BATCH = 10
"""SQS takes at most ten messages a call."""


def send_all(queue_url: str, bodies: list[str]) -> list[str]:
    """Send every body, ten a call (SendMessageBatch); the bodies SQS did not take."""
    sqs = client("sqs")
    refused: list[str] = []
    for first in range(0, len(bodies), BATCH):
        batch = bodies[first : first + BATCH]
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(batch)]
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
        refused.extend(batch[int(entry["Id"])] for entry in failed)
    return refused


def invoke(function_name: str, payload: Mapping[str, Any]) -> None:
    """Queue an asynchronous invocation of ``function_name`` (``Invoke``, type ``Event``: Lambda answers once
    it holds the event); raises when Lambda does not take it."""
    client("lambda").invoke(FunctionName=function_name, InvocationType="Event", Payload=json.dumps(payload).encode())


def invoke_all(function_name: str, payloads: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Queue an asynchronous invocation of ``function_name`` per payload (``invoke``); the payloads Lambda
    did not take."""
    refused: list[Mapping[str, Any]] = []
    for payload in payloads:
        try:
            invoke(function_name, payload)
        except (ClientError, BotoCoreError) as error:
            logger.warning("invocation not queued", function=function_name, error=str(error))
            refused.append(payload)
    return refused
