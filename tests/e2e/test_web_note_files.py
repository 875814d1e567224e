"""Files on notes in headless Chromium, through `python -m local serve`: an account manager writes a
note on one of their customers, mentions the admin, attaches a file (the page's script posts it
straight to the documents bucket) and pins it; the admin sees the mention in the notifications and
the pinned note on the customer's page, and downloads the file. Every page passes axe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.test_web_app import app, check, chromium, new_context, person, session, sign_in  # noqa: F401

pytestmark = pytest.mark.e2e

RECEIPT = b"Remittance: 1,200.00 paid on the 31st, reference ERP-1002.\n"


def test_a_pinned_note_with_a_file_mentions_the_admin_who_downloads_it(app, session, chromium):  # noqa: F811
    manager, admin = person(session, "account_manager"), person(session, "admin")
    writing = new_context(chromium, app)
    page = sign_in(writing, manager)
    page.locator("#results tbody a[href^='/customers/']").first.click()
    expect(page).to_have_url(re.compile(r"/customers/cus_"))
    customer_path = page.url.split("#", maxsplit=1)[0].removeprefix(app.base_url)

    note_field = page.get_by_label("Write a note")
    note_field.fill("Remittance advice received, see the file ")
    note_field.press_sequentially(f"@{admin['name'][:3]}")  # the people who see the customer are offered
    offered = page.get_by_role("listbox", name="People to mention")
    expect(offered).to_be_visible()
    expect(offered.get_by_role("option", name=admin["name"])).to_have_attribute("aria-selected", "true")
    check(page, "note-mention")
    note_field.press("Enter")
    expect(note_field).to_have_value(f"Remittance advice received, see the file @{admin['name']} ")
    page.get_by_label(re.compile(r"^Attach files")).set_input_files(
        {"name": "remittance.txt", "mimeType": "text/plain", "buffer": RECEIPT}
    )
    expect(page.locator("#note-files-status")).to_contain_text("1 file chosen")
    page.get_by_label("Pin this note").check()
    check(page, "note-with-a-file")
    page.get_by_role("button", name="Add note").click()

    note = page.locator("#timeline-list li.tl-note", has_text="Remittance advice received")
    expect(note.get_by_role("link", name="📎 remittance.txt")).to_be_visible()
    expect(note.get_by_label("Pinned")).to_be_visible()
    writing.close()

    reading = new_context(chromium, app)
    page = sign_in(reading, admin, "/notifications")
    expect(page.locator("main")).to_contain_text(f"{manager['name']} mentioned you")
    check(page, "notifications-mention")
    page.goto(customer_path)
    note = page.locator("#timeline-list li.tl-note.tl-pinned", has_text="Remittance advice received")
    expect(note).to_contain_text(f"@{admin['name']}")
    with page.expect_download() as downloading:
        note.get_by_role("link", name="📎 remittance.txt").click()
    download = downloading.value
    assert download.suggested_filename == "remittance.txt"
    assert Path(download.path()).read_bytes() == RECEIPT
    check(page, "pinned-note-with-a-file")
    reading.close()
