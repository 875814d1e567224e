"""The email template editor in headless Chromium, through `python -m local serve` and its demo: an
admin opens the editor from the workflows, inserts a variable by clicking it, previews the draft for
a customer, saves it; the editor passes axe-core with no serious or critical violation."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.test_web_app import app, check, chromium, new_context, person, session, sign_in  # noqa: F401

pytestmark = pytest.mark.e2e


def test_an_admin_inserts_a_variable_previews_for_a_customer_and_saves(app, session, chromium):  # noqa: F811
    api = requests.Session()
    api.headers["X-Api-Key"] = session["apiKey"]
    customer = api.get(f"{app.base_url}/v1/customers", params={"sort": "name", "limit": 1}).json()["items"][0]
    context = new_context(chromium, app)
    page = sign_in(context, person(session, "admin"), "/workflows")
    page.get_by_role("link", name="Email templates").click()
    page.get_by_role("link", name="New template").click()
    expect(page.get_by_role("heading", name="New template")).to_be_visible()
    body = page.get_by_label("Body", exact=True)

    page.get_by_label("Name").fill("Gentle nudge")
    page.get_by_label("Subject").fill("Your account with us")
    body.fill("Hello ")
    page.get_by_role("button", name="Insert {{ customer.name }}", exact=True).click()
    expect(body).to_have_value("Hello {{ customer.name }}")
    page.get_by_label("For the customer").select_option(customer["id"])

    preview = page.locator("#template-preview")
    expect(preview.locator("pre").first).to_have_text(f"Hello {customer['name']}")
    expect(preview).to_contain_text("Your account with us")
    check(page, "template-editor")

    page.get_by_role("button", name="Save template").click()
    expect(page).to_have_url(re.compile(r"/templates$"))
    saved = page.locator("tr", has=page.get_by_role("cell", name="Gentle nudge", exact=True))
    expect(saved).to_contain_text("English")
    check(page, "templates")
    context.close()
