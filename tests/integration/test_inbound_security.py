"""Inbound mail as an attacker sends it: to the wrong organization, to none, spoofed, poisoned.

Every message goes over SMTP to the local runtime's SES inbound stand-in (receipt rule → S3 →
SNS → SQS → InboundMailFunction), as a customer's or an attacker's mail server would send it.
"""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from typing import Any

import pytest
import requests

from relance.services import inbound
from relance.services.organization_admin import create_organization
from tests.integration.helpers import eventually, ok

REPLY_DOMAIN = "replies.relance.local"


def send(runtime: Any, *, sender: str, to: str, subject: str, text: str = "Hello.", headers=None) -> None:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    with smtplib.SMTP(runtime.host, runtime.session["smtpPort"], timeout=10) as smtp:
        smtp.send_message(message)


class Tenant:
    """An organization seen through its admin API key."""

    def __init__(self, runtime: Any, org_id: str, api_key: str) -> None:
        self.runtime, self.id = runtime, org_id
        self.session = requests.Session()
        self.session.headers["X-Api-Key"] = api_key

    @property
    def inbound_address(self) -> str:
        return f"ar+{self.id}@{REPLY_DOMAIN}"

    def url(self, path: str) -> str:
        return f"{self.runtime.base_url}/v1{path}"

    def customer(self, name: str, *emails: str) -> str:
        made = ok(self.session.post(self.url("/customers"), json={"name": name, "currency": "EUR"}), 201)
        for email in emails:
            ok(self.session.post(self.url(f"/customers/{made['id']}/contacts"), json={"email": email}), 201)
        return str(made["id"])

    def replies_on(self, customer_id: str) -> list[dict[str, Any]]:
        items = ok(self.session.get(self.url(f"/customers/{customer_id}/timeline")))["items"]
        return [e for e in items if e["kind"] == "reply_in"]

    def unmatched(self, subject: str) -> list[dict[str, Any]]:
        return [r for r in ok(self.session.get(self.url("/replies/unmatched")))["items"] if r["subject"] == subject]

    def settings(self, **changes: Any) -> None:
        current = ok(self.session.get(self.url("/organization")))["settings"]
        ok(self.session.put(self.url("/organization/settings"), json={**current, **changes}))


@pytest.fixture(scope="module")
def ours(runtime) -> Tenant:
    return Tenant(runtime, runtime.session["organization"]["id"], runtime.session["apiKey"])


@pytest.fixture(scope="module")
def theirs(runtime) -> Tenant:
    org, key = create_organization("Another Tenant Ltd")
    return Tenant(runtime, org.id, key)


def subject_line(what: str) -> str:
    return f"{what} {uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- tenancy (which organization)


def test_mail_to_one_organization_never_lands_in_another_that_knows_the_sender(runtime, ours, theirs):
    their_customer = theirs.customer("Known Elsewhere", "boss@known-elsewhere.example")
    subject = subject_line("For the first tenant")

    send(runtime, sender="boss@known-elsewhere.example", to=ours.inbound_address, subject=subject)

    assert eventually(lambda: ours.unmatched(subject), what="the mail in the addressed organization's unmatched list")
    assert theirs.replies_on(their_customer) == [] and theirs.unmatched(subject) == []


def test_mail_that_names_no_organization_is_quarantined_and_shown_to_no_tenant(runtime, ours, theirs):
    ours.customer("Known Here", "pat@known-here.example")
    subject = subject_line("To nobody in particular")

    send(runtime, sender="pat@known-here.example", to=f"ar@{REPLY_DOMAIN}", subject=subject)

    kept = eventually(
        lambda: [q for q in inbound.list_quarantined() if q["subject"] == subject], what="the quarantine record"
    )
    assert kept[0]["reason"] == "no_organization" and kept[0]["from"] == "pat@known-here.example"
    assert kept[0]["recipients"] == [f"ar@{REPLY_DOMAIN}"] and "text" not in kept[0]
    assert ours.unmatched(subject) == [] and theirs.unmatched(subject) == []


def test_the_organization_shows_its_own_inbound_address(ours):
    assert ok(ours.session.get(ours.url("/organization")))["inboundAddress"] == ours.inbound_address


def test_sender_domain_matching_never_claims_a_free_mail_domain(runtime, ours):
    ours.settings(matchRepliesBySenderDomain=True)
    gmail_customer = ours.customer("Gmail Sole Trader", "sole.trader@gmail.com")
    corporate = ours.customer("Corporate Payer", "ap@corporate-payer.example")
    free, own = subject_line("From a stranger on gmail"), subject_line("From a colleague of AP")

    send(runtime, sender="someone.else@gmail.com", to=ours.inbound_address, subject=free)
    send(runtime, sender="controller@corporate-payer.example", to=ours.inbound_address, subject=own)

    [matched] = eventually(lambda: [e for e in ours.replies_on(corporate) if e["subject"] == own])
    assert matched["matchedBy"] == "sender_domain"
    assert eventually(lambda: ours.unmatched(free))
    assert ours.replies_on(gmail_customer) == []


# ---------------------------------------------------------------- spoofing and viruses (SES's verdicts)


def test_a_virus_is_dropped_and_only_recorded_for_the_admins(runtime, ours):
    customer = ours.customer("Infected Ltd", "ap@infected.example")
    subject = subject_line("Remittance advice")

    send(
        runtime,
        sender="AP <ap@infected.example>",
        to=ours.inbound_address,
        subject=subject,
        text="See the attached remittance.",
        headers={"X-Relance-Test-Verdicts": "virus=FAIL"},
    )

    def blocked():
        return [b for b in ok(ours.session.get(ours.url("/replies/blocked")))["items"] if b["subject"] == subject]

    [record] = eventually(blocked, what="the blocked message in the admins' list")
    assert record["from"] == "ap@infected.example" and record["reason"] == "virus"
    assert record["verdicts"]["virus"] == "FAIL" and record["receivedAt"]
    assert not {"text", "fullText", "attachments", "rawUrl"} & set(record)  # never its content
    assert ours.replies_on(customer) == [] and ours.unmatched(subject) == []


def test_mail_failing_authentication_is_unverified_and_matched_only_by_a_reply_token(runtime, ours):
    customer = ours.customer("Spoofed Sarl", "ceo@spoofed.example")
    task = ok(ours.session.post(ours.url("/actions"), json={"customerId": customer, "type": "call"}), 201)
    reply_address = f"reply+{ours.id}.{task['id']}@{REPLY_DOMAIN}"
    by_address, by_token = subject_line("Change of bank details"), subject_line("Re: your call")
    failed = {"X-Relance-Test-Verdicts": "spf=FAIL,dkim=FAIL,dmarc=FAIL"}

    send(runtime, sender="ceo@spoofed.example", to=ours.inbound_address, subject=by_address, headers=failed)
    send(runtime, sender="ceo@spoofed.example", to=reply_address, subject=by_token, headers=failed)

    [kept] = eventually(lambda: ours.unmatched(by_address), what="the spoofed mail kept unmatched")
    assert kept["unverified"] is True and kept["verdicts"]["dmarc"] == "FAIL"
    [entry] = eventually(lambda: [e for e in ours.replies_on(customer) if e["subject"] == by_token])
    assert entry["matchedBy"] == "reply_address" and entry["unverified"] is True
    assert [e["subject"] for e in ours.replies_on(customer)] == [by_token]  # never by its address alone


def test_the_sender_is_from_never_reply_to(runtime, ours):
    customer = ours.customer("Reply-To Target", "pay@reply-to-target.example")
    subject = subject_line("Our new bank account")

    send(
        runtime,
        sender="fraud@attacker.example",
        to=ours.inbound_address,
        subject=subject,
        headers={"Reply-To": "pay@reply-to-target.example"},
    )

    [kept] = eventually(lambda: ours.unmatched(subject), what="the mail kept unmatched")
    assert kept["from"] == "fraud@attacker.example"
    assert ours.replies_on(customer) == []


# ---------------------------------------------------------------- a deleted customer


def test_mail_from_a_deleted_customer_goes_to_unmatched_and_its_contacts_are_gone(runtime, ours):
    from relance.storage.contacts import contacts_by_mail

    customer = ours.customer("Gone Tomorrow", "ap@gone-tomorrow.example")
    call = ok(ours.session.post(ours.url("/actions"), json={"customerId": customer, "type": "call"}), 201)
    assert ours.session.delete(ours.url(f"/customers/{customer}")).status_code == 204
    by_address, by_token = subject_line("Still there?"), subject_line("Re: your call")

    send(runtime, sender="ap@gone-tomorrow.example", to=ours.inbound_address, subject=by_address)
    send(
        runtime, sender="ap@gone-tomorrow.example", to=f"reply+{ours.id}.{call['id']}@{REPLY_DOMAIN}", subject=by_token
    )

    assert eventually(lambda: ours.unmatched(by_address), what="the mail from a deleted customer's contact, unmatched")
    assert eventually(lambda: ours.unmatched(by_token), what="the answer to a deleted customer's call, unmatched")
    assert contacts_by_mail(ours.id, "gone-tomorrow.example") == []  # no index entry left to match


def test_a_reply_redelivered_after_its_customer_was_deleted_goes_back_to_unmatched(runtime, ours):
    from relance import aws

    customer = ours.customer("Deleted Between", "ap@deleted-between.example")
    subject = subject_line("Delivered twice")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "ap@deleted-between.example", ours.inbound_address, subject
    message.set_content("Hello.")
    bucket, key = runtime.template.name_of("InboundMailBucket"), f"inbound/{uuid.uuid4().hex}"
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=message.as_bytes())
    passing = dict.fromkeys(("spam", "virus", "spf", "dkim", "dmarc"), "PASS")

    [first] = inbound.receive(bucket, key, [ours.inbound_address], passing)
    assert first["status"] == "matched" and [e["subject"] for e in ours.replies_on(customer)] == [subject]
    assert ours.session.delete(ours.url(f"/customers/{customer}")).status_code == 204
    [again] = inbound.receive(bucket, key, [ours.inbound_address], passing)  # SQS delivers at least once

    assert again["status"] == "unmatched" and again["customerId"] is None
    assert [r["id"] for r in ours.unmatched(subject)] == [first["id"]]
