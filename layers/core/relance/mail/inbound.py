"""Inbound mail: a raw MIME message as the parts Relance keeps (who, what it answers, text, files)."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from bs4 import BeautifulSoup
from mailparser_reply import EmailReplyParser  # type: ignore[import-untyped]

from relance.mail.ses import Attachment

REPLY_LANGUAGES = ["en", "fr", "de", "es", "it", "nl", "pt"]


@dataclass(frozen=True)
class InboundMail:
    sender: str  # the address, lower case
    sender_name: str
    to: list[str]
    cc: list[str]
    subject: str
    message_id: str | None
    references: list[str]  # In-Reply-To first, then References, newest first
    text: str  # the whole text, quoted history included
    reply: str  # what the sender wrote, the quoted history stripped
    sent_at: str | None
    automatic: bool = False  # an out-of-office or other auto-reply (RFC 3834)
    attachments: list[Attachment] = field(default_factory=list)


def html_to_text(html: str) -> str:
    """The visible text of an HTML-only message, a line per block."""
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["style", "script", "head"]):
        hidden.decompose()
    lines = [" ".join(line.split()) for line in soup.get_text("\n").splitlines()]
    return "\n".join(line for line in lines if line).strip()


def _addresses(message: EmailMessage, header: str) -> list[str]:
    return [address.lower() for _, address in getaddresses(message.get_all(header, [])) if address]


def _message_ids(message: EmailMessage) -> list[str]:
    found: list[str] = []
    for header in ("In-Reply-To", "References"):
        value = str(message.get(header, "") or "")
        ids = [part for part in value.replace(",", " ").split() if part.startswith("<")]
        found.extend(reversed(ids) if header == "References" else ids)
    return list(dict.fromkeys(found))


def _automatic(message: EmailMessage) -> bool:
    submitted = str(message.get("Auto-Submitted", "no") or "no").lower()
    return submitted != "no" or "X-Autoreply" in message or "X-Autorespond" in message


def parse(raw: bytes) -> InboundMail:
    """Parse a message as SES (or the local SMTP listener) stores it."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    senders = getaddresses(message.get_all("Reply-To", []) or message.get_all("From", []))
    sender_name, sender = senders[0] if senders else ("", "")
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        content = body.get_content()
        text = html_to_text(content) if body.get_content_type() == "text/html" else content
    text = text.replace("\r\n", "\n").strip()
    reply = EmailReplyParser(languages=REPLY_LANGUAGES).parse_reply(text=text).strip() if text else ""
    attachments: list[Attachment] = []
    for part in message.iter_attachments():
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        attachments.append(
            Attachment(
                filename=part.get_filename() or f"attachment-{len(attachments) + 1}",
                content_type=part.get_content_type(),
                data=data,
            )
        )
    date = message.get("Date")
    try:
        sent_at = parsedate_to_datetime(str(date)).isoformat() if date else None
    except (TypeError, ValueError):
        sent_at = None
    return InboundMail(
        sender=sender.lower(),
        sender_name=sender_name,
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        subject=str(message.get("Subject", "") or ""),
        message_id=str(message.get("Message-ID", "") or "") or None,
        references=_message_ids(message),
        text=text,
        reply=reply or text,
        sent_at=sent_at,
        automatic=_automatic(message),
        attachments=attachments,
    )
