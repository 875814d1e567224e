"""The organization's automatic actions switch, through the real state machine on simulated time
and through the web app: off, nothing automatic leaves (a step falling due is held, on the
timeline) while manual actions still go; back on, the held step goes once; every page says it is off."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance.services import organization_admin, organizations
from tests.integration.helpers import (
    actions_of,
    jump,
    jump_until,
    new_workflow,
    next_send_day,
    ok,
    organization_settings,
    outbox,
    start_customer,
    timeline,
)
from tests.integration.test_web_settings import browser_of, form_of
from tests.integration.web import Browser, admin, text_of

TOP_STATUS = "/notifications?part=bell"


def switch(runtime: LocalRuntime, on: bool) -> dict[str, Any]:
    """Automatic actions on or off through ``PUT /v1/organization/settings``, the other settings kept."""
    body = {**organization_settings(runtime), "automaticActions": on}
    return ok(runtime.api_session.put(f"{runtime.base_url}/v1/organization/settings", json=body))["settings"]


def held_events(runtime: LocalRuntime, customer_id: str) -> list[dict[str, Any]]:
    return [e for e in timeline(runtime, customer_id) if e.get("event") == "held"]


def test_switched_off_the_due_reminder_is_held_a_manual_email_goes_and_back_on_it_goes_once(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    steps = [{"id": "first", "offsetDays": 0, "action": "email"}, {"id": "later", "offsetDays": 60, "action": "email"}]
    new_workflow(fast, "Held once", steps)
    # Due on the organization's next send day: the first reminder is planned for that send moment, alone.
    customer_id, _ = start_customer(
        fast, "Held Ltd", "ap@held.example", workflow="Held once", due_at=next_send_day(fast)
    )
    fast.settle()
    [planned] = actions_of(fast, customer_id, "planned")
    try:
        assert switch(fast, False)["automaticActions"] is False

        [held] = jump_until(fast, lambda: held_events(fast, customer_id), what="the due reminder is held")
        jump(fast, timedelta(days=5))
        assert outbox(fast, "ap@held.example") == []  # nothing automatic left
        assert held["reason"] == "automatic actions are off" and held["stepId"] == "first"
        kept = next(a for a in actions_of(fast, customer_id) if a["id"] == planned["id"])
        assert kept["status"] == "replanned"  # not performed: still due

        manual = ok(api.post(f"{base}/actions", json={"customerId": customer_id, "type": "email"}), 201)
        assert manual["status"] == "sent" and len(outbox(fast, "ap@held.example")) == 1
    finally:
        switch(fast, True)

    reminders = jump_until(fast, lambda: outbox(fast, "ap@held.example")[1:], what="the held reminder goes")
    jump(fast, timedelta(days=5))
    assert outbox(fast, "ap@held.example")[1:] == reminders and len(reminders) == 1  # once, no flood
    sent = [a for a in actions_of(fast, customer_id, "sent") if not a.get("manual")]
    assert [(a["id"], a["stepId"]) for a in sent] == [(planned["id"], "first")]  # the same action, planned again
    after_manual = datetime.fromisoformat(sent[0]["performedAt"]) - datetime.fromisoformat(manual["performedAt"])
    assert after_manual >= timedelta(days=3)  # the minimum contact delay still applies


def banner(browser: Browser) -> BeautifulSoup:
    """What every page's status region shows, as htmx loads it with the bell once the page is there
    (and every minute after): swapped in out of band."""
    page = BeautifulSoup(browser.get("/customers").text, "html.parser")
    region, bell = page.select_one("#automatic-actions[role=status]"), page.select_one("#bell-count")
    assert region is not None and region.get_text(strip=True) == ""
    assert bell["hx-get"] == TOP_STATUS and bell["hx-trigger"] == "load"
    status = BeautifulSoup(browser.get(TOP_STATUS, headers={"HX-Request": "true"}).text, "html.parser")
    assert status.select_one("#bell-count")["hx-trigger"] == "every 60s"
    return status.select_one("#automatic-actions[hx-swap-oob=innerHTML]")


def test_an_admin_switches_automatic_actions_off_and_every_page_says_so_until_back_on(demo):
    admin_browser, manager = browser_of(demo, "admin"), browser_of(demo, "account_manager")
    org = demo.session["organization"]["id"]
    page = admin_browser.get("/settings")
    assert BeautifulSoup(page.text, "html.parser").select_one("#f-automaticActions[checked]")
    assert banner(admin_browser).get_text(strip=True) == ""

    no_token = {k: v for k, v in form_of(page).items() if k not in ("csrf", "automaticActions")}
    assert admin_browser.post("/settings", {**no_token, "do": "save"}).status_code == 403
    assert organizations.get_organization(org).settings.automatic_actions

    off = {k: v for k, v in form_of(page).items() if k != "automaticActions"}
    try:
        saved = admin_browser.post("/settings", {**off, "do": "save"}, follow=False)
        assert saved.status_code == 303 and saved.headers["Location"] == "/settings"
        assert not organizations.get_organization(org).settings.automatic_actions
        shown = admin_browser.get("/settings")
        assert not BeautifulSoup(shown.text, "html.parser").select_one("#f-automaticActions[checked]")

        for_admin, for_manager = banner(admin_browser), banner(manager)
        assert (
            "Automatic actions are off" in for_admin.get_text() and "manual actions still go" in for_manager.get_text()
        )
        assert for_admin.find("a", href="/settings#f-automaticActions")
        assert for_manager.find("a") is None  # only admins have the settings

        back_on = admin_browser.post("/settings", {**form_of(shown), "automaticActions": "yes", "do": "save"})
        assert back_on.status_code == 200 and "Settings of" in text_of(back_on)
        assert organizations.get_organization(org).settings.automatic_actions
        assert banner(manager).get_text(strip=True) == ""
    finally:
        on = organizations.get_organization(org).settings.model_copy(update={"automatic_actions": True})
        organization_admin.update_settings(admin(demo), on)
