"""SES identities: start verifying a sender address, send the verification email again, read its status.

SES v2 creates identities (``CreateEmailIdentity`` sends the verification email to an
address) and reports on them (``GetEmailIdentity``). It has no call that sends that email
again: SES v1 ``VerifyEmailIdentity`` on the same identity does, without deleting anything.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from relance.aws import client
from relance.domain.senders import IdentityState


class Unanswered(Exception):
    """SES gave no answer about an identity (it throttled or refused the call): the caller falls back on
    what SES said last."""


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def create(identity: str) -> bool:
    """Start verifying ``identity`` (SES emails an address a link); False when SES already has it."""
    try:
        client("sesv2").create_email_identity(EmailIdentity=identity)
    except ClientError as error:
        if _code(error) == "AlreadyExistsException":
            return False
        raise
    return True


def resend(address: str) -> None:
    """Send the verification email to ``address`` again (SES v1, the only call that does)."""
    client("ses").verify_email_identity(EmailAddress=address)


def get(identity: str) -> IdentityState | None:
    """SES's view of ``identity`` (an address or a domain); None when SES has no such identity;
    ``Unanswered`` when SES said nothing of it."""
    try:
        answer = client("sesv2").get_email_identity(EmailIdentity=identity)
    except ClientError as error:
        if _code(error) in ("NotFoundException", "NotFound"):
            return None
        raise Unanswered(str(error)) from error
    return IdentityState(
        verified_for_sending=bool(answer.get("VerifiedForSendingStatus")),
        verification_status=str(answer.get("VerificationStatus") or "PENDING"),
    )
