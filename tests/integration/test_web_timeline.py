"""The customer page's timeline and notes through the local runtime: newest first, paged as it
scrolls (htmx asks for the next page alone), the paused banner at the top, notes with mentions of
only those who see the customer, pinned, unpinned and deleted by their author."""

from __future__ import annotations

import smtplib
from email import message_from_string, policy
from email.message import EmailMessage

import requests
from bs4 import BeautifulSoup
from moto.ses.models import RawMessage, ses_backends

from local.runtime import LocalRuntime
from local.template import ACCOUNT, REGION
from relance.domain.organizations import Principal
from relance.services import actions, customers, inbound, notes, timeline, users
from relance.services.actions import ManualAction, ManualType
from relance.services.customers import CustomerFilter
from relance.services.notes import NoteFields
from tests.integration.helpers import eventually, ok
from tests.integration.web import Browser, admin, text_of


def browser_of(demo: LocalRuntime, role: str) -> tuple[Browser, dict[str, str]]:
    person = next(u for u in demo.session["users"] if u["role"] == role)
    browser = Browser(demo.base_url)
    browser.sign_in(person["email"], person["password"])
    return browser, person


def user_id(demo: LocalRuntime, email: str) -> str:
    return next(u.id for u in users.list_users(admin(demo)) if u.email == email)


def post(browser: Browser, customer_id: str, page, **fields):
    return browser.post(f"/customers/{customer_id}", {"csrf": browser.csrf(page), **fields})


def entries(page) -> list:
    return BeautifulSoup(page.text, "html.parser").select("#timeline-list > li.tl-entry")


def test_the_timeline_is_newest_first_and_pages_as_it_scrolls(demo):
    browser, _ = browser_of(demo, "admin")
    customer = customers.matching_customers(admin(demo), CustomerFilter())[-1]
    for n in range(30):
        notes.create(admin(demo), customer.id, NoteFields(body=f"Paging note {n:02d}"))

    page = browser.get(f"/customers/{customer.id}")
    shown = entries(page)
    more = BeautifulSoup(page.text, "html.parser").select_one("#timeline-list > li.tl-more")
    following = browser.get(more["hx-get"], headers={"HX-Request": "true"})

    assert "Paging note 29" in shown[0].text and len(shown) == 25
    assert more["hx-trigger"] == "revealed" and more.a["href"].endswith("#timeline")
    assert following.status_code == 200 and "<html" not in following.text
    rest = BeautifulSoup(following.text, "html.parser").select("li.tl-entry")
    assert "Paging note 04" in rest[0].text and any("Paging note 00" in r.text for r in rest)
    without_js = browser.get(more.a["href"].split("#")[0])  # the link loads the page from there
    assert without_js.status_code == 200 and "Paging note 04" in entries(without_js)[0].text


def test_paused_collection_shows_first_and_pause_and_resume_are_told_with_who(demo):
    browser, _ = browser_of(demo, "admin")
    customer = customers.matching_customers(admin(demo), CustomerFilter())[0]
    page = browser.get(f"/customers/{customer.id}")

    paused = post(browser, customer.id, page, do="pause")
    first = entries(paused)[0]
    resumed = post(browser, customer.id, paused, do="resume")
    top = entries(resumed)[0]

    assert "Collection is paused" in first.text
    assert "Collection resumed" in top.text and top.find("abbr", class_="initials")["title"]
    assert "Collection is paused" not in text_of(resumed)


def test_a_note_mentions_only_people_who_see_the_customer_and_is_pinned_and_deleted(demo):
    browser, _ = browser_of(demo, "admin")
    manager = next(u for u in demo.session["users"] if u["role"] == "account_manager")
    manager_id = user_id(demo, manager["email"])
    everyone = customers.matching_customers(admin(demo), CustomerFilter())
    theirs = next(c for c in everyone if manager_id in c.account_manager_ids)
    other = next(c for c in everyone if manager_id not in c.account_manager_ids)
    page = browser.get(f"/customers/{other.id}")
    offered = [o["value"] for o in BeautifulSoup(page.text, "html.parser").select("#note-mention option")]

    refused = post(browser, other.id, page, do="note", body="Call them", mention=manager_id)
    page = browser.get(f"/customers/{theirs.id}")
    written = post(browser, theirs.id, page, do="note", body="Please call their CFO", mention=manager_id)

    assert manager_id not in offered
    assert refused.status_code == 422 and "cannot see this customer" in text_of(refused)
    assert "Call them" in BeautifulSoup(refused.text, "html.parser").select_one("#note-body").text
    assert written.status_code == 200
    note = entries(written)[0]
    name = next(u.name for u in users.list_users(admin(demo)) if u.id == manager_id)
    assert "Please call their CFO" in note.text and f"@{name}" in note.text
    assert manager_id not in note.text  # the mention reads as the person's name
    note_id = note.find("input", {"name": "note"})["value"]

    pinned = post(browser, theirs.id, written, do="note-pin", note=note_id)
    assert "Pinned notes" in pinned.text and entries(pinned)[0].find(string="Unpin")
    unpinned = post(browser, theirs.id, pinned, do="note-unpin", note=note_id)
    assert "Pinned notes" not in unpinned.text

    their_browser, _ = browser_of(demo, "account_manager")
    theirs_page = their_browser.get(f"/customers/{theirs.id}")
    assert not entries(theirs_page)[0].find("button", value="note-delete")  # not their note
    assert post(their_browser, theirs.id, theirs_page, do="note-delete", note=note_id).status_code == 403

    deleted = post(browser, theirs.id, unpinned, do="note-delete", note=note_id)
    assert deleted.status_code == 200 and "Please call their CFO" not in deleted.text


def test_an_action_shows_its_status_and_its_owner_by_initials_named_on_hover(demo):
    browser, person = browser_of(demo, "admin")
    customer = customers.matching_customers(admin(demo), CustomerFilter())[1]
    owner = user_id(demo, person["email"])
    signed = Principal(organization_id=admin(demo).organization_id, role="admin", principal_id=owner, user_id=owner)
    actions.create_manual(signed, ManualAction(customer_id=customer.id, type=ManualType.CALL, note="Ask for the PO"))

    top = entries(browser.get(f"/customers/{customer.id}"))[0]

    initials = top.find("abbr", class_="initials")
    assert "Call" in top.text and "To do" in top.text and "Ask for the PO" in top.text
    assert initials["title"] == initials["aria-label"] and initials["tabindex"] == "0" and initials.text.strip()


def test_a_customer_mail_is_answered_from_the_timeline_with_recipients_added_and_the_mail_quoted(demo):
    browser, _ = browser_of(demo, "admin")
    org = admin(demo).organization_id
    asked, reply = next(
        (c, e)
        for c in customers.matching_customers(admin(demo), CustomerFilter())
        for e in timeline.page(org, f"CUS#{c.id}", limit=200)[0]
        if e["kind"] == "reply_in"
    )
    customer = customers.customer_record_of(admin(demo), asked.id)
    if not customer.open_reply_task_id:  # whatever the settings
        stored = inbound.stored_reply(org, reply["id"])
        assert stored is not None
        inbound.open_reply_task(org, customer, stored, [])
    page = browser.get(f"/customers/{asked.id}")
    mail = next(e for e in entries(page) if "tl-reply_in" in e["class"])
    form = mail.find("form")
    task = form.find("input", {"name": "action"})["value"]

    refused = post(browser, asked.id, page, do="reply", action=task, body="Attached.", to="not an address")
    sent = post(browser, asked.id, page, do="reply", action=task, body="Here is INV-1.", to="ap@buyer.example")

    assert "Could you send us a copy" in form.find("blockquote").text  # the history, quoted
    assert refused.status_code == 422 and "to" in text_of(refused)
    assert sent.status_code == 200
    ours = next(e for e in entries(sent) if "tl-reply_out" in e["class"])
    assert "Here is INV-1." in ours.text and "ap@buyer.example" in ours.text
    assert not customers.customer_item(admin(demo), asked.id).get("openReplyTaskId")  # answered: the hold is gone


def test_remind_now_previews_a_template_for_the_customer_then_sends_it(demo):
    browser, _ = browser_of(demo, "admin")
    customer = max(customers.matching_customers(admin(demo), CustomerFilter()), key=lambda c: sum(c.overdue.values()))
    plain = browser.get(f"/customers/{customer.id}")
    chooser = browser.get(f"/customers/{customer.id}?remind=choose")
    template = BeautifulSoup(chooser.text, "html.parser").select("#remind-template option")[1]["value"]
    shown = browser.get(f"/customers/{customer.id}?remind={template}")
    preview = BeautifulSoup(shown.text, "html.parser").select_one("#remind-preview")

    assert BeautifulSoup(plain.text, "html.parser").select_one("#remind-template") is None  # read only when asked
    assert preview is not None and preview.text.strip()
    sent = post(browser, customer.id, shown, do="remind", template=template)
    assert sent.status_code == 200, text_of(sent)[:500]
    top = entries(sent)[0]
    assert "Email" in top.text


def test_a_customer_mail_about_our_email_is_answered_with_their_words_quoted_in_their_thread(demo):
    """Without a Reply task the form under the customer's mail answers the email they replied to: the
    answer quotes their mail (as the form says), then ours, and threads under their message."""
    api, base = requests.Session(), f"{demo.base_url}/v1"
    api.headers["X-Api-Key"] = demo.session["apiKey"]
    customer = ok(api.post(f"{base}/customers", json={"name": "Threaded Replies", "currency": "EUR"}), 201)
    ok(api.post(f"{base}/customers/{customer['id']}/contacts", json={"email": "ap@threaded.example"}), 201)
    invoice = {"customerId": customer["id"], "number": "THR-1", "currency": "EUR", "amount": 50000}
    ok(api.post(f"{base}/invoices", json={**invoice, "issuedAt": "2020-01-01", "dueAt": "2020-01-31"}), 201)
    ok(api.post(f"{base}/actions", json={"customerId": customer["id"], "type": "email"}), 201)
    ours = next(m for m in ok(requests.get(f"{demo.base_url}/dev/outbox")) if m["to"] == ["ap@threaded.example"])
    theirs = EmailMessage()
    theirs["From"], theirs["To"], theirs["Subject"] = "ap@threaded.example", ours["replyTo"][0], "Re: your reminder"
    theirs["Message-ID"] = "<their-answer@threaded.example>"
    theirs.set_content("Which invoice is THR-1? We cannot find it.")
    with smtplib.SMTP(demo.host, demo.session["smtpPort"], timeout=10) as smtp:
        smtp.send_message(theirs)
    browser, _ = browser_of(demo, "admin")

    def form_under_their_mail():
        page = browser.get(f"/customers/{customer['id']}")
        mail = next((e for e in entries(page) if "tl-reply_in" in e["class"]), None)
        return mail and (page, mail.find("form"))

    page, form = eventually(form_under_their_mail, timeout=30, what="the customer's mail on the timeline")
    fields = {i["name"]: i["value"] for i in form.find_all("input", type="hidden") if i["name"] != "csrf"}
    sent = post(browser, customer["id"], page, **fields, do="reply", body="It is the one of January.")

    assert sent.status_code == 200, text_of(sent)[:500]
    answer = next(
        message_from_string(m.raw_data, policy=policy.default)
        for m in ses_backends[ACCOUNT][REGION].sent_messages
        if isinstance(m, RawMessage) and "It is the one of January." in m.raw_data
    )
    text = answer.get_body(preferencelist=("plain",)).get_content()
    assert "> Which invoice is THR-1? We cannot find it." in text  # their words, as the form promised
    first_line = next(line for line in ours["text"].splitlines() if line.strip())
    assert text.index("> Which invoice is THR-1?") < text.index(f"> {first_line}")  # then ours
    assert answer["In-Reply-To"] == "<their-answer@threaded.example>" and answer["Subject"] == "Re: your reminder"
    assert answer["To"] == "ap@threaded.example"
