"""Inbound mail: a raw MIME message as the parts Relance keeps (who, what it answers, text, files).

Whatever a message holds, reading it never fails and never yields more than one DynamoDB
item can take: an unknown charset is read as UTF-8 with replacement characters, the text is
capped in bytes (``relance.domain.inbound``) and marked ``truncated``, and only the first
files are kept; all of it stays in the raw message, which the reply links.

BeautifulSoup and mail-parser-reply are imported by the first message parsed, not with this module:
the API imports it for routes that never read a message.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from relance.domain.inbound import (
    MAX_ADDRESSES,
    MAX_ATTACHMENTS,
    MAX_FILENAME_CHARS,
    MAX_HTML_CHARS,
    MAX_NAME_CHARS,
    MAX_REFERENCES,
    MAX_SUBJECT_CHARS,
    MAX_TEXT_BYTES,
    clip_utf8,
)
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
    truncated: bool = False  # the text, or the files, are not all here: the raw message has them
    attachments_omitted: int = 0  # files past MAX_ATTACHMENTS, left in the raw message


def html_to_text(html: str) -> str:
    """The visible text of an HTML-only message, a line per block."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html[:MAX_HTML_CHARS], "html.parser")
    for hidden in soup(["style", "script", "head"]):
        hidden.decompose()
    lines = [" ".join(line.split()) for line in soup.get_text("\n").splitlines()]
    return "\n".join(line for line in lines if line).strip()


def header_values(message: EmailMessage, name: str) -> list[str]:
    """Every value of a header as text. The parser of structured headers trips on some malformed
    ones (``From: =?utf-8?q?=?= <`` raises IndexError): those are read as they came, encoded words decoded."""
    try:
        return [str(value) for value in message.get_all(name, [])]
    except Exception:
        return [_decoded_words(value) for key, value in message.raw_items() if key.lower() == name.lower()]


def _decoded_words(value: str) -> str:
    try:
        return str(make_header(decode_header(value)))
    except Exception:
        return value


def _header(message: EmailMessage, name: str) -> str:
    values = header_values(message, name)
    return values[0] if values else ""


def _addresses(message: EmailMessage, header: str) -> list[str]:
    found = [address.lower()[:320] for _, address in getaddresses(header_values(message, header)) if address]
    return found[:MAX_ADDRESSES]


def _message_ids(message: EmailMessage) -> list[str]:
    found: list[str] = []
    for header in ("In-Reply-To", "References"):
        value = _header(message, header)
        ids = [part for part in value.replace(",", " ").split() if part.startswith("<")]
        found.extend(reversed(ids) if header == "References" else ids)
    return list(dict.fromkeys(found))[:MAX_REFERENCES]


def _automatic(message: EmailMessage) -> bool:
    submitted = (_header(message, "Auto-Submitted") or "no").lower()
    return submitted != "no" or "X-Autoreply" in message or "X-Autorespond" in message


def decoded_text(part: EmailMessage) -> str:
    """A text part's content in its declared charset; an unknown or wrong one gives replacement characters."""
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else str(payload or "").encode("utf-8", "replace")
    charset = part.get_content_charset() or "us-ascii"
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    return data.decode(charset, errors="replace")


def _sent_at(message: EmailMessage) -> str | None:
    date = _header(message, "Date")
    try:
        return parsedate_to_datetime(str(date)).isoformat() if date else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _reply_of(text: str) -> str:
    """What the sender wrote, the quoted history stripped."""
    from mailparser_reply import EmailReplyParser  # type: ignore[import-untyped]

    return str(EmailReplyParser(languages=REPLY_LANGUAGES).parse_reply(text=text)).strip()


def parse(raw: bytes) -> InboundMail:
    """Parse a message as SES (or the local SMTP listener) stores it. The sender is ``From``: the
    address SPF/DKIM/DMARC speak for; ``Reply-To`` is whatever the writer chose, and is not kept."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    senders = getaddresses(header_values(message, "From"))
    sender_name, sender = senders[0] if senders else ("", "")
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if isinstance(body, EmailMessage):
        content = decoded_text(body)
        text = html_to_text(content) if body.get_content_type() == "text/html" else content
    text, text_cut = clip_utf8(text.replace("\r\n", "\n").strip(), MAX_TEXT_BYTES)
    reply = _reply_of(text) if text else ""
    reply, reply_cut = clip_utf8(reply, MAX_TEXT_BYTES)
    attachments: list[Attachment] = []
    omitted = 0
    for part in message.iter_attachments():
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        if len(attachments) == MAX_ATTACHMENTS:
            omitted += 1
            continue
        name = part.get_filename() or f"attachment-{len(attachments) + 1}"
        attachments.append(
            Attachment(filename=name[:MAX_FILENAME_CHARS], content_type=part.get_content_type(), data=data)
        )
    subject = _header(message, "Subject")
    message_id = _header(message, "Message-ID")[:998] or None
    return InboundMail(
        sender=sender.lower()[:320],
        sender_name=sender_name[:MAX_NAME_CHARS],
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        subject=subject[:MAX_SUBJECT_CHARS],
        message_id=message_id,
        references=_message_ids(message),
        text=text,
        reply=reply or text,
        sent_at=_sent_at(message),
        automatic=_automatic(message),
        attachments=attachments,
        truncated=text_cut or reply_cut or omitted > 0 or len(subject) > MAX_SUBJECT_CHARS,
        attachments_omitted=omitted,
    )
