"""The invoice page through the local runtime: details, status and timeline; a dispute raised by
the team and resolved by an admin only; a promise to pay recorded and cleared; others' invoices 404."""

from __future__ import annotations

from datetime import timedelta

from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance import clock
from relance.domain.ledger import InvoiceStatus
from relance.domain.organizations import Principal
from relance.services import customers, ledger, notes, users
from relance.services.customers import CustomerFilter
from relance.services.notes import NoteFields
from tests.integration.web import Browser, admin, text_of


def browser_of(demo: LocalRuntime, role: str) -> tuple[Browser, dict[str, str]]:
    person = next(u for u in demo.session["users"] if u["role"] == role)
    browser = Browser(demo.base_url)
    browser.sign_in(person["email"], person["password"])
    return browser, person


def open_invoices(demo: LocalRuntime, manager_email: str, theirs: bool):
    manager_id = next(u.id for u in users.list_users(admin(demo)) if u.email == manager_email)
    for customer in customers.matching_customers(admin(demo), CustomerFilter()):
        if (manager_id in customer.account_manager_ids) != theirs:
            continue
        for invoice in ledger.list_invoices(admin(demo), customer.id, InvoiceStatus.OPEN, 200, None)[0]:
            if invoice.status == InvoiceStatus.OPEN and not invoice.disputed and not invoice.promise_count:
                yield customer, invoice


def post(browser: Browser, invoice_id: str, page, **fields):
    return browser.post(f"/invoices/{invoice_id}", {"csrf": browser.csrf(page), **fields})


def test_the_page_shows_the_invoice_and_its_timeline_and_others_are_not_found(demo):
    browser, person = browser_of(demo, "account_manager")
    customer, invoice = next(open_invoices(demo, person["email"], theirs=True))
    _, foreign = next(open_invoices(demo, person["email"], theirs=False))

    page = browser.get(f"/invoices/{invoice.id}")

    assert page.status_code == 200
    text = text_of(page)
    assert f"Invoice {invoice.number}" in text and customer.name in text and "Outstanding" in text
    assert BeautifulSoup(page.text, "html.parser").select_one("#timeline-list") is not None
    assert browser.get(f"/invoices/{foreign.id}").status_code == 404
    listed = browser.get(f"/customers/{customer.id}")
    assert BeautifulSoup(listed.text, "html.parser").find("a", href=f"/invoices/{invoice.id}")


def test_a_dispute_is_raised_by_the_team_and_resolved_by_an_admin_only(demo):
    browser, person = browser_of(demo, "account_manager")
    _, invoice = next(open_invoices(demo, person["email"], theirs=True))
    page = browser.get(f"/invoices/{invoice.id}")
    reason = BeautifulSoup(page.text, "html.parser").select_one("#dispute-reason option").text

    raised = post(browser, invoice.id, page, do="dispute", reason=reason, comment="Goods arrived damaged")

    assert raised.status_code == 200 and "Disputed" in text_of(raised)
    assert "Dispute raised" in text_of(raised) and "Goods arrived damaged" in text_of(raised)
    assert BeautifulSoup(raised.text, "html.parser").find("button", value="resolve") is None
    assert post(browser, invoice.id, raised, do="resolve").status_code == 403
    boss, _ = browser_of(demo, "admin")
    shown = boss.get(f"/invoices/{invoice.id}")
    resolved = post(boss, invoice.id, shown, do="resolve", comment="Credit note sent")
    assert resolved.status_code == 200 and "Dispute resolved" in text_of(resolved)
    assert ledger.get_invoice(admin(demo), invoice.id).disputed is None


def test_a_promise_to_pay_is_recorded_then_cleared(demo):
    browser, _ = browser_of(demo, "admin")
    manager = next(u for u in demo.session["users"] if u["role"] == "account_manager")
    _, invoice = next(open_invoices(demo, manager["email"], theirs=False))
    page = browser.get(f"/invoices/{invoice.id}")
    past = (clock.now().date() - timedelta(days=3)).isoformat()
    later = clock.now().date() + timedelta(days=7)

    refused = post(browser, invoice.id, page, do="promise", promisedFor=past)
    promised = post(browser, invoice.id, page, do="promise", promisedFor=later.isoformat(), comment="By transfer")

    assert refused.status_code == 422 and "past" in text_of(refused)
    assert promised.status_code == 200 and "Promised for" in text_of(promised)
    assert ledger.get_invoice(admin(demo), invoice.id).promised_until == later
    cleared = post(browser, invoice.id, promised, do="reset-promise", comment="They called back")
    assert cleared.status_code == 200 and "Record the promise" in text_of(cleared)
    assert "Promise to pay cleared" in text_of(cleared)


def test_a_note_on_the_invoice_timeline_is_pinned_there_and_the_page_comes_back(demo):
    browser, person = browser_of(demo, "account_manager")
    customer, invoice = next(open_invoices(demo, person["email"], theirs=True))
    me = next(u for u in users.list_users(admin(demo)) if u.email == person["email"])
    author = Principal(
        organization_id=demo.session["organization"]["id"], role="account_manager", principal_id=me.id, user_id=me.id
    )
    note = notes.create(author, customer.id, NoteFields(body="Asked for a PO number", invoice_ids=[invoice.id]))
    page = browser.get(f"/invoices/{invoice.id}")
    pin = next(
        f
        for f in BeautifulSoup(page.text, "html.parser").select("#timeline-list form")
        if f.find("input", {"name": "note", "value": note["id"]}) and f.find("button", value="note-pin")
    )
    fields = {i["name"]: i.get("value", "") for i in pin.find_all("input")}

    pinned = browser.post(pin["action"], {**fields, "do": "note-pin"}, follow=False)
    shown = text_of(browser.get(f"/invoices/{invoice.id}"))
    elsewhere = browser.post(
        pin["action"], {**fields, "back": "https://evil.example/", "do": "note-unpin"}, follow=False
    )

    assert pin["action"] == f"/customers/{customer.id}" and fields["back"] == f"/invoices/{invoice.id}"
    assert pinned.status_code == 303 and pinned.headers["Location"] == f"/invoices/{invoice.id}#timeline"
    assert "Unpin this note" in shown
    assert elsewhere.status_code == 303 and elsewhere.headers["Location"].startswith(f"/customers/{customer.id}#")
