"""SES identity verification, which moto skips: a new identity waits for the click in SES's email.

moto 5.2.5 makes an identity usable the moment it is created (SES v2 ``CreateEmailIdentity``,
v1 ``VerifyEmailIdentity``/``VerifyDomainIdentity``): it accepts a send from any address
that is an identity or whose domain is one, answers ``VerificationStatus: SUCCESS``, and
creates an existing identity again instead of answering ``AlreadyExistsException``. Here,
as in SES:

- ``CreateEmailIdentity`` of an identity SES has answers ``AlreadyExistsException``;
- a new identity (or one whose verification email is sent again) is ``PENDING``, not
  verified for sending, until ``verify`` — the dev page's Verify button or
  ``POST /dev/ses/verify {"email"}`` — stands for the click on the link of SES's
  verification email (for a domain: SES finding its DNS records);
- ``SendEmail`` (v2) and ``SendEmail``/``SendRawEmail`` (v1) from a sender whose address,
  or domain, is not an identity verified for sending answer ``MessageRejected`` with SES's
  message, naming the sender.

The state is moto's own (``email_identities`` of the SES backend: ``verification_status``,
``verified_for_sending_status``), so ``GetEmailIdentity`` and ``ListEmailIdentities``
answer from it and a reset forgets it. Botocore hooks, as for the outbox and SES events:
they see every call of this process, the functions' included.
"""

from __future__ import annotations

import threading
from datetime import datetime
from email import message_from_bytes
from email.utils import parseaddr
from typing import Any

from botocore.awsrequest import AWSResponse
from moto.ses.models import EmailIdentity, ses_backends

from local import hooks
from local.template import ACCOUNT, REGION
from relance import clock

_ASKED = "relance_local_ses"  # where the call's parameters wait in botocore's request context
_SENDS = ("sesv2.SendEmail", "ses.SendEmail", "ses.SendRawEmail")
_CREATE = "sesv2.CreateEmailIdentity"
_VERIFICATIONS = (_CREATE, "ses.VerifyEmailIdentity", "ses.VerifyEmailAddress", "ses.VerifyDomainIdentity")


def _identities() -> dict[str, EmailIdentity]:
    identities: dict[str, EmailIdentity] = ses_backends[ACCOUNT][REGION].email_identities
    return identities


def _find(name: str) -> EmailIdentity | None:
    """The identity named ``name`` (identities are matched whatever their case, as SES does)."""
    wanted = name.strip().lower()
    return next((i for key, i in list(_identities().items()) if key.lower() == wanted), None)


def verify(name: str) -> bool:
    """What SES does when the link of its verification email is clicked; False: no such identity."""
    identity = _find(name)
    if identity is None:
        return False
    identity.verification_status = "SUCCESS"
    identity.verified_for_sending_status = True
    return True


def is_verified(sender: str) -> bool:
    """SES sends from ``sender`` when it, or its domain, is an identity verified for sending."""
    address = parseaddr(sender)[1]
    candidates = (_find(address), _find(address.rpartition("@")[2]))
    return any(i is not None and i.verified_for_sending_status for i in candidates)


class SesIdentities:
    def __init__(self) -> None:
        self.verification_sent: dict[str, datetime] = {}  # identity (lower case) → when SES "emailed" it
        self._lock = threading.Lock()
        self._entries: list[tuple[str, Any]] = []
        for operation in {*_SENDS, *_VERIFICATIONS}:
            self._entries.append((f"before-parameter-build.{operation}", self._remember))
        for operation in _SENDS:
            self._entries.append((f"before-call.{operation}", self._refuse_unverified_sender))
        self._entries.append((f"before-call.{_CREATE}", self._refuse_existing))
        for operation in _VERIFICATIONS:
            self._entries.append((f"after-call.{operation}", self._pending))

    def install(self) -> None:
        hooks.install(self._entries)

    def uninstall(self) -> None:
        hooks.uninstall(self._entries)

    def describe(self) -> list[dict[str, Any]]:
        """Every identity SES has, with its status and when its verification email went."""
        rows = []
        for name, identity in sorted(list(_identities().items())):
            sent = self.verification_sent.get(name.lower())
            rows.append(
                {
                    "identity": name,
                    "type": "address" if identity.identity_type == "EMAIL_ADDRESS" else "domain",
                    "status": "verified" if identity.verified_for_sending_status else "pending",
                    "verificationSentAt": sent.isoformat() if sent else None,
                }
            )
        return rows

    # ------------------------------------------------------------ hooks
    @staticmethod
    def _remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_ASKED] = dict(params)

    @staticmethod
    def _refuse_existing(context: dict[str, Any], params: dict[str, Any], **_: Any) -> Any:
        name = str(context.get(_ASKED, {}).get("EmailIdentity", ""))
        if name and _find(name) is not None:
            return _error(params, 400, "AlreadyExistsException", f"Email identity {name} already exist.")
        return None

    @staticmethod
    def _refuse_unverified_sender(context: dict[str, Any], params: dict[str, Any], **_: Any) -> Any:
        sender = _sender(context.get(_ASKED, {}))
        if not sender or is_verified(sender):
            return None  # moto decides (a missing sender is its error to report)
        message = (
            "Email address is not verified. The following identities failed the check in region "
            f"{REGION.upper()}: {sender}"
        )
        return _error(params, 400, "MessageRejected", message)

    def _pending(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        """SES emailed the identity a link (a domain: DNS records to publish): pending until verified."""
        if http_response.status_code >= 300:
            return
        asked = context.get(_ASKED, {})
        name = str(asked.get("EmailIdentity") or asked.get("EmailAddress") or asked.get("Domain") or "")
        identity = _find(parseaddr(name)[1] or name) if name else None
        if identity is None or identity.verified_for_sending_status:
            return  # SES keeps a verified identity verified
        identity.verification_status = "PENDING"
        with self._lock:
            self.verification_sent[identity.email_identity.lower()] = clock.now()


def _sender(asked: dict[str, Any]) -> str:
    """The sender of a send call: ``FromEmailAddress`` (v2), ``Source`` (v1), else the raw message's From."""
    sender = asked.get("FromEmailAddress") or asked.get("Source")
    if sender:
        return parseaddr(str(sender))[1]
    raw = (asked.get("Content", {}).get("Raw") or asked.get("RawMessage") or {}).get("Data")
    if raw:
        message = message_from_bytes(raw if isinstance(raw, bytes) else str(raw).encode())
        return parseaddr(str(message.get("From", "")))[1]
    return ""


def _error(params: dict[str, Any], status: int, code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    """A call answered here with SES's error, as botocore would have parsed it."""
    parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return AWSResponse(params.get("url", ""), status, {}, None), parsed
