"""SQS: messages onto the application's queues (the nudge queue, the nightly queue)."""

from __future__ import annotations

from relance.aws import client

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
