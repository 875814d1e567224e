"""Notifications through the local runtime: the bell's unread count (an htmx fragment), the list,
marked read, each opening what it is about."""

from __future__ import annotations

from bs4 import BeautifulSoup

from relance.domain.organizations import Principal
from relance.services import customers, notes, notifications, users
from relance.services.customers import CustomerFilter
from relance.services.notes import NoteFields
from tests.integration.web import Browser, text_of


def test_a_mention_rings_the_bell_opens_its_customer_and_is_read(demo):
    org = demo.session["organization"]["id"]
    boss = Principal(organization_id=org, role="admin", principal_id="test")
    person = next(u for u in demo.session["users"] if u["role"] == "account_manager")
    manager_id = next(u.id for u in users.list_users(boss) if u.email == person["email"])
    me = Principal(organization_id=org, role="account_manager", principal_id=manager_id, user_id=manager_id)
    customer = next(
        c for c in customers.matching_customers(boss, CustomerFilter()) if manager_id in c.account_manager_ids
    )
    admin_user = next(u for u in users.list_users(boss) if u.role == "admin")
    author = Principal(organization_id=org, role="admin", principal_id=admin_user.id, user_id=admin_user.id)
    notes.create(author, customer.id, NoteFields(body=f"@{manager_id} can you call them about the web bell?"))
    unread = notifications.list_notifications(me)["unread"]
    browser = Browser(demo.base_url)
    browser.sign_in(person["email"], person["password"])

    bell = browser.get("/notifications?part=bell", headers={"HX-Request": "true"})
    page = browser.get("/notifications")
    item = next(li for li in BeautifulSoup(page.text, "html.parser").select("li[id^=n-]") if "web bell" in li.text)
    opened = browser.post(
        "/notifications", {"csrf": browser.csrf(page), "notification": item["id"][2:], "do": "open"}, follow=False
    )

    assert unread >= 1 and bell.status_code == 200 and "<html" not in bell.text
    assert f"{unread}" in text_of(bell) and "unread" in text_of(bell)
    assert "New" in item.text and item.find("button", value="read")
    assert opened.status_code == 303 and opened.headers["Location"].startswith(f"/customers/{customer.id}#tl-")
    assert notifications.list_notifications(me)["unread"] == unread - 1
    again = browser.get("/notifications")
    shown = next(li for li in BeautifulSoup(again.text, "html.parser").select("li[id^=n-]") if "web bell" in li.text)
    assert shown.find("button", value="read") is None
    customer_page = browser.get("/customers")
    assert BeautifulSoup(customer_page.text, "html.parser").select_one("a[href='/notifications'] #bell-count")
