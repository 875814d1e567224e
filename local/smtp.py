"""SES inbound, locally: an SMTP listener that does what the template's receipt rules say.

A message whose recipient a rule covers (an address, a domain, or ``.domain`` for its
subdomains) is stored in the rule's S3 bucket under its key prefix, and SES's "Received"
notification is published to the rule's topic, exactly as AWS would: the real SNS → SQS →
Lambda path runs. Recipients no rule covers are refused with a 550, as SES refuses them.

SES judges each message (spam, virus, SPF, DKIM, DMARC); here every verdict is ``PASS``
unless the message carries ``X-Relance-Test-Verdicts: virus=FAIL,spf=FAIL`` (names ``spam``,
``virus``, ``spf``, ``dkim``, ``dmarc``; statuses ``PASS``, ``FAIL``, ``GRAY``,
``PROCESSING_FAILED``), so tests can send spoofed or infected mail. A header that says
anything else is refused with a 550 naming it. Only this stand-in reads the header: SES (and
Relance) never do.
"""

from __future__ import annotations

import json
import logging
import socket
import uuid
from dataclasses import dataclass
from email import message_from_bytes
from email.utils import getaddresses
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from local.template import Template
from relance import clock
from relance.aws import client
from relance.domain.inbound import VERDICT_STATUSES, VERDICTS

log = logging.getLogger("local.smtp")

VERDICTS_HEADER = "X-Relance-Test-Verdicts"


def verdicts_from_test_header(raw: bytes) -> dict[str, str]:
    """The verdicts SES would give this message: all ``PASS``, but for what its
    ``X-Relance-Test-Verdicts`` header says; ValueError naming what the header gets wrong."""
    verdicts = dict.fromkeys(VERDICTS, "PASS")
    header = message_from_bytes(raw).get(VERDICTS_HEADER)
    for part in str(header or "").split(","):
        if not part.strip():
            continue
        name, _, status = (text.strip() for text in part.partition("="))
        if name.lower() not in VERDICTS:
            raise ValueError(f"{VERDICTS_HEADER}: unknown verdict {name!r} (one of {', '.join(VERDICTS)})")
        if status.upper() not in VERDICT_STATUSES:
            allowed = ", ".join(sorted(VERDICT_STATUSES))
            raise ValueError(f"{VERDICTS_HEADER}: {name} cannot be {status!r} (one of {allowed})")
        verdicts[name.lower()] = status.upper()
    return verdicts


@dataclass(frozen=True)
class S3Rule:
    recipients: tuple[str, ...]  # empty: every recipient of the verified domains
    bucket: str
    prefix: str
    topic_arn: str | None

    def covers(self, address: str) -> bool:
        address = address.lower()
        domain = address.rpartition("@")[2]
        for recipient in self.recipients:
            wanted = recipient.lower()
            if wanted in {address, domain} or (wanted.startswith(".") and domain.endswith(wanted)):
                return True
        return not self.recipients


def receipt_rules(template: Template) -> list[S3Rule]:
    rules = []
    for logical_id in template.resources("AWS::SES::ReceiptRule"):
        rule = template.properties(logical_id)["Rule"]
        if not rule.get("Enabled", False):
            continue
        for action in rule.get("Actions", []):
            s3 = action.get("S3Action")
            if s3:
                rules.append(
                    S3Rule(
                        tuple(rule.get("Recipients", [])),
                        s3["BucketName"],
                        s3.get("ObjectKeyPrefix", ""),
                        s3.get("TopicArn"),
                    )
                )
    return rules


def received_notification(
    rule: S3Rule,
    key: str,
    message_id: str,
    sender: str,
    recipients: list[str],
    raw: bytes,
    verdicts: dict[str, str] | None = None,
) -> dict[str, Any]:
    """SES's notification for a message an S3 action stored (the shape AWS documents)."""
    parsed = message_from_bytes(raw)
    now = clock.now().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    given = verdicts or verdicts_from_test_header(raw)
    return {
        "notificationType": "Received",
        "mail": {
            "timestamp": now,
            "source": sender,
            "messageId": message_id,
            "destination": recipients,
            "headersTruncated": False,
            "headers": [{"name": name, "value": str(value)} for name, value in parsed.items()],
            "commonHeaders": {
                "from": [str(parsed.get("From", ""))],
                "to": [a for _, a in getaddresses(parsed.get_all("To", []))],
                "messageId": str(parsed.get("Message-ID", "")),
                "subject": str(parsed.get("Subject", "")),
            },
        },
        "receipt": {
            "timestamp": now,
            "processingTimeMillis": 1,
            "recipients": recipients,
            **{f"{name}Verdict": {"status": given[name]} for name in VERDICTS},
            "action": {
                "type": "S3",
                "topicArn": rule.topic_arn,
                "bucketName": rule.bucket,
                "objectKeyPrefix": rule.prefix,
                "objectKey": key,
            },
        },
    }


class _Handler:
    def __init__(self, rules: list[S3Rule]) -> None:
        self.rules = rules

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not any(rule.covers(address) for rule in self.rules):
            return "550 5.1.1 Mailbox unavailable: no receipt rule covers this recipient"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        try:
            verdicts_from_test_header(raw)
        except ValueError as error:
            return f"550 5.6.0 {error}"
        try:
            for rule in self.rules:
                recipients = [r for r in envelope.rcpt_tos if rule.covers(r)]
                if recipients:
                    self.store(rule, str(envelope.mail_from), recipients, raw)
        except Exception:
            log.exception("inbound mail could not be stored")
            return "451 4.3.0 Try again later"
        return "250 Message accepted"

    def store(self, rule: S3Rule, sender: str, recipients: list[str], raw: bytes) -> None:
        message_id = uuid.uuid4().hex
        key = f"{rule.prefix}{message_id}"
        client("s3").put_object(Bucket=rule.bucket, Key=key, Body=raw)
        if rule.topic_arn:
            notification = received_notification(rule, key, message_id, sender, recipients, raw)
            client("sns").publish(
                TopicArn=rule.topic_arn,
                Message=json.dumps(notification),
                Subject="Amazon SES Email Receipt Notification",
            )
        log.info("inbound mail from %s to %s stored at %s", sender, ", ".join(recipients), key)


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class SmtpListener:
    """``smtplib.SMTP(host, port).send_message(...)`` reaches the template's receipt rules."""

    def __init__(self, template: Template, host: str, port: int) -> None:
        self.rules = receipt_rules(template)
        self.host = host
        self.port = port or free_port(host)
        self.controller = Controller(
            _Handler(self.rules), hostname=host, port=self.port, data_size_limit=40 * 1024 * 1024
        )

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
