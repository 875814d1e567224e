"""The AR team's web app in headless Chromium, through `python -m local serve` and its demo.

An account manager signs in and sees only their customers, filters, arranges columns and saves a
view that comes back on reload; an admin changes every filtered customer's workflow in bulk and
each customer page shows it, marks a bounced contact valid, copies a portal link and opens it,
imports a CSV; Google's stand-in signs in an existing person and refuses an unknown one. Every
page passes axe-core with no serious or critical violation; each screen is saved as a screenshot
under ``.local-artifacts/screenshots`` (and, with ``RELANCE_DOCS_SCREENSHOTS=1``, the documentation's
small copies under ``docs/screenshots``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.conftest import ROOT
from tests.e2e.test_serve import CHROMIUM_ARGS, Served, port_is_free, serve

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / ".local-artifacts" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
AXE = Axe()
expect.set_options(timeout=20_000)  # a busy CI machine: waits poll the page, they do not sleep
CSV = b"External ID,Name,Currency\nE2E-1,E2E Co,USD\nE2E-2,,XYZ\n"


@pytest.fixture(scope="module")
def app() -> Iterator[Served]:
    started = serve("--time-scale", "0")
    yield started
    code, output = started.stop()
    assert code == 0, output[-2000:]
    assert port_is_free(started.port)


@pytest.fixture(scope="module")
def session(app: Served) -> dict:
    return json.loads((ROOT / ".local" / "session.json").read_text())


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def person(session: dict, role: str) -> dict:
    return next(u for u in session["users"] if u["role"] == role)


def new_context(chromium: Browser, app: Served) -> BrowserContext:
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, base_url=app.base_url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app.base_url)
    return context


def sign_in(context: BrowserContext, who: dict, path: str = "/customers") -> Page:
    page = context.new_page()
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/dev/cognito/oauth2/authorize"))
    page.get_by_label("Email").fill(who["email"])
    page.get_by_label("Password").fill(who["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path.split("?", maxsplit=1)[0])))
    return page


def check(page: Page, name: str, docs: bool = False) -> None:
    """No serious or critical axe-core violation; a screenshot as a test artefact (and for the docs)."""
    results = AXE.run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, f"{name}: {serious}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    if docs and os.environ.get("RELANCE_DOCS_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=False)
        image = Image.open(shot).convert("RGB")
        image.thumbnail((1200, 1200))
        image.quantize(colors=96).save(DOCS / f"{name}.png", optimize=True)


def settled(page: Page) -> None:
    """Wait until no htmx request is in flight (htmx marks the element that asked with htmx-request)."""
    expect(page.locator(".htmx-request")).to_have_count(0)


def headers(page: Page) -> list[str]:
    cells = page.locator("#results thead th:not(.select-col)").all_text_contents()
    return [c.strip().rstrip(" ↑↓").strip() for c in cells]


def test_an_account_manager_filters_arranges_columns_and_saves_a_view(app, session, chromium):
    manager = person(session, "account_manager")
    context = new_context(chromium, app)
    page = sign_in(context, manager)
    rows = page.locator("#results tbody tr")
    assert 0 < rows.count() < 50
    for text in page.locator("#results tbody tr td:nth-child(9)").all_inner_texts():
        assert manager["name"] in text  # only their customers
    check(page, "customers-list", docs=True)

    page.locator("summary", has_text="More filters").click()
    page.get_by_label("Overdue from").fill("1000")
    page.locator("#f-rating-D").check()
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"overdueMin=1000"))
    expect(page).to_have_url(re.compile(r"rating=D"))
    for letter in page.locator("#results tbody .rating").all_inner_texts():
        assert letter == "D"

    settled(page)  # the filters' own requests (each change asks) answered: none re-renders the menu now
    page.locator("summary", has_text="Columns").click()
    page.locator("#col-externalId").uncheck()
    page.get_by_role("button", name="Move Overdue up").click()
    expect(page).to_have_url(re.compile(r"cols="))
    shown = headers(page)
    assert "External ID" not in shown and shown.index("Overdue") < shown.index("Outstanding")

    page.locator("summary", has_text="Save view").click()
    page.get_by_label("Save this list as a view").fill("My late D customers")
    page.get_by_role("button", name="Save view").click()
    expect(page).to_have_url(re.compile(r"view=vw_"))
    page.reload()
    assert headers(page) == shown
    assert page.get_by_label("Overdue from").input_value() == "1000"
    expect(page.locator("#views a.active")).to_contain_text("My late D customers")
    check(page, "customers-saved-view")

    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet: the page fits, wide tables scroll inside
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    check(page, "customers-tablet")
    context.close()


def test_an_admin_assigns_a_workflow_to_every_filtered_customer(app, session, chromium):
    context = new_context(chromium, app)
    page = sign_in(context, person(session, "admin"), "/customers?overdueMin=1000&rating=D&cols=name,workflow")
    ids = [
        urlsplit(h).path.rsplit("/", 1)[1]
        for h in page.locator("#results tbody a.fw-semibold").evaluate_all("l => l.map(a => a.href)")
    ]
    assert ids

    page.locator("summary", has_text="Change customers").click()
    page.locator("#scope-all").check()
    page.locator("#bulk-workflow").select_option(label="Standard")
    page.get_by_role("button", name="Assign…").click()
    expect(page.locator("h1")).to_have_text(f"Change {len(ids)} customer{'' if len(ids) == 1 else 's'}?")
    check(page, "bulk-confirmation", docs=True)
    page.get_by_role("button", name=re.compile(r"^Change \d+ customer")).click()
    expect(page.get_by_role("status").filter(has_text="updated")).to_contain_text(f"{len(ids)} customer")

    for customer_id in ids:
        page.goto(f"/customers/{customer_id}")
        assert page.locator("#workflow option:checked").inner_text() == "Standard"
    context.close()


def test_an_admin_marks_a_bounced_contact_valid_and_opens_the_portal_link(app, session, chromium):
    api = requests.Session()
    api.headers["X-Api-Key"] = session["apiKey"]
    bounced = api.get(f"{app.base_url}/v1/customers", params={"q": "ERP-1003"}).json()["items"][0]
    context = new_context(chromium, app)
    page = sign_in(context, person(session, "admin"), f"/customers/{bounced['id']}")
    expect(page.locator("#contacts")).to_contain_text("permanent bounce")
    check(page, "customer-page", docs=True)

    page.get_by_role("button", name=re.compile(r"^Mark as valid")).click()
    expect(page.locator("#contacts")).not_to_contain_text("permanent bounce")

    page.get_by_role("button", name="Copy portal link").click()
    link = page.locator("#portal-url")
    expect(link).to_have_value(re.compile(r"/portal/pt_"))
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == link.input_value()
    portal = context.new_page()
    portal.goto(link.input_value())
    expect(portal.locator("body")).to_contain_text("Demo Trading Ltd")

    page.goto("/customers/import")
    check(page, "import")
    page.locator("#import-file").set_input_files(
        files=[
            {
                "name": "customers.csv",
                "mimeType": "text/csv",
                "buffer": b"External ID,Name,Currency\nE2E-1,E2E Co,USD\nE2E-2,,XYZ\n",
            }
        ]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("main").get_by_role("status")).to_contain_text("1 created")
    check(page, "import-report", docs=True)

    page.goto("/customers/nobody-has-this-id")
    check(page, "not-found")
    page.goto("/customers")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/auth/signed-out"))
    check(page, "signed-out")
    context.close()


def test_google_signs_in_an_existing_person_and_refuses_an_unknown_one(app, session, chromium):
    manager = person(session, "account_manager")
    for email, lands in ((manager["email"], "/customers"), ("someone@unknown.example", "/auth/callback")):
        context = new_context(chromium, app)
        page = context.new_page()
        page.goto("/customers")
        page.get_by_role("button", name="Continue with Google").click()
        page.get_by_label("Google account").fill(email)
        page.get_by_role("button", name="Continue").click()
        expect(page).to_have_url(re.compile(re.escape(lands)))
        if lands == "/customers":
            expect(page.locator("header")).to_contain_text(manager["email"])
        else:
            expect(page.get_by_role("alert")).to_contain_text("No Relance user has the address someone@unknown.example")
            check(page, "google-refused")
        context.close()


def test_the_list_url_holds_the_state_and_the_back_button_restores_it(app, session, chromium):
    context = new_context(chromium, app)
    page = sign_in(context, person(session, "admin"))
    page.goto("/customers?rating=A")
    first = page.locator("#results tbody tr").count()
    page.locator("#results thead a", has_text="Outstanding").click()
    expect(page).to_have_url(re.compile(r"sort=outstanding"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"rating=A$"))
    expect(page.locator("#results tbody tr")).to_have_count(first)
    assert parse_qs(urlsplit(page.url).query) == {"rating": ["A"]}
    context.close()


def test_the_timeline_scrolls_a_note_is_written_and_an_invoice_disputed(app, session, chromium):
    api = requests.Session()
    api.headers["X-Api-Key"] = session["apiKey"]
    customer = api.get(f"{app.base_url}/v1/customers", params={"q": "ERP-1002"}).json()["items"][0]
    for n in range(30):
        api.post(f"{app.base_url}/v1/customers/{customer['id']}/notes", json={"body": f"E2E note {n:02d}"})
    context = new_context(chromium, app)
    page = sign_in(context, person(session, "admin"), f"/customers/{customer['id']}")
    timeline = page.locator("#timeline-list")
    expect(timeline.locator("li.tl-entry").first).to_contain_text("E2E note 29")
    before = timeline.locator("li.tl-entry").count()

    timeline.locator("li.tl-more").scroll_into_view_if_needed()  # the next page loads as it shows
    expect(timeline.locator("li.tl-entry", has_text="E2E note 00")).to_have_count(1)
    assert timeline.locator("li.tl-entry").count() > before

    page.get_by_label("Write a note").fill("Ask for the remittance advice")
    page.get_by_role("button", name="Add note").click()
    expect(timeline.locator("li.tl-entry").first).to_contain_text("Ask for the remittance advice")
    check(page, "customer-timeline", docs=True)

    page.get_by_role("button", name="Choose a template…").click()
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.locator("#remind-preview")).to_contain_text("Subject")
    check(page, "remind-now")

    page.locator("#invoices tbody a[href^='/invoices/']").first.click()
    expect(page).to_have_url(re.compile(r"/invoices/"))
    check(page, "invoice-page", docs=True)
    if page.locator("#dispute-reason").count():
        page.get_by_role("button", name="Raise a dispute").click()
        expect(page.locator("#invoice-status")).to_contain_text("Disputed")
        check(page, "invoice-disputed")
    page.get_by_role("link", name="Unmatched replies").click()
    expect(page.get_by_role("heading", name="Unmatched replies")).to_be_visible()
    check(page, "unmatched-replies", docs=True)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.locator("#sender")).to_contain_text("Verified")
    check(page, "settings", docs=True)
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Integrations").click()
    expect(page.get_by_role("heading", name="QuickBooks Online")).to_be_visible()
    check(page, "integrations", docs=True)
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Team and API keys").click()
    page.get_by_label("Name (what will use it)").fill("Accounting export")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_label("API key", exact=True)).not_to_have_value("")
    check(page, "team", docs=True)
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Exchange rates").click()
    expect(page.get_by_role("heading", name="Enter a rate")).to_be_visible()
    check(page, "exchange-rates")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Workflows").click()
    expect(page.get_by_role("heading", name="Workflows", exact=True)).to_be_visible()
    check(page, "workflows")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Cash forecast, next 13 weeks")).to_be_visible()
    check(page, "analytics", docs=True)
    context.close()


def test_the_collectors_queue_logs_a_call(app, session, chromium):
    api = requests.Session()
    api.headers["X-Api-Key"] = session["apiKey"]
    manager = person(session, "account_manager")
    context = new_context(chromium, app)
    page = sign_in(context, manager, "/customers")
    first = page.locator("#results tbody a[href^='/customers/']").first.get_attribute("href")
    listed = api.get(f"{app.base_url}/v1/users")
    assert listed.status_code == 200, (listed.status_code, listed.text[:300])
    owner = next(u["id"] for u in listed.json()["items"] if u["email"] == manager["email"])
    customer_id = (first or "").rsplit("/", 1)[-1]
    call = {"customerId": customer_id, "type": "call", "owner": owner, "note": "E2E call"}
    assert api.post(f"{app.base_url}/v1/actions", json=call).status_code == 201

    expect(page.locator("#bell-count")).to_contain_text("unread")  # loaded by htmx after the page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Actions", exact=True).click()
    row = page.locator("tbody tr", has_text="E2E call")
    expect(row).to_have_count(1)
    check(page, "actions-to-do", docs=True)
    row.get_by_role("textbox").fill("They pay on Friday")
    row.get_by_role("button", name="Log the call").click()
    expect(page.locator("tbody tr", has_text="E2E call")).to_have_count(0)

    page.get_by_role("link", name="All actions").click()
    page.get_by_label("Status").select_option("sent")
    expect(page).to_have_url(re.compile(r"status=sent"))
    check(page, "actions-all")

    page.get_by_role("link", name=re.compile("Notifications")).click()
    expect(page).to_have_url(re.compile(r"/notifications$"))
    check(page, "notifications", docs=True)
    context.close()


@pytest.mark.parametrize("role", ["admin", "account_manager"])
def test_the_dashboard_opens_the_customers_behind_a_bar_and_downloads_what_it_shows(app, session, chromium, role):
    context = new_context(chromium, app)
    page = sign_in(context, person(session, role), "/analytics")
    expect(page.get_by_role("heading", name="Aging")).to_be_visible()
    expect(page.locator("#team")).to_be_visible()  # the sections asked for once the page is shown
    page.get_by_text("How the forecasts of the last 13 weeks did").click()
    expect(page.get_by_role("region", name="Forecast accuracy")).to_be_visible()
    check(page, f"dashboard-{role}")

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV of the aging").click()
    lines = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    shown = [
        [cell.strip() for cell in row.locator("th, td").all_text_contents()]
        for row in page.locator("#aging tbody tr").all()
    ]
    labels = {
        "Not due yet": "notDue",
        "1–30 days": "days1To30",
        "31–60 days": "days31To60",
        "61–90 days": "days61To90",
        "Over 90 days": "over90",
    }
    currency, compared = None, 0
    for cells in shown:
        if len(cells) == 5:  # the first line of a currency names it
            currency = cells[0]
        label, _, share = cells[-4:-1]
        line = next(x for x in lines if x["currency"] == currency)
        assert share == f"{line[labels[label] + 'Percent']} %", (currency, cells)
        compared += 1
    assert compared == 5 * len(lines) and lines

    bar = page.locator("#aging tbody a").first
    bucket = parse_qs(urlsplit(bar.get_attribute("href")).query)["aging"][0]
    bar.click()
    expect(page).to_have_url(re.compile(r"/customers\?.*aging="))
    expect(page.get_by_label("Owes an invoice")).to_have_value(bucket)
    expect(page.locator("#results tbody tr").first).to_be_visible()
    check(page, f"customers-behind-a-bar-{role}")
    context.close()
