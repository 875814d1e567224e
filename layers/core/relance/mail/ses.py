"""Send an email through SES v2 (raw MIME, the configuration set that publishes its events).

SES refuses a sender whose identity is not verified (``MessageRejected``): ``send`` raises
``SenderNotVerified`` then, so callers record that reason instead of a failed call.

Every header value is put on one line here (``header_value``): a subject decoded from a customer's
mail, a file name, a person's or sender's name never breaks the message or adds a header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from botocore.exceptions import ClientError

from relance.aws import AwsUnavailable, client, is_transient
from relance.errors import SenderNotVerified
from relance.mail.rendering import RenderedEmail
from relance.settings import get_settings

__all__ = [  # callers catch ses.SenderNotVerified and ses.AwsUnavailable
    "Attachment",
    "AwsUnavailable",
    "Envelope",
    "SenderNotVerified",
    "for_action",
    "message_id",
    "parse_reference",
    "reference",
    "refuses_sender",
    "send",
    "send_text",
]

_ADDRESS = re.compile(r"[^\s<>,:;\"]+@[^\s<>,:;\"]+[^\s<>,:;\".]")
_REFERENCE = re.compile(r"(?:reply\+|<)(?P<org>org_[0-9a-z]{26})\.(?P<action>act_[0-9a-z]{26})@")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def header_value(text: str) -> str:
    """``text`` fit for a header: line breaks (CR, LF) and other control characters become one space,
    so nothing can end the header early, add another (``Bcc:``) or make the email library refuse it."""
    return _CONTROL.sub(" ", text).strip()


@dataclass(frozen=True)
class Envelope:
    sender_name: str
    sender_email: str
    to: list[str]
    cc: list[str]
    reply_to: str
    message_id: str  # ours, so that replies (In-Reply-To) find their way back
    tags: dict[str, str]  # come back on every SES event of this email (organization, action)
    in_reply_to: str | None = None  # the Message-ID this answers, to thread the exchange


def reference(org_id: str, action_id: str) -> str:
    """``<org>.<action>``: the local part of reply addresses and Message-IDs, routing replies back."""
    return f"{org_id}.{action_id}"


def message_id(org_id: str, action_id: str) -> str:
    """The Message-ID of the email sent for an action: ``<<org>.<action>@<ReplyDomain>>``."""
    return f"<{reference(org_id, action_id)}@{get_settings().reply_domain}>"


def parse_reference(text: str) -> tuple[str, str] | None:
    """``(org, action)`` from ``reply+<org>.<action>@…`` or ``<<org>.<action>@…>``; None if it is not ours."""
    found = _REFERENCE.search(text.lower())  # some mail systems lower-case addresses: ids are lower case
    return (found["org"], found["action"]) if found else None


def for_action(
    org_id: str,
    action_id: str,
    *,
    sender_name: str,
    sender_email: str,
    to: list[str],
    cc: list[str],
    in_reply_to: str | None = None,
) -> Envelope:
    """The envelope of an email sent for an action: its replies (``reply+<org>.<action>@``, In-Reply-To)
    and its SES events (tags) find their way back to that action; ``in_reply_to`` threads an answer."""
    ours = reference(org_id, action_id)
    return Envelope(
        sender_name=sender_name,
        sender_email=sender_email,
        to=to,
        cc=cc,
        reply_to=f"reply+{ours}@{get_settings().reply_domain}",
        message_id=message_id(org_id, action_id),
        tags={"organization": org_id, "action": action_id},
        in_reply_to=in_reply_to,
    )


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def send(envelope: Envelope, email: RenderedEmail, attachments: tuple[Attachment, ...] = ()) -> str:
    """Send and answer SES's message id."""
    mime = EmailMessage()
    mime["From"] = formataddr((header_value(envelope.sender_name), header_value(envelope.sender_email)))
    mime["To"] = ", ".join(header_value(a) for a in envelope.to)
    if envelope.cc:
        mime["Cc"] = ", ".join(header_value(a) for a in envelope.cc)
    mime["Reply-To"] = header_value(envelope.reply_to)
    mime["Subject"] = header_value(email.subject)
    mime["Message-ID"] = header_value(envelope.message_id)
    if envelope.in_reply_to and header_value(envelope.in_reply_to):
        mime["In-Reply-To"] = header_value(envelope.in_reply_to)
        mime["References"] = header_value(envelope.in_reply_to)
    mime.set_content(email.text)
    mime.add_alternative(email.html, subtype="html")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(
            attachment.data,
            maintype=header_value(maintype) or "application",
            subtype=header_value(subtype) or "octet-stream",
            filename=header_value(attachment.filename) or "attachment",
        )
    arguments: dict[str, Any] = {
        "FromEmailAddress": envelope.sender_email,
        "Destination": {"ToAddresses": envelope.to, "CcAddresses": envelope.cc},
        "Content": {"Raw": {"Data": mime.as_bytes()}},
    }
    arguments["EmailTags"] = [{"Name": name, "Value": value} for name, value in envelope.tags.items()]
    configuration_set = get_settings().ses_configuration_set
    if configuration_set:
        arguments["ConfigurationSetName"] = configuration_set
    return _send_email(arguments, envelope.sender_email)


def send_text(
    sender: tuple[str, str],
    to: str,
    subject: str,
    text: str,
    *,
    reply_to: str | None = None,
    tags: dict[str, str] | None = None,
) -> str:
    """Send a plain-text email of ours (a notification, an invitation, a forwarded portal message) from
    ``sender`` (name, address; the name may be empty) and answer SES's message id. With ``tags``, it goes
    through the configuration set, whose events carry them. Refused as ``send`` is."""
    arguments: dict[str, Any] = {
        "FromEmailAddress": formataddr(sender),
        "Destination": {"ToAddresses": [to]},
        "Content": {"Simple": {"Subject": {"Data": subject[:200]}, "Body": {"Text": {"Data": text}}}},
    }
    if tags:
        arguments["EmailTags"] = [{"Name": name, "Value": value} for name, value in tags.items()]
    if reply_to:
        arguments["ReplyToAddresses"] = [reply_to]
    configuration_set = get_settings().ses_configuration_set
    if tags and configuration_set:
        arguments["ConfigurationSetName"] = configuration_set
    return _send_email(arguments, sender[1])


def _send_email(arguments: dict[str, Any], sender: str) -> str:
    try:
        return str(client("sesv2").send_email(**arguments)["MessageId"])
    except ClientError as error:
        if refuses_sender(error, sender):
            raise SenderNotVerified(sender) from error
        if is_transient(error):  # SES took nothing: the same email may be sent again later
            raise AwsUnavailable(str(error)) from error
        raise


def refuses_sender(error: ClientError, sender: str) -> bool:
    """Whether SES refused the email because ``sender`` is not a verified identity.

    SES answers ``MessageRejected`` "Email address is not verified. The following identities
    failed the check in region …: <addresses>", naming the sender when it is the sender that
    is not verified; in the sandbox it names unverified recipients too (or only them), which
    is another problem: only a message naming the sender counts.
    """
    details = error.response.get("Error", {})
    if details.get("Code") != "MessageRejected":
        return False
    message = str(details.get("Message", "")).lower()
    if "not verified" not in message and "authority to send" not in message:
        return False
    return sender.strip().lower() in {found.lower() for found in _ADDRESS.findall(message)}
