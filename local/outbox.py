"""Every email sent through SES, read back from moto, with the relance-clock time it was sent.

moto keeps what SES v1/v2 accepted; a botocore ``after-call`` hook notes the clock's time of
each accepted send, since moto records none. Which senders SES accepts — those verified,
as in AWS — is ``identities`` (``local/ses_identities.py``), installed with the outbox.
"""

from __future__ import annotations

import threading
from datetime import datetime
from email import message_from_string, policy
from email.message import EmailMessage
from typing import Any

from moto.ses.models import Message, RawMessage, ses_backends

from local import hooks
from local.ses_identities import SesIdentities
from local.template import ACCOUNT, REGION
from relance import clock

_SEND_EVENTS = (
    "after-call.ses.SendEmail",
    "after-call.ses.SendRawEmail",
    "after-call.sesv2.SendEmail",
)


class Outbox:
    def __init__(self) -> None:
        self._sent_at: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self.identities = SesIdentities()  # the senders SES accepts: verified ones only

    def install(self) -> None:
        self.identities.install()
        hooks.install((event, self._on_sent) for event in _SEND_EVENTS)

    def uninstall(self) -> None:
        self.identities.uninstall()
        hooks.uninstall((event, self._on_sent) for event in _SEND_EVENTS)

    def _on_sent(self, parsed: dict[str, Any], **_: Any) -> None:
        message_id = parsed.get("MessageId")
        if message_id:
            with self._lock:
                self._sent_at.setdefault(message_id, clock.now())

    def messages(self) -> list[dict[str, Any]]:
        """The outbox contract of docs/local-runtime.md (``GET /dev/outbox``), oldest first."""
        sent = ses_backends[ACCOUNT][REGION].sent_messages
        return [self._describe(m) for m in sent if isinstance(m, Message | RawMessage)]

    def _describe(self, message: Message | RawMessage) -> dict[str, Any]:
        sent_at = self._sent_at.get(message.id)
        entry: dict[str, Any] = {
            "messageId": message.id,
            "from": message.source,
            "to": [],
            "cc": [],
            "replyTo": [],
            "subject": "",
            "text": None,
            "html": None,
            "sentAt": sent_at.isoformat() if sent_at else None,
        }
        if isinstance(message, RawMessage):
            mime = message_from_string(message.raw_data, policy=policy.default)
            assert isinstance(mime, EmailMessage)
            entry["from"] = str(mime.get("From", message.source))
            entry["to"] = [str(a) for a in getattr(mime.get("To"), "addresses", [])]
            entry["cc"] = [str(a) for a in getattr(mime.get("Cc"), "addresses", [])]
            entry["replyTo"] = [str(a) for a in getattr(mime.get("Reply-To"), "addresses", [])]
            entry["subject"] = str(mime.get("Subject", ""))
            for kind in ("plain", "html"):
                part = mime.get_body(preferencelist=(kind,))
                if part is not None:
                    entry["text" if kind == "plain" else "html"] = part.get_content()
            return entry
        entry["to"] = list(message.destinations.get("ToAddresses", []))
        entry["cc"] = list(message.destinations.get("CcAddresses", []))
        entry["subject"] = message.subject
        is_html = message.body.lstrip().startswith("<")
        entry["html" if is_html else "text"] = message.body
        return entry
