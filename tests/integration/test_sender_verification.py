"""The sender address: registered to one organization, verified by SES (locally: the dev page's Verify)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests

from relance import aws, clock
from relance.errors import SenderNotVerified
from relance.mail import identities, ses
from relance.mail.rendering import RenderedEmail
from relance.services.organization_admin import create_organization


@pytest.fixture
def url(runtime):
    return lambda path: f"{runtime.base_url}{path}"


def set_sender(api, url, email: str | None) -> requests.Response:
    settings = api.get(url("/v1/organization")).json()["settings"]
    return api.put(url("/v1/organization/settings"), json={**settings, "senderEmail": email})


def verify(url, email: str) -> None:
    requests.post(url("/dev/ses/verify"), json={"email": email}).raise_for_status()


def identity(url, name: str) -> dict:
    return next(i for i in requests.get(url("/dev/ses/identities")).json() if i["identity"] == name)


def owing_customer(api, url, name: str) -> dict:
    customer = api.post(url("/v1/customers"), json={"name": name, "currency": "EUR"}).json()
    contact = {"email": f"ap.{customer['id'].lower()}@customer.example", "firstName": "Pat"}
    assert api.post(url(f"/v1/customers/{customer['id']}/contacts"), json=contact).status_code == 201
    today = clock.now().date()
    invoice = {
        "customerId": customer["id"],
        "number": f"{name[:3].upper()}-1",
        "currency": "EUR",
        "amount": 12000,
        "issuedAt": (today - timedelta(days=40)).isoformat(),
        "dueAt": (today - timedelta(days=10)).isoformat(),
    }
    assert api.post(url("/v1/invoices"), json=invoice).status_code == 201
    return customer


def test_setting_the_sender_starts_its_verification_and_shows_it_pending(api, url):
    answer = set_sender(api, url, "billing@pending.example")

    assert answer.status_code == 200
    assert answer.json()["sender"]["status"] == "pending"
    shown = api.get(url("/v1/organization")).json()
    assert shown["settings"]["senderEmail"] == "billing@pending.example"
    assert shown["sender"]["email"] == "billing@pending.example"
    assert shown["sender"]["status"] == "pending"
    assert shown["sender"]["checkedAt"] and shown["sender"]["verificationSentAt"]
    in_ses = aws.client("sesv2").get_email_identity(EmailIdentity="billing@pending.example")
    assert (in_ses["VerifiedForSendingStatus"], in_ses["VerificationStatus"]) == (False, "PENDING")
    page = requests.get(url("/dev")).text
    row = re.search(r"billing@pending\.example.*?</tr>", page, re.S)
    assert row and 'action="/dev/ses/verify"' in row.group(0) and "Verify</button>" in row.group(0)


def test_the_dev_verify_makes_the_sender_verified(api, url):
    set_sender(api, url, "billing@verify.example")

    clicked = requests.post(url("/dev/ses/verify"), data={"email": "billing@verify.example"}, allow_redirects=False)

    assert (clicked.status_code, clicked.headers["Location"]) == (303, "/dev")
    assert api.get(url("/v1/organization")).json()["sender"]["status"] == "verified"
    assert identity(url, "billing@verify.example")["status"] == "verified"
    assert "billing@verify.example" not in requests.get(url("/dev")).text  # no longer waiting
    unknown = requests.post(url("/dev/ses/verify"), json={"email": "nobody@nowhere.example"})
    assert unknown.status_code == 404


def test_another_organization_cannot_claim_the_sender(api, url):
    assert set_sender(api, url, "ar@claimed.example").status_code == 200
    emailed = identity(url, "ar@claimed.example")["verificationSentAt"]
    _, other_key = create_organization("Claimant Ltd")
    other = requests.Session()
    other.headers["X-Api-Key"] = other_key

    refused = set_sender(other, url, "AR@Claimed.example")

    assert refused.status_code == 409
    assert refused.json()["error"]["fields"] == {"senderEmail": "used by another organization"}
    assert other.get(url("/v1/organization")).json()["settings"]["senderEmail"] is None
    assert identity(url, "ar@claimed.example")["verificationSentAt"] == emailed  # no email to someone else's mailbox
    # The owner switches away and back: still its own, nothing is asked of SES again.
    assert set_sender(api, url, "ar@elsewhere.example").status_code == 200
    assert set_sender(api, url, "ar@claimed.example").status_code == 200
    assert identity(url, "ar@claimed.example")["verificationSentAt"] == emailed


def test_the_verification_email_can_be_sent_again_once_a_minute(api, url):
    set_sender(api, url, "billing@again.example")
    first = identity(url, "billing@again.example")["verificationSentAt"]

    too_soon = api.post(url("/v1/organization/sender/verify"))

    assert too_soon.status_code == 429
    assert "senderEmail" in too_soon.json()["error"]["fields"]
    assert identity(url, "billing@again.example")["verificationSentAt"] == first
    requests.post(url("/dev/clock"), json={"advanceDays": 0.01}).raise_for_status()  # a quarter of an hour later
    again = api.post(url("/v1/organization/sender/verify"))
    assert again.status_code == 200
    assert again.json()["status"] == "pending"
    assert identity(url, "billing@again.example")["verificationSentAt"] > first
    verify(url, "billing@again.example")
    assert api.post(url("/v1/organization/sender/verify")).json()["status"] == "verified"  # nothing to send


def test_a_manual_email_with_an_unverified_sender_is_refused_and_writes_nothing(api, url):
    customer = owing_customer(api, url, "Unverified Sender Co")
    set_sender(api, url, "billing@unverified.example")

    refused = api.post(url("/v1/actions"), json={"customerId": customer["id"], "type": "email"})

    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "sender_not_verified"
    assert "senderEmail" in error["fields"] and "billing@unverified.example" in error["message"]
    assert api.get(url(f"/v1/customers/{customer['id']}/actions")).json()["items"] == []
    timeline = api.get(url(f"/v1/customers/{customer['id']}/timeline")).json()["items"]
    assert [entry for entry in timeline if entry["kind"] == "action"] == []
    verify(url, "billing@unverified.example")
    sent = api.post(url("/v1/actions"), json={"customerId": customer["id"], "type": "email"})
    assert (sent.status_code, sent.json()["status"], sent.json().get("reason")) == (201, "sent", None)


def test_a_reply_from_the_timeline_with_an_unverified_sender_is_refused(api, url):
    customer = owing_customer(api, url, "Reply Later SA")
    set_sender(api, url, "billing@first.example")
    verify(url, "billing@first.example")
    original = api.post(url("/v1/actions"), json={"customerId": customer["id"], "type": "email"}).json()
    set_sender(api, url, "billing@second.example")  # a new sender, not verified yet

    refused = api.post(url(f"/v1/actions/{original['id']}/reply"), json={"body": "Any news?"})

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "sender_not_verified"
    assert "senderEmail" in refused.json()["error"]["fields"]
    assert [a["id"] for a in api.get(url(f"/v1/customers/{customer['id']}/actions")).json()["items"]] == [
        original["id"]
    ]


def test_the_ses_adapter_raises_sender_not_verified_for_an_unverified_sender(url):
    identities.create("adapter@pending.example")
    email = RenderedEmail(subject="Overdue", text="Please pay.\n", html="<p>Please pay.</p>")

    def envelope(sender: str) -> ses.Envelope:
        return ses.for_action("org_x", "act_x", sender_name="AR", sender_email=sender, to=["p@c.example"], cc=[])

    with pytest.raises(SenderNotVerified) as pending:
        ses.send(envelope("adapter@pending.example"), email)
    with pytest.raises(SenderNotVerified):
        ses.send(envelope("stranger@unknown.example"), email)  # no identity at all
    verify(url, "adapter@pending.example")

    assert pending.value.sender == "adapter@pending.example"
    assert ses.send(envelope("adapter@pending.example"), email)
    assert identities.create("adapter@pending.example") is False  # SES already has it: AlreadyExistsException


def test_a_portal_message_is_kept_while_the_sender_is_unverified(api, url):
    customer = owing_customer(api, url, "Portal Writer GmbH")
    settings = api.get(url("/v1/organization")).json()["settings"]
    api.put(
        url("/v1/organization/settings"),
        json={**settings, "senderEmail": "billing@portal-unverified.example", "arEmail": "ar-team@relance.example"},
    ).raise_for_status()
    link = api.post(url(f"/v1/customers/{customer['id']}/portal-link"), json={}).json()["url"]

    sent = requests.post(f"{link}/messages", data={"body": "We paid yesterday."})

    assert sent.status_code == 200
    timeline = api.get(url(f"/v1/customers/{customer['id']}/timeline")).json()["items"]
    assert [entry["body"] for entry in timeline if entry["kind"] == "portal_message"] == ["We paid yesterday."]
    assert not [m for m in requests.get(url("/dev/outbox")).json() if "ar-team@relance.example" in m["to"]]
