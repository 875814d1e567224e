"""The analytics page's Team and Emails-not-delivered sections through the local runtime: asked for once
the page is shown, the service's figures per account manager with a link to their customers, an account
manager's own row only, and the contacts to fix, each linking to its customer."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup

from relance import clock
from relance.domain.organizations import Principal
from relance.services import actions, team_activity, users
from relance.services.analytics import AnalyticsFilter
from relance.storage import actions as action_store
from relance.storage import customers as customer_store
from tests.integration.test_web_customers import admin_principal, signed_in
from tests.integration.web import text_of


def people(demo) -> dict[str, str]:
    """Account managers' names → their user ids."""
    return {u.name: u.id for u in users.list_users(admin_principal(demo)) if u.role == "account_manager"}


def as_manager(demo, user_id: str) -> Principal:
    org = demo.session["organization"]["id"]
    return Principal(organization_id=org, role="account_manager", principal_id=f"user:{user_id}", user_id=user_id)


def team_rows(response) -> dict[str, dict[str, str]]:
    """The Team table: a person's name → the link of their name and their cells by column header."""
    table = BeautifulSoup(response.text, "html.parser").select_one("#team table")
    headers = [th.get_text(strip=True) for th in table.select("thead th")]
    rows = {}
    for tr in table.select("tbody tr"):
        link = tr.select_one("th a")
        cells = [c.get_text(" ", strip=True) for c in tr.select("td")]
        rows[link.get_text(strip=True)] = {"link": link["href"], **dict(zip(headers[1:], cells, strict=True))}
    return rows


def test_the_page_asks_for_the_sections_with_its_filters_once_shown(demo):
    admin, _ = signed_in(demo, "admin")

    page = admin.get("/analytics?currency=EUR")

    placeholder = BeautifulSoup(page.text, "html.parser").select_one("#activity")
    assert page.status_code == 200 and placeholder["hx-trigger"] == "load"
    assert placeholder["hx-get"] == "/analytics/activity?currency=EUR"


def test_the_team_table_is_the_services_figures_each_name_linking_to_their_customers(demo):
    admin, _ = signed_in(demo, "admin")
    managers = people(demo)
    lines = team_activity.team(admin_principal(demo), AnalyticsFilter(), None, None).by_person()

    shown = admin.get("/analytics/activity", headers={"HX-Request": "true"})

    rows = team_rows(shown)
    assert shown.status_code == 200 and "Team" in text_of(shown)
    assert {name: rows[name]["link"] for name in managers} == {
        name: f"/customers?accountManagerId={user_id}" for name, user_id in managers.items()
    }
    assert rows["Nobody assigned"]["link"] == "/customers?accountManagerId=none"
    for person in lines:
        row = rows[person[0].name]
        assert row["Done"] == str(person[0].manual_done) and row["Sent automatically"] == str(person[0].automatic_sent)
    name, user_id = next(iter(managers.items()))
    listed = admin.get(rows[name]["link"])
    chosen = BeautifulSoup(listed.text, "html.parser").select_one("#f-manager option[selected]")
    assert listed.status_code == 200 and chosen["value"] == user_id
    assert parse_qs(urlsplit(rows[name]["link"]).query) == {"accountManagerId": [user_id]}


def test_an_account_manager_sees_their_own_row_only(demo):
    manager, person = signed_in(demo, "account_manager")

    shown = manager.get("/analytics/activity", headers={"HX-Request": "true"})

    assert shown.status_code == 200 and list(team_rows(shown)) == [person["name"]]


def test_emails_not_delivered_lists_the_contacts_to_fix_each_linking_to_its_customer(demo):
    org = demo.session["organization"]["id"]
    marc, sofia = people(demo)["Marc Dubois"], people(demo)["Sofia Rossi"]
    customer = next(c for c in customer_store.list_customers(org) if c.get("accountManagerIds") == [marc])
    address = f"gone-{uuid.uuid4().hex[:8]}@example.com"
    now = clock.now().isoformat()
    action_store.create_if_absent(
        org,
        {
            **{"id": f"act_{uuid.uuid4().hex}", "customerId": customer["id"], "type": "email", "status": "sent"},
            **{"scheduledAt": now, "performedAt": now, "subject": "Your invoice is overdue", "invoiceIds": []},
            **{"deliveryStatus": "bounced", "recipientStatus": {address: "bounced"}},
        },
    )
    assert actions.not_delivered(as_manager(demo, sofia)) == []  # none of Sofia's customers' emails bounced
    admin, _ = signed_in(demo, "admin")
    theirs, _ = signed_in(demo, "account_manager", index=1)

    shown = admin.get("/analytics/activity", headers={"HX-Request": "true"})
    empty = theirs.get("/analytics/activity", headers={"HX-Request": "true"})

    items = BeautifulSoup(shown.text, "html.parser").select("#undelivered li")
    mine = next(li for li in items if address in li.get_text())
    assert mine.select_one("a")["href"] == f"/customers/{customer['id']}#contacts"
    assert customer["name"] in mine.get_text() and "bounced" in mine.get_text()
    assert admin.get(mine.select_one("a")["href"]).status_code == 200
    assert "no address to fix" in text_of(empty) and not BeautifulSoup(empty.text, "html.parser").select(
        "#undelivered li"
    )
