"""The analytics page through the local runtime: the figures of the API's service, per currency, an
account manager's for their customers only, filters in the URL."""

from __future__ import annotations

from bs4 import BeautifulSoup

from relance.domain.organizations import Principal
from relance.services import analytics, users
from relance.services.analytics import AnalyticsFilter
from tests.integration.test_web_customers import admin_principal, signed_in
from tests.integration.web import text_of


def test_the_page_shows_the_services_figures_and_an_account_manager_their_own(demo):
    admin, _ = signed_in(demo, "admin")
    manager, person = signed_in(demo, "account_manager")
    me = next(u for u in users.list_users(admin_principal(demo)) if u.email == person["email"])
    theirs = Principal(organization_id=me_org(demo), role="account_manager", principal_id=me.id, user_id=me.id)
    everyone = analytics.summary(admin_principal(demo), AnalyticsFilter())
    mine = analytics.summary(theirs, AnalyticsFilter())

    shown, own = admin.get("/analytics"), manager.get("/analytics")

    assert shown.status_code == own.status_code == 200
    for row in everyone.items:
        assert row.currency in text_of(shown)
    page = BeautifulSoup(own.text, "html.parser")
    cards = {label.get_text(strip=True) for label in page.select(".stat-label")}
    assert {f"Outstanding, {row.currency}" for row in mine.items} == cards
    assert "for your customers" in text_of(own) and page.select_one("#filter-manager") is None


def test_filters_live_in_the_url_and_a_bad_one_is_named(demo):
    admin, _ = signed_in(demo, "admin")
    currency = analytics.summary(admin_principal(demo), AnalyticsFilter()).items[0].currency

    one = admin.get(f"/analytics?currency={currency}")
    bad = admin.get("/analytics?currency=euro")

    assert one.status_code == 200
    chosen = BeautifulSoup(one.text, "html.parser").select_one("#filter-currency option[selected]")
    assert chosen["value"] == currency
    assert {c.get_text(strip=True) for c in BeautifulSoup(one.text, "html.parser").select(".stat-label")} == {
        f"Outstanding, {currency}"
    }
    assert bad.status_code == 422 and "currency" in bad.text


def me_org(demo) -> str:
    return demo.session["organization"]["id"]
