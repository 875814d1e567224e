"""The customers list's columns, saved views, bulk changes and CSV through the local runtime."""

from __future__ import annotations

import csv
import io
import uuid
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance.services import customers, workflows
from relance.services.customers import CustomerFilter
from tests.integration.web import Browser, admin


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


def signed_in_as(demo: LocalRuntime, person: dict) -> Browser:
    browser = Browser(demo.base_url)
    browser.sign_in(person["email"], person["password"])
    return browser


def side_list(page) -> dict[str, list[str]]:
    """The views' side list: its groups' headings, and the views' names in each group."""
    soup = BeautifulSoup(page.text, "html.parser")
    listed = {
        group: [a.span.get_text(strip=True) for a in soup.select(f'#views a[data-group="{group}"]')]
        for group in ("mine", "shared")
    }
    return {"headings": [h.get_text(strip=True) for h in soup.select('#views [role="heading"]')], **listed}


def save_view(browser: Browser, name: str, **extra: str):
    page = browser.get("/customers")
    fields = {"csrf": browser.csrf(page), "do": "save-view", "name": name, "query": "sort=-overdue", **extra}
    return browser.post("/customers", fields)


def test_the_side_list_shows_my_views_and_the_shared_ones_and_only_admins_share(demo):
    ann, bob = (signed_in_as(demo, u) for u in demo.session["users"] if u["role"] == "account_manager")
    boss = browser_of(demo, "admin")
    tag = uuid.uuid4().hex[:6]
    anns, team, bosss = f"Ann's {tag}", f"Team {tag}", f"Boss's {tag}"
    sharing = BeautifulSoup(boss.get("/customers").text, "html.parser").select_one("#save-view-menu")
    assert sharing.select_one("label[for=view-shared]").get_text(strip=True) == "Share with the team"
    assert BeautifulSoup(ann.get("/customers").text, "html.parser").select_one("#view-shared") is None

    saved = [save_view(ann, anns), save_view(boss, team, shared="on"), save_view(boss, bosss)]
    forged = save_view(bob, f"Forged {tag}", shared="on")

    assert [urlsplit(s.url).query[:8] for s in saved] == ["view=vw_"] * 3
    assert forged.status_code == 403
    lists = {name: side_list(b.get("/customers")) for name, b in (("ann", ann), ("bob", bob), ("boss", boss))}
    assert lists["ann"]["headings"] == ["My views", "Shared views"]
    assert anns in lists["ann"]["mine"] and team in lists["ann"]["shared"] and team not in lists["ann"]["mine"]
    assert team in lists["bob"]["shared"] and team in lists["boss"]["mine"] and bosss in lists["boss"]["mine"]
    everything = {name: set(found["mine"] + found["shared"]) for name, found in lists.items()}
    assert anns not in everything["bob"] | everything["boss"] and bosss not in everything["ann"] | everything["bob"]
    assert not any(f"Forged {tag}" in names for names in everything.values())
    anns_id = parse_qs(urlsplit(saved[0].url).query)["view"][0]
    assert anns not in bob.get(f"/customers?view={anns_id}").text  # someone else's private view: as if absent
    team_page = saved[1].url
    assert BeautifulSoup(bob.get(team_page).text, "html.parser").select_one('button[value="delete-view"]') is None

    for browser, done in ((ann, saved[0]), (boss, saved[1]), (boss, saved[2])):
        page = browser.get(done.url)
        form = BeautifulSoup(page.text, "html.parser").select_one('button[value="delete-view"]').find_parent("form")
        fields = [(i["name"], i.get("value", "")) for i in form.select("input")] + [("do", "delete-view")]
        assert browser.post("/customers", fields).status_code == 200
    assert not {anns, team, bosss} & set(side_list(boss.get("/customers"))["mine"])


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
    assert "1 created" in soup.select_one("main [role=status]").get_text(" ", strip=True)
    cells = [[td.get_text(" ", strip=True) for td in tr.select("td")] for tr in soup.select("tbody tr")]
    refused = next(c for c in cells if c[1] == "Refused")
    assert (refused[0] == "3" and "Currency" in refused[3]) or "currency" in refused[3].lower()
