"""Unmatched replies through the local runtime: admins read them and give each to its customer, where
it lands on the timeline; account managers do not see the inbox."""

from __future__ import annotations

from email.message import EmailMessage

from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance.aws import client
from relance.domain.inbound import VERDICTS, inbound_address
from relance.domain.organizations import Principal
from relance.services import customers, inbound
from relance.services.customers import CustomerFilter
from relance.settings import get_settings
from tests.integration.web import Browser, text_of


def browser_of(demo: LocalRuntime, role: str) -> Browser:
    person = next(u for u in demo.session["users"] if u["role"] == role)
    browser = Browser(demo.base_url)
    browser.sign_in(person["email"], person["password"])
    return browser


def a_stranger_writes(org_id: str, text: str) -> None:
    mail = EmailMessage()
    mail["From"] = "Pat Nobody <pat@nowhere.example>"
    address = inbound_address(org_id, get_settings().reply_domain)
    mail["To"] = address
    mail["Subject"] = "Which invoice is this?"
    mail["Message-ID"] = "<web-unmatched@nowhere.example>"
    mail.set_content(text)
    bucket, key = get_settings().documents_bucket, "tests/inbound/web-unmatched"
    client("s3").put_object(Bucket=bucket, Key=key, Body=bytes(mail))
    inbound.receive(bucket, key, [address], dict.fromkeys(VERDICTS, "PASS"))


def test_an_admin_reads_an_unmatched_reply_and_gives_it_to_its_customer(demo):
    org = demo.session["organization"]["id"]
    a_stranger_writes(org, "We got a reminder but owe nothing, I think.")
    admin = browser_of(demo, "admin")
    customer = customers.matching_customers(
        Principal(organization_id=org, role="admin", principal_id="test"), CustomerFilter()
    )[0]

    page = admin.get("/replies")
    card = next(
        s for s in BeautifulSoup(page.text, "html.parser").select("section[id^=reply-]") if "owe nothing" in s.text
    )
    reply_id = card.find("input", {"name": "reply"})["value"]
    refused = admin.post("/replies", {"csrf": admin.csrf(page), "do": "assign", "reply": reply_id, "customer": ""})
    given = admin.post(
        "/replies", {"csrf": admin.csrf(page), "do": "assign", "reply": reply_id, "customer": customer.id}
    )

    assert "pat@nowhere.example" in card.text and card.find("label", string="Customer")
    assert refused.status_code == 422 and "choose the customer" in text_of(refused)
    assert given.status_code == 200 and "owe nothing" not in given.text
    assert "owe nothing" in text_of(admin.get(f"/customers/{customer.id}"))
    again = admin.post(
        "/replies", {"csrf": admin.csrf(page), "do": "assign", "reply": reply_id, "customer": customer.id}
    )
    assert again.status_code == 409 and "already" in text_of(again)


def test_an_account_manager_has_no_unmatched_inbox(demo):
    manager = browser_of(demo, "account_manager")
    customers_page = manager.get("/customers")

    assert manager.get("/replies").status_code == 403
    assert BeautifulSoup(customers_page.text, "html.parser").find("a", href="/replies") is None
