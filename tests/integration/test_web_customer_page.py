"""The customer page through the local runtime: what it shows, who may change what, and its forms."""

from __future__ import annotations

import requests
from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance import clock
from relance.domain.custom_fields import CustomFieldDefinition, FieldType
from relance.services import contacts, custom_fields, customers, users
from relance.services.customers import CustomerFilter
from relance.services.timeline import page as timeline_page
from relance.storage import actions as action_store
from relance.storage import contacts as contact_store
from tests.integration.web import Browser, admin, text_of


def outbox_of(demo: LocalRuntime) -> list[dict]:
    return requests.get(f"{demo.base_url}/dev/outbox", timeout=10).json()


def browser_of(demo: LocalRuntime, role: str) -> tuple[Browser, dict[str, str]]:
    person = next(u for u in demo.session["users"] if u["role"] == role)
    browser = Browser(demo.base_url)
    browser.sign_in(person["email"], person["password"])
    return browser, person


def owing_most(demo: LocalRuntime):
    return max(customers.matching_customers(admin(demo), CustomerFilter()), key=lambda c: sum(c.outstanding.values()))


def post(browser: Browser, customer_id: str, page, **fields):
    return browser.post(f"/customers/{customer_id}", {"csrf": browser.csrf(page), **fields})


def test_the_page_shows_balances_rating_invoices_contacts_and_actions(demo):
    browser, _ = browser_of(demo, "admin")
    customer = owing_most(demo)

    page = browser.get(f"/customers/{customer.id}")

    assert page.status_code == 200 and page.headers["Cache-Control"].startswith("no-store")
    text = text_of(page)
    assert customer.name in text and "Outstanding" in text and "Overdue" in text
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.select("#invoices tbody tr") and ("Overdue" in text or "Due" in text)
    assert soup.select("#contacts li[id^=contact-]")
    assert soup.select_one("#upcoming") and soup.select_one("#history")
    assert soup.find("button", string="Copy portal link") and soup.find("button", string="Preview portal")


def test_an_account_manager_sees_their_customer_read_only_and_no_other(demo):
    browser, person = browser_of(demo, "account_manager")
    manager_id = next(u.id for u in users.list_users(admin(demo)) if u.email == person["email"])
    everyone = customers.matching_customers(admin(demo), CustomerFilter())
    mine = next(c for c in everyone if manager_id in c.account_manager_ids)
    other = next(c for c in everyone if manager_id not in c.account_manager_ids)

    page = browser.get(f"/customers/{mine.id}")
    refused = post(browser, mine.id, page, do="assign", dunningPlanId="")

    assert page.status_code == 200
    assert BeautifulSoup(page.text, "html.parser").select_one("#workflow") is None  # no assignment form
    assert refused.status_code == 403
    assert browser.get(f"/customers/{other.id}").status_code == 404


def test_collection_pauses_and_resumes(demo):
    browser, _ = browser_of(demo, "admin")
    customer = owing_most(demo)
    page = browser.get(f"/customers/{customer.id}")

    paused = post(browser, customer.id, page, do="pause")

    assert paused.status_code == 200 and "Collection paused" in paused.text
    assert customers.get_customer(admin(demo), customer.id).collection_paused
    resumed = post(browser, customer.id, paused, do="resume")
    assert "Collection active" in resumed.text
    assert not customers.get_customer(admin(demo), customer.id).collection_paused


def test_an_invalid_contact_is_marked_valid(demo):
    browser, _ = browser_of(demo, "admin")
    customer = owing_most(demo)
    org = admin(demo).organization_id
    contact = contact_store.contacts_of(org, customer.id)[0]
    contact_store.save_contact(
        org,
        {
            **contact,
            "invalid": True,
            "invalidSince": clock.now().isoformat(),
            "invalidReason": "mailbox does not exist",
        },
    )
    page = browser.get(f"/customers/{customer.id}")
    assert "mailbox does not exist" in page.text

    done = post(browser, customer.id, page, do="contact-valid", contact=contact["id"])

    assert done.status_code == 200 and "mailbox does not exist" not in done.text
    assert not contacts.get_contact(admin(demo), contact["id"]).invalid


def test_a_contact_with_a_bad_email_is_refused_naming_it_then_added(demo):
    browser, _ = browser_of(demo, "admin")
    customer = owing_most(demo)
    page = browser.get(f"/customers/{customer.id}")

    refused = post(browser, customer.id, page, do="contact-add", email="not-an-email", firstName="Zoe")
    added = post(browser, customer.id, page, do="contact-add", email="zoe@buyer.example", firstName="Zoe")

    assert refused.status_code == 422 and "email" in text_of(refused)
    assert added.status_code == 200 and "zoe@buyer.example" in added.text


def test_a_contact_of_another_customer_is_not_found_here(demo):
    browser, _ = browser_of(demo, "admin")
    everyone = customers.matching_customers(admin(demo), CustomerFilter())
    here, elsewhere = everyone[0], everyone[1]
    foreign = contact_store.contacts_of(admin(demo).organization_id, elsewhere.id)[0]
    page = browser.get(f"/customers/{here.id}")

    assert post(browser, here.id, page, do="contact-delete", contact=foreign["id"]).status_code == 404


def test_the_portal_link_is_copied_and_opens_and_the_preview_says_so(demo):
    browser, _ = browser_of(demo, "admin")
    customer = owing_most(demo)
    page = browser.get(f"/customers/{customer.id}")

    fragment = browser.post(
        f"/customers/{customer.id}",
        {"csrf": browser.csrf(page), "do": "portal-link"},
        headers={"HX-Request": "true", "HX-Target": "portal-link"},
    )
    url = BeautifulSoup(fragment.text, "html.parser").select_one("#portal-url")["value"]
    preview = post(browser, customer.id, page, do="portal-preview")

    assert "<html" not in fragment.text and url.startswith(f"{demo.base_url}/portal/pt_")
    assert requests.get(url, timeout=30).status_code == 200
    assert "/portal/pt_" in preview.url and preview.status_code == 200


def test_workflow_payment_methods_and_custom_fields_are_edited_by_an_admin(demo):
    browser, _ = browser_of(demo, "admin")
    custom_fields.save_definition(
        admin(demo),
        CustomFieldDefinition(key="region", label="Region", type=FieldType.SELECT, options=["North", "South"]),
    )
    customer = owing_most(demo)
    page = browser.get(f"/customers/{customer.id}")

    post(browser, customer.id, page, do="assign", dunningPlanId="", accountManagerIds=[])
    post(browser, customer.id, page, do="methods", method=["bank_transfer", "sepa_debit"])
    after = post(browser, customer.id, page, **{"do": "fields", "cf.region": "South"})

    changed = customers.get_customer(admin(demo), customer.id)
    assert changed.dunning_plan_id is None and changed.account_manager_ids == []
    assert changed.payment_methods.model_dump() == {
        "card": False,
        "bank_transfer": True,
        "ach_debit": False,
        "sepa_debit": True,
    }
    assert changed.custom_fields == {"region": "South"}
    assert "No workflow" in after.text


def test_a_call_is_added_for_an_account_manager_who_finds_it_in_their_to_do(demo):
    browser, _ = browser_of(demo, "admin")
    manager_browser, manager = browser_of(demo, "account_manager")
    manager_id = next(u.id for u in users.list_users(admin(demo)) if u.email == manager["email"])
    customer = next(
        c for c in customers.matching_customers(admin(demo), CustomerFilter()) if manager_id in c.account_manager_ids
    )
    page = browser.get(f"/customers/{customer.id}")
    offered = [o["value"] for o in BeautifulSoup(page.text, "html.parser").select("#todo-owner option")]

    added = post(browser, customer.id, page, do="to-do", type="call", note="Ask for the remittance", owner=manager_id)
    an_email = post(browser, customer.id, page, do="to-do", type="email", owner=manager_id)
    to_do = manager_browser.get("/actions")

    assert manager_id in offered
    assert added.status_code == 200 and "Ask for the remittance" in text_of(added)
    assert an_email.status_code == 422 and "task or call" in text_of(an_email)
    row = next(
        r for r in BeautifulSoup(to_do.text, "html.parser").select("#results tbody tr") if "remittance" in r.text
    )
    assert customer.name in row.text and "Call" in row.text


def test_a_note_is_written_about_a_pending_action(demo):
    browser, _ = browser_of(demo, "admin")
    org_id = admin(demo).organization_id
    customer, planned = next(
        (c, a)
        for c in customers.matching_customers(admin(demo), CustomerFilter())
        for a in action_store.actions_of(org_id, c.id)
        if a["status"] == "planned"
    )
    page = browser.get(f"/customers/{customer.id}")
    form = BeautifulSoup(page.text, "html.parser").find("input", {"name": "actionId", "value": planned["id"]})

    written = post(browser, customer.id, page, do="note", actionId=planned["id"], body="Hold it until Friday's call")

    assert form is not None and written.status_code == 200
    assert "Hold it until Friday's call" in text_of(written)
    entries, _ = timeline_page(org_id, f"CUS#{customer.id}", limit=10)
    note = next(n for n in entries if n.get("body") == "Hold it until Friday's call")
    assert note["actionId"] == planned["id"]


def test_an_email_written_for_the_customer_is_previewed_then_sent_once(demo):
    browser, _ = browser_of(demo, "admin")
    customer = owing_most(demo)
    contact = next(c for c in contacts.list_contacts(admin(demo), customer.id) if c.id == customer.main_contact_id)
    subject, text = "About your account, {{ customer.name }}", "Dear {{ customer.name }},\\nplease call us back."
    page = browser.get(f"/customers/{customer.id}")

    broken = post(browser, customer.id, page, do="write-preview", subject=subject, text="{{ customer.name")
    shown = post(browser, customer.id, page, do="write-preview", subject=subject, text=text)
    sent = post(browser, customer.id, page, do="write", subject=subject, text=text)

    assert broken.status_code == 422
    assert BeautifulSoup(broken.text, "html.parser").select_one("#write-text.is-invalid")
    preview = BeautifulSoup(shown.text, "html.parser").select_one("#write-preview").get_text()
    assert f"About your account, {customer.name}" in preview and f"Dear {customer.name}," in preview
    assert sent.status_code == 200
    mails = [m for m in outbox_of(demo) if m["subject"] == f"About your account, {customer.name}"]
    assert len(mails) == 1 and contact.email in mails[0]["to"] and "please call us back." in mails[0]["text"]
    assert f"Dear {customer.name}," in mails[0]["html"]
