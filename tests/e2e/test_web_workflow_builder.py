"""The workflow builder in headless Chromium, through `python -m local serve` and its demo: an admin
builds a three-step workflow with the organization's own template, previews it and saves it; the
editor passes axe-core with no serious or critical violation."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.test_web_app import app, check, chromium, new_context, person, session, sign_in  # noqa: F401

pytestmark = pytest.mark.e2e


def test_an_admin_builds_previews_and_saves_a_three_step_workflow(app, session, chromium):  # noqa: F811
    api = requests.Session()
    api.headers["X-Api-Key"] = session["apiKey"]
    template = api.post(
        f"{app.base_url}/v1/templates",
        json={
            "name": "Friendly nudge",
            "language": "en",
            "tone": "informal",
            "subject": "A friendly nudge",
            "text": "Hello, a friendly nudge about your invoices.",
            "html": "<p>Hello, a friendly nudge about your invoices.</p>",
        },
    )
    assert template.status_code == 201, template.text
    context = new_context(chromium, app)
    page = sign_in(context, person(session, "admin"), "/workflows")
    page.get_by_role("link", name="New workflow").click()
    expect(page.get_by_role("heading", name="New workflow")).to_be_visible()
    steps = page.locator("fieldset.step-row")

    page.get_by_label("Name").fill("Three gentle steps")
    step = steps.nth(0)
    step.get_by_label("Days").fill("3")
    step.get_by_label("Before or after").select_option("before")
    page.get_by_role("button", name="Add a step").click()
    expect(steps).to_have_count(2)
    step = steps.nth(1)
    step.get_by_label("Days").fill("2")
    step.get_by_label("Template").select_option(template.json()["id"])
    page.get_by_role("button", name="Add a step").click()
    expect(steps).to_have_count(3)
    step = steps.nth(2)
    step.get_by_label("Days").fill("12")
    step.get_by_label("Action").select_option("call")
    page.get_by_role("button", name="Preview", exact=True).click()

    rows = page.locator("#preview tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.locator("time")).to_have_count(3)
    expect(steps.nth(1).get_by_label("Template")).to_have_value(template.json()["id"])
    page.locator("#preview").scroll_into_view_if_needed()
    check(page, "workflow-editor", docs=True)

    page.get_by_role("button", name="Save workflow").click()
    expect(page).to_have_url(re.compile(r"/workflows#workflow-wf"))
    saved = page.locator("section.card", has=page.get_by_role("heading", name="Three gentle steps"))
    expect(saved.locator("tbody tr")).to_have_count(3)
    expect(saved).to_contain_text("Friendly nudge")
    check(page, "workflows-after-builder")
    context.close()
