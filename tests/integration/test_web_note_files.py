"""Files on notes from the customer page, through the local runtime: declared by the page's script and
posted straight to the documents bucket, or sent through the form without JavaScript; the limits
(25 files, 15 MB together) refused on ``attachments`` before anything is written."""

from __future__ import annotations

import requests
from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance.aws import client
from relance.services import customers, inbound, notes, timeline
from relance.services.customers import CustomerFilter
from relance.settings import get_settings
from tests.integration.web import Browser, admin

PRESIGNED = {"X-Relance-Uploads": "presigned"}


def signed_in_admin(demo: LocalRuntime) -> Browser:
    person = next(u for u in demo.session["users"] if u["role"] == "admin")
    browser = Browser(demo.base_url)
    browser.sign_in(person["email"], person["password"])
    return browser


def a_customer(demo: LocalRuntime, index: int) -> str:
    return customers.matching_customers(admin(demo), CustomerFilter())[index].id


def declared(*files: tuple[str, str, int]) -> dict[str, list[str]]:
    return {
        "fileName": [name for name, _, _ in files],
        "fileType": [kind for _, kind, _ in files],
        "fileSize": [str(size) for _, _, size in files],
    }


def stored_files(demo: LocalRuntime) -> int:
    prefix = f"{demo.session['organization']['id']}/notes/"
    listed = client("s3").list_objects_v2(Bucket=get_settings().documents_bucket, Prefix=prefix)
    return int(listed.get("KeyCount", 0))


def note_links(page: requests.Response, words: str) -> dict[str, str]:
    soup = BeautifulSoup(page.text, "html.parser")
    entry = next(li for li in soup.select("li.tl-note") if words in li.get_text())
    return {a.get_text(strip=True).removeprefix("📎 "): a["href"] for a in entry.select("a[href]")}


def upload(demo: LocalRuntime, answer: dict, contents: list[bytes]) -> None:
    """What the page's script does with each presigned POST (from the app's origin)."""
    for presigned, data in zip(answer["uploads"], contents, strict=True):
        sent = requests.post(
            presigned["url"],
            data=presigned["fields"],
            files={"file": ("file", data)},
            headers={"Origin": demo.base_url},
            timeout=30,
        )
        assert sent.status_code in (200, 201, 204), sent.text
        assert sent.headers.get("Access-Control-Allow-Origin") in ("*", demo.base_url)  # the script reads it


def test_a_note_with_two_files_lands_on_the_timeline_with_download_links(demo):
    browser = signed_in_admin(demo)
    customer_id = a_customer(demo, 0)
    page = browser.get(f"/customers/{customer_id}")
    contents = [b"%PDF-1.4 the signed order", b"date,amount\n2026-01-31,1200\n"]
    fields = {"csrf": browser.csrf(page), "do": "note", "body": "Order and statement attached"}

    answer = browser.post(
        f"/customers/{customer_id}",
        {**fields, **declared(("order.pdf", "application/pdf", 25), ("statement.csv", "text/csv", 28))},
        headers=PRESIGNED,
    )
    upload(demo, answer.json(), contents)
    shown = browser.get(f"/customers/{customer_id}")

    assert answer.status_code == 200 and answer.json()["next"] == f"/customers/{customer_id}#timeline"
    assert demo.moto_url in page.headers["Content-Security-Policy"].split("connect-src")[1].split(";")[0]
    links = note_links(shown, "Order and statement attached")
    assert [requests.get(links[name], timeout=30).content for name in ("order.pdf", "statement.csv")] == contents
    note = next(n for n in notes.notes_of(admin(demo), customer_id) if n["body"] == "Order and statement attached")
    assert [a["name"] for a in note["attachments"]] == ["order.pdf", "statement.csv"]


def test_without_javascript_the_form_sends_the_files_itself(demo):
    browser = signed_in_admin(demo)
    customer_id = a_customer(demo, 1)
    page = browser.get(f"/customers/{customer_id}")

    sent = browser.post(
        f"/customers/{customer_id}",
        {"csrf": browser.csrf(page), "do": "note", "body": "Remittance advice, as sent", "pinned": "yes"},
        files=[("attachments", ("advice.txt", b"paid 1200 on the 31st", "text/plain"))],
    )

    assert sent.status_code == 200 and browser.trail[0].status_code == 303
    links = note_links(sent, "Remittance advice, as sent")
    assert requests.get(links["advice.txt"], timeout=30).content == b"paid 1200 on the 31st"
    pinned = notes.notes_of(admin(demo), customer_id, pinned_only=True)
    assert [a["name"] for n in pinned if n["body"] == "Remittance advice, as sent" for a in n["attachments"]] == [
        "advice.txt"
    ]


def test_files_are_added_to_a_note_later(demo):
    browser = signed_in_admin(demo)
    customer_id = a_customer(demo, 2)
    page = browser.get(f"/customers/{customer_id}")
    browser.post(f"/customers/{customer_id}", {"csrf": browser.csrf(page), "do": "note", "body": "Proof to follow"})
    note = next(n for n in notes.notes_of(admin(demo), customer_id) if n["body"] == "Proof to follow")

    answer = browser.post(
        f"/customers/{customer_id}",
        {"csrf": browser.csrf(page), "do": "note-files", "note": note["id"], **declared(("proof.png", "image/png", 4))},
        headers=PRESIGNED,
    )
    upload(demo, answer.json(), [b"\x89PNG"])

    links = note_links(browser.get(f"/customers/{customer_id}"), "Proof to follow")
    assert requests.get(links["proof.png"], timeout=30).content == b"\x89PNG"


def test_twenty_six_files_are_refused_naming_attachments_and_nothing_is_written(demo):
    browser = signed_in_admin(demo)
    customer_id = a_customer(demo, 3)
    page = browser.get(f"/customers/{customer_id}")
    before = (len(notes.notes_of(admin(demo), customer_id)), stored_files(demo))
    many = declared(*[(f"page-{n}.txt", "text/plain", 10) for n in range(26)])

    refused = browser.post(
        f"/customers/{customer_id}",
        {"csrf": browser.csrf(page), "do": "note", "body": "Too many pages", **many},
        headers=PRESIGNED,
    )
    shown = browser.post(f"/customers/{customer_id}", {"csrf": browser.csrf(page), "do": "note", "body": "x", **many})

    assert refused.status_code == 422 and "attachments" in refused.json()["fields"]
    assert "at most 25" in refused.json()["fields"]["attachments"]
    assert shown.status_code == 422 and "at most 25 per note" in shown.text
    assert (len(notes.notes_of(admin(demo), customer_id)), stored_files(demo)) == before


def test_sixteen_megabytes_together_are_refused_naming_attachments_and_nothing_is_written(demo):
    browser = signed_in_admin(demo)
    customer_id = a_customer(demo, 3)
    page = browser.get(f"/customers/{customer_id}")
    before = (len(notes.notes_of(admin(demo), customer_id)), stored_files(demo))
    heavy = declared(
        ("scan-1.pdf", "application/pdf", 8 * 1024 * 1024), ("scan-2.pdf", "application/pdf", 8 * 1024 * 1024)
    )

    refused = browser.post(
        f"/customers/{customer_id}",
        {"csrf": browser.csrf(page), "do": "note", "body": "Scans", **heavy},
        headers=PRESIGNED,
    )
    through_the_form = browser.post(
        f"/customers/{customer_id}",
        {"csrf": browser.csrf(page), "do": "note", "body": "Scans"},
        files=[("attachments", ("scan.pdf", b"0" * (4 * 1024 * 1024 + 1), "application/pdf"))],
    )

    assert refused.status_code == 422 and "15 MB" in refused.json()["fields"]["attachments"]
    assert through_the_form.status_code == 422 and "at most 4 MB together here" in through_the_form.text
    assert (len(notes.notes_of(admin(demo), customer_id)), stored_files(demo)) == before


def test_a_reply_from_the_timeline_carries_the_files_chosen(demo):
    browser = signed_in_admin(demo)
    org = admin(demo).organization_id
    asked, mail = next(
        (c, e)
        for c in customers.matching_customers(admin(demo), CustomerFilter())
        for e in timeline.page(org, f"CUS#{c.id}", limit=200)[0]
        if e["kind"] == "reply_in"
    )
    customer = customers.customer_record_of(admin(demo), asked.id)
    if not customer.open_reply_task_id:  # whatever the settings
        stored = inbound.stored_reply(org, mail["id"])
        assert stored is not None
        inbound.open_reply_task(org, customer, stored, [])
    page = browser.get(f"/customers/{asked.id}")
    soup = BeautifulSoup(page.text, "html.parser")
    task = soup.select_one("li.tl-reply_in form input[name=action]")["value"]

    sent = browser.post(
        f"/customers/{asked.id}",
        {"csrf": browser.csrf(page), "do": "reply", "action": task, "body": "The copy you asked for."},
        files=[("attachments", ("INV-copy.pdf", b"%PDF-1.4 copy", "application/pdf"))],
    )

    assert sent.status_code == 200
    ours = next(li for li in BeautifulSoup(sent.text, "html.parser").select("li.tl-reply_out") if "copy you" in li.text)
    link = ours.find("a", string=lambda text: text and "INV-copy.pdf" in text)
    assert requests.get(link["href"], timeout=30).content == b"%PDF-1.4 copy"
