"""The SES events AWS would publish for each email, which moto never does.

For every email sent with a configuration set whose event destination is an SNS topic of
the template: ``Send``, then per recipient the SES mailbox simulator's outcome —
``bounce@simulator.amazonses.com`` a permanent ``Bounce``, ``complaint@…`` a ``Delivery``
then a ``Complaint``, ``suppressionlist@…`` a permanent ``Bounce``, anyone else a
``Delivery`` — as SNS notifications carrying the SES event JSON and the email's tags.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from local import hooks
from local.template import Template
from local.virtual_time import Activity
from relance import clock
from relance.aws import client

BOUNCE = {"bounce@simulator.amazonses.com", "suppressionlist@simulator.amazonses.com"}
COMPLAINT = "complaint@simulator.amazonses.com"


class SesEvents:
    def __init__(self, template: Template, activity: Activity) -> None:
        self.activity = activity  # a publication in progress is work: the clock waits for it
        self.topics: dict[str, str] = {}
        for logical_id in template.resources("AWS::SES::ConfigurationSetEventDestination"):
            props = template.properties(logical_id)
            sns = props["EventDestination"].get("SnsDestination")
            if sns and props["EventDestination"].get("Enabled", True):
                self.topics[props["ConfigurationSetName"]] = sns["TopicARN"]
        self._pending = threading.local()
        self._publishing: list[threading.Thread] = []
        self._entries: list[hooks.Hook] = [
            ("before-call.sesv2.SendEmail", self._before),
            ("after-call.sesv2.SendEmail", self._after),
        ]

    def install(self) -> None:
        hooks.install(self._entries)

    def uninstall(self) -> None:
        """Stop emitting; events already on their way are published before moto goes away."""
        hooks.uninstall(self._entries)
        for thread in self._publishing:
            thread.join(timeout=5)
        self._publishing = []

    def _before(self, params: dict[str, Any], **_: Any) -> None:
        body = params.get("body") or b"{}"
        self._pending.request = json.loads(body.decode() if isinstance(body, bytes) else body)

    def _after(self, parsed: dict[str, Any], **_: Any) -> None:
        request = getattr(self._pending, "request", None) or {}
        topic = self.topics.get(request.get("ConfigurationSetName", ""))
        if topic and parsed.get("MessageId"):
            message_id = parsed["MessageId"]
            thread = self.activity.spawn(lambda: self.publish(topic, message_id, request), "ses-events")
            self._publishing = [t for t in self._publishing if t.is_alive()] + [thread]

    def publish(self, topic: str, message_id: str, request: dict[str, Any]) -> None:
        destination = request.get("Destination", {})
        recipients = [*destination.get("ToAddresses", []), *destination.get("CcAddresses", [])]
        now = clock.now().strftime("%Y-%m-%dT%H:%M:%S.000Z")
        mail = {
            "timestamp": now,
            "source": request.get("FromEmailAddress"),
            "messageId": message_id,
            "destination": recipients,
            "tags": {t["Name"]: [t["Value"]] for t in request.get("EmailTags", [])},
        }
        events: list[dict[str, Any]] = [{"eventType": "Send", "mail": mail, "send": {}}]
        for address in recipients:
            if address.lower() in BOUNCE:
                events.append(
                    {
                        "eventType": "Bounce",
                        "mail": mail,
                        "bounce": {
                            "bounceType": "Permanent",
                            "bounceSubType": "General",
                            "timestamp": now,
                            "bouncedRecipients": [
                                {
                                    "emailAddress": address,
                                    "action": "failed",
                                    "status": "5.1.1",
                                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                                }
                            ],
                        },
                    }
                )
                continue
            events.append(
                {
                    "eventType": "Delivery",
                    "mail": mail,
                    "delivery": {
                        "timestamp": now,
                        "recipients": [address],
                        "smtpResponse": "250 2.6.0 Message received",
                    },
                }
            )
            if address.lower() == COMPLAINT:
                events.append(
                    {
                        "eventType": "Complaint",
                        "mail": mail,
                        "complaint": {
                            "timestamp": now,
                            "complainedRecipients": [{"emailAddress": address}],
                            "complaintFeedbackType": "abuse",
                        },
                    }
                )
        for event in events:
            client("sns").publish(TopicArn=topic, Message=json.dumps(event))
