"""The analytics snapshots on the demo organization: the nightly run keeps each scope's figures, the
dashboard reads them in one request, "as of" reads that day's, a refresh computes again; each table
downloads as the CSV of what the page shows, and an aging bar opens the customers behind it.

The clock of the demo runtime is held still, so "today" is the runtime's, on any day.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from relance import clock
from relance.domain.customers import aging
from relance.domain.ledger import InvoiceFields
from relance.domain.organizations import Principal
from relance.services import analytics
from relance.services.analytics import AnalyticsFilter, DashboardReport
from relance.services.ledger import create_invoice
from relance.storage import customers as customer_store
from tests.integration.round_trips import dynamodb_made
from tests.integration.test_web_customers import admin_principal, rows, signed_in
from tests.integration.web import text_of

FIGURES = ("summary", "aging", "dso", "collected", "forecast", "ratings", "at_risk")


def org_of(demo) -> str:
    return str(demo.session["organization"]["id"])


def figures(report: DashboardReport) -> dict:
    return report.model_dump(include=set(FIGURES))


def manager_principal(demo, user_id: str) -> Principal:
    return Principal(organization_id=org_of(demo), role="account_manager", principal_id=user_id, user_id=user_id)


@pytest.fixture(scope="module")
def snapshots(demo) -> int:
    """The nightly's snapshots of the demo organization, taken once for the module."""
    return analytics.take_snapshots(org_of(demo))


def test_without_a_snapshot_the_dashboard_is_computed_from_the_ledger(demo, snapshots):
    newcomer = manager_principal(demo, "usr_without_customers")  # no snapshot of theirs: none to keep

    shown = analytics.dashboard(newcomer, AnalyticsFilter())

    assert not shown.from_snapshot and shown.forecast is not None and shown.summary.items == []


def test_the_nightly_keeps_the_organizations_and_each_managers_figures(demo, snapshots):
    org = org_of(demo)
    managers = {m for c in customer_store.list_customers(org) for m in c.get("accountManagerIds") or []}
    assert managers and snapshots == 1 + len(managers)

    kept = analytics.dashboard(admin_principal(demo), AnalyticsFilter())
    assert kept.from_snapshot
    assert figures(kept) == figures(analytics._figures(admin_principal(demo), AnalyticsFilter(), _books(demo), None))
    for user_id in managers:
        theirs = manager_principal(demo, user_id)
        own = analytics.dashboard(theirs, AnalyticsFilter())
        assert own.from_snapshot
        assert figures(own) == figures(
            analytics._figures(theirs, AnalyticsFilter(), analytics.books(theirs, AnalyticsFilter()), None)
        )


def _books(demo) -> analytics.Books:
    return analytics.books(admin_principal(demo), AnalyticsFilter())


def test_the_dashboard_page_reads_its_snapshot_in_one_request(demo, snapshots):
    admin, _ = signed_in(demo, "admin")
    admin.get("/customers")  # the session renewed: what follows is the page alone

    with dynamodb_made() as made:
        page = admin.get("/analytics")

    assert page.status_code == 200 and "and kept (each night" in text_of(page)
    assert made.requests <= 3 and made.round_trips == 1, made.operations  # the snapshot with the directory


def test_filters_compute_from_the_books_and_a_manager_reads_their_own(demo, snapshots):
    admin, _ = signed_in(demo, "admin")
    manager, _ = signed_in(demo, "account_manager")
    currency = analytics.dashboard(admin_principal(demo), AnalyticsFilter()).summary.items[0].currency

    filtered = admin.get(f"/analytics?currency={currency}")
    own = manager.get("/analytics")

    assert "computed from the ledger just now" in text_of(filtered)
    assert "and kept (each night" in text_of(own) and "for your customers" in text_of(own)


def test_as_of_a_day_reads_that_days_snapshot_or_else_the_history(demo, snapshots):
    admin, _ = signed_in(demo, "admin")
    today = analytics.books(admin_principal(demo), AnalyticsFilter()).today
    earlier = today - timedelta(days=40)

    kept = admin.get(f"/analytics?asOf={today.isoformat()}")
    past = admin.get(f"/analytics?asOf={earlier.isoformat()}")
    later = admin.get(f"/analytics?asOf={(today + timedelta(days=1)).isoformat()}")
    bad = admin.get("/analytics?asOf=yesterday")

    assert "and kept (each night" in text_of(kept)
    assert "computed from the ledger just now" in text_of(past) and "No forecast was kept" in text_of(past)
    history = analytics.aging(admin_principal(demo), AnalyticsFilter(), earlier)
    assert analytics.dashboard(admin_principal(demo), AnalyticsFilter(), earlier).aging == history
    assert later.status_code == 422 and "asOf" in later.text
    assert bad.status_code == 422 and "asOf" in bad.text


def test_a_refresh_computes_again_and_keeps_it(demo, snapshots):
    admin, _ = signed_in(demo, "admin")
    principal = admin_principal(demo)
    before = analytics.dashboard(principal, AnalyticsFilter())
    customer = customer_store.list_customers(org_of(demo))[0]
    today = clock.now().date()
    create_invoice(
        principal,
        InvoiceFields(
            customer_id=customer["id"],
            number="SNAP-1",
            currency=customer["currency"],
            amount=123_45,
            issued_at=today,
            due_at=today + timedelta(days=30),
        ),
    )
    assert analytics.dashboard(principal, AnalyticsFilter()) == before  # the snapshot stands until a refresh

    page = admin.get("/analytics")
    refreshed = admin.post("/analytics/refresh", {"csrf": admin.csrf(page)})
    refused = admin.post("/analytics/refresh", {"csrf": "forged"})

    assert refreshed.status_code == 200 and urlsplit(refreshed.url).path == "/analytics"
    after = analytics.dashboard(principal, AnalyticsFilter())
    assert after.from_snapshot and after.computed_at >= before.computed_at
    due = {r.currency: r.due for r in after.summary.items}
    assert (
        due[customer["currency"]]
        == {r.currency: r.due for r in before.summary.items}.get(customer["currency"], 0) + 123_45
    )
    assert refused.status_code == 403


@pytest.mark.parametrize("report", ["summary", "aging", "dso", "collected", "forecast", "ratings", "at_risk"])
def test_each_table_downloads_as_the_csv_of_what_the_page_shows(demo, snapshots, report):
    admin, _ = signed_in(demo, "admin")
    page = BeautifulSoup(admin.get("/analytics").text, "html.parser")
    link = page.select_one(f'a[href^="/analytics/{report}.csv"]')
    assert link is not None

    answer = admin.get(link["href"])

    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    shown = getattr(analytics.dashboard(admin_principal(demo), AnalyticsFilter()), report)
    expected = shown.model_dump(mode="json", by_alias=True)["items"]
    assert rows == [{k: "" if v is None else str(v) for k, v in item.items()} for item in expected]


def test_an_unknown_table_is_not_found(demo):
    admin, _ = signed_in(demo, "admin")
    assert admin.get("/analytics/secrets.csv").status_code == 404


def test_an_aging_bar_opens_the_customers_owing_an_invoice_in_it(demo, snapshots):
    admin, _ = signed_in(demo, "admin")
    page = BeautifulSoup(admin.get("/analytics").text, "html.parser")
    links = page.select('#aging a[href^="/customers?"]')
    assert links
    today = clock.now().date()
    for link in links:
        asked = parse_qs(urlsplit(link["href"]).query)
        bucket, currency = asked["aging"][0], asked["currency"][0]
        expected = {
            c["name"]
            for c in customer_store.list_customers(org_of(demo))
            if any(
                i["currency"] == currency and int(i["outstanding"]) > 0 and aging(_day(i["dueAt"]), today) == bucket
                for i in (c.get("openItems") or {}).values()
            )
        }
        page = admin.get(link["href"])
        assert "Next page" not in page.text  # the demo fits one page
        assert set(rows(page)) == expected, link["href"]


def _day(value: str) -> date:
    return date.fromisoformat(value[:10])


def test_a_rating_bar_opens_the_customers_rated_so(demo, snapshots):
    admin, _ = signed_in(demo, "admin")
    page = BeautifulSoup(admin.get("/analytics").text, "html.parser")
    links = page.select('#ratings a[href^="/customers?"]')
    assert links
    for link in links:
        letter = parse_qs(urlsplit(link["href"]).query)["rating"][0]
        expected = {
            c["name"] for c in customer_store.list_customers(org_of(demo)) if (c.get("rating") or "none") == letter
        }
        assert set(rows(admin.get(link["href"]))) == expected, link["href"]
