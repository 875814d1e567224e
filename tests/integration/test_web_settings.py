"""Settings through the local runtime (admins): the sender and its verification, the form saved or
refused with the field at fault; account managers get a 403."""

from __future__ import annotations

from babel.numbers import get_currency_precision
from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance.services import organization_admin, organizations
from relance.services.organization_admin import OrganizationName
from tests.integration.web import Browser, text_of
from tests.integration.web import admin as admin_of


def browser_of(demo: LocalRuntime, role: str) -> Browser:
    person = next(u for u in demo.session["users"] if u["role"] == role)
    browser = Browser(demo.base_url)
    browser.sign_in(person["email"], person["password"])
    return browser


def form_of(page) -> dict[str, list[str]]:
    """The settings form's fields as the browser would send them."""
    soup = BeautifulSoup(page.text, "html.parser").select_one("form[aria-labelledby=settings-title]")
    fields: dict[str, list[str]] = {}
    for control in soup.select("input, textarea, select"):
        name = control.get("name")
        if not name or (control.get("type") in ("checkbox", "radio") and not control.has_attr("checked")):
            continue
        if control.name == "select":
            chosen = control.select_one("option[selected]") or control.select_one("option")
            value = chosen.get("value", "") if chosen else ""
        else:
            value = control.text if control.name == "textarea" else control.get("value", "")
        fields.setdefault(name, []).append(value)
    return fields


def test_settings_are_saved_refused_with_the_field_and_a_new_sender_is_verified(demo):
    admin = browser_of(demo, "admin")
    org = demo.session["organization"]["id"]
    page = admin.get("/settings")

    assert page.status_code == 200 and "Verified" in text_of(page)
    refused = admin.post("/settings", {**form_of(page), "sendTime": "25:00", "do": "save"})
    assert refused.status_code == 422 and "sendTime" in refused.text
    assert BeautifulSoup(refused.text, "html.parser").select_one("#f-sendTime.is-invalid")
    saved = admin.post("/settings", {**form_of(page), "sendTime": "09:15", "do": "save"})
    assert saved.status_code == 200 and organizations.get_organization(org).settings.send_time == "09:15"

    moved = admin.post("/settings", {**form_of(saved), "senderEmail": "billing@new-sender.example", "do": "save"})
    assert moved.status_code == 200 and "billing@new-sender.example" in text_of(moved)
    assert "Verified" not in BeautifulSoup(moved.text, "html.parser").select_one("#sender").text
    assert BeautifulSoup(moved.text, "html.parser").find("button", value="send-verification")
    too_soon = admin.post("/settings", {"csrf": admin.csrf(moved), "do": "send-verification"})
    assert too_soon.status_code == 429 and "less than a minute ago" in text_of(too_soon)


def test_an_account_manager_has_no_settings(demo):
    manager = browser_of(demo, "account_manager")

    assert manager.get("/settings").status_code == 403
    assert BeautifulSoup(manager.get("/customers").text, "html.parser").find("a", href="/settings") is None


def test_holidays_the_card_limit_and_the_portal_settings_are_saved_in_the_forms_units(demo):
    admin = browser_of(demo, "admin")
    org = demo.session["organization"]["id"]
    before = organizations.get_organization(org).settings
    digits = int(get_currency_precision(before.default_currency))
    page = admin.get("/settings")
    try:
        bad_day = admin.post("/settings", {**form_of(page), "holidays": "2026-12-25\n2026-13-01", "do": "save"})
        bad_limit = admin.post("/settings", {**form_of(page), "cardPaymentLimit": "a lot", "do": "save"})
        untouched = organizations.get_organization(org).settings
        changed = {
            "holidays": "2026-12-25\n\n2027-01-01",
            "cardPaymentLimit": "2,500",
            "ratingBasis": "overdue_aware",
            "bankTransferCountry": "DE",
            "paymentInFlightDays": "21",
            "logoUrl": "https://cdn.example.com/logo.png",
        }
        saved = admin.post("/settings", {**form_of(page), **changed, "do": "save"})
        after = organizations.get_organization(org).settings
        shown = BeautifulSoup(saved.text, "html.parser")
        no_limit = admin.post("/settings", {**form_of(saved), "cardPaymentLimit": "", "do": "save"})
        cleared = organizations.get_organization(org).settings.card_payment_limit
    finally:
        organization_admin.update_settings(admin_of(demo), before)

    assert bad_day.status_code == 422
    assert "line 2" in BeautifulSoup(bad_day.text, "html.parser").select_one("#f-holidays-error").get_text()
    assert bad_limit.status_code == 422
    assert BeautifulSoup(bad_limit.text, "html.parser").select_one("#f-cardPaymentLimit.is-invalid")
    assert untouched == before  # refused: nothing written
    assert [str(d) for d in after.holidays] == ["2026-12-25", "2027-01-01"]
    assert after.card_payment_limit == 2500 * 10**digits
    assert (after.rating_basis.value, after.bank_transfer_country, after.payment_in_flight_days) == (
        "overdue_aware",
        "DE",
        21,
    )
    assert after.logo_url == "https://cdn.example.com/logo.png"
    assert shown.select_one("#f-cardPaymentLimit")["value"] == "2500"
    assert shown.select_one("#f-holidays").get_text() == "2026-12-25\n2027-01-01"
    assert no_limit.status_code == 200 and cleared is None


def test_the_organization_is_renamed_and_an_empty_name_is_refused(demo):
    admin = browser_of(demo, "admin")
    org = demo.session["organization"]["id"]
    before = organizations.get_organization(org).name
    page = admin.get("/settings")
    try:
        empty = admin.post("/settings", {"csrf": admin.csrf(page), "do": "rename", "name": "  "})
        renamed = admin.post(
            "/settings", {"csrf": admin.csrf(page), "do": "rename", "name": "Demo Holdings"}, follow=False
        )
        after = organizations.get_organization(org).name
    finally:
        organization_admin.rename_organization(admin_of(demo), OrganizationName(name=before))

    assert empty.status_code == 422
    assert BeautifulSoup(empty.text, "html.parser").select_one("#f-orgName.is-invalid")
    assert renamed.status_code == 303 and after == "Demo Holdings"
