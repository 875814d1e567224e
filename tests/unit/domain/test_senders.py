from datetime import UTC, datetime, timedelta

import pytest

from relance.domain.senders import (
    RESEND_INTERVAL,
    IdentityState,
    SenderStatus,
    claim_key,
    domain_of,
    resend_allowed,
    sender_status,
    status_of,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        (None, SenderStatus.NOT_STARTED),
        (IdentityState(verified_for_sending=True, verification_status="SUCCESS"), SenderStatus.VERIFIED),
        (IdentityState(verified_for_sending=False, verification_status="PENDING"), SenderStatus.PENDING),
        (IdentityState(verified_for_sending=False, verification_status="TEMPORARY_FAILURE"), SenderStatus.PENDING),
        (IdentityState(verified_for_sending=False, verification_status="FAILED"), SenderStatus.FAILED),
        (IdentityState(verified_for_sending=False, verification_status="NOT_STARTED"), SenderStatus.NOT_STARTED),
        # Only VerifiedForSendingStatus lets SES send: "SUCCESS" without it is not verified yet.
        (IdentityState(verified_for_sending=False, verification_status="SUCCESS"), SenderStatus.PENDING),
    ],
)
def test_an_identity_is_verified_only_when_ses_sends_from_it(identity, expected):
    assert status_of(identity) == expected


def test_a_verified_domain_covers_its_addresses_as_ses_does():
    pending = IdentityState(verified_for_sending=False, verification_status="PENDING")
    domain = IdentityState(verified_for_sending=True, verification_status="SUCCESS")

    assert sender_status(pending, domain) == SenderStatus.VERIFIED
    assert sender_status(None, domain) == SenderStatus.VERIFIED
    assert sender_status(pending, None) == SenderStatus.PENDING
    assert sender_status(None, IdentityState(False, "PENDING")) == SenderStatus.NOT_STARTED


def test_an_address_is_one_whatever_its_case():
    assert claim_key(" AR@Relance.Example ") == claim_key("ar@relance.example") == "ar@relance.example"
    assert domain_of("AR@Relance.Example") == "relance.example"


def test_the_verification_email_goes_again_at_most_once_a_minute():
    assert resend_allowed(None, NOW)
    assert not resend_allowed(NOW - RESEND_INTERVAL + timedelta(seconds=1), NOW)
    assert resend_allowed(NOW - RESEND_INTERVAL, NOW)
