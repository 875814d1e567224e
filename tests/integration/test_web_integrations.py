"""The Integrations settings tab (admins) and synced records in the web app, with the fake source of
``fake_source.py``: connect with settings and secret (never shown again), a run's status, counts and the
records it could not apply, Sync now; a synced customer, invoice and contact say where they come from,
their synced fields are read-only and a change to one is refused naming it; account managers have no tab.
"""

from __future__ import annotations

from datetime import date

from bs4 import BeautifulSoup

from relance.domain.integrations import ConnectionFields
from relance.domain.sync import Batch, SourceContact, SourceCustomer, SourceInvoice
from relance.services import integrations
from relance.storage import customers as customer_store
from relance.storage import integrations as store
from relance.storage import ledger as ledger_store
from tests.integration.fake_source import fake_source  # noqa: F401 (a fixture)
from tests.integration.helpers import eventually
from tests.integration.test_web_customers import admin_principal, signed_in
from tests.integration.web import text_of

HERE = "/settings/integrations"


def web_pages(source) -> None:
    source.pages[None] = Batch(
        records=[
            SourceCustomer(
                external_id="cus_web",
                name="Webbed Goods",
                currency="EUR",
                contacts=[SourceContact(email="pay@webbed.example", first_name="Pat", is_main=True)],
            ),
            SourceInvoice(
                external_id="in_web",
                customer_external_id="cus_web",
                number="W-1",
                currency="EUR",
                amount=99_00,
                issued_at=date(2026, 1, 5),
                due_at=date(2026, 2, 4),
            ),
            SourceInvoice(
                external_id="in_lost",
                customer_external_id="cus_gone",
                number="W-2",
                currency="EUR",
                amount=1_00,
                issued_at=date(2026, 1, 5),
                due_at=date(2026, 2, 4),
            ),
        ],
        cursor="c1",
    )


def finished_run(demo, org_id: str) -> dict:
    """The connection's run once every run queued has run (the demo's clock is held still: runs are told
    apart by what they did, not by when)."""
    demo.settle()

    def done() -> dict | None:
        run = (store.get_connection(org_id, "stripe") or {}).get("lastRun") or {}
        return run if run.get("finishedAt") else None

    return eventually(done, what="the sync run")


def test_an_admin_connects_a_source_and_sees_its_run_and_the_records_not_applied(demo, fake_source):  # noqa: F811
    web_pages(fake_source)
    admin, _ = signed_in(demo, "admin")
    org = demo.session["organization"]["id"]
    demo.settle()  # a run the demo's seeding queued is over: this test's is the last
    page = admin.get(HERE)
    soup = BeautifulSoup(page.text, "html.parser")
    assert page.status_code == 200
    assert soup.select_one('nav[aria-label=Settings] a[aria-current="page"]').text == "Integrations"
    assert [h.text for h in soup.select("section.card h2")] == ["Stripe Billing", "QuickBooks Online", "Salesforce"]
    assert soup.select_one("#stripe-k-apiKey")["type"] == "password"
    assert soup.select_one("label[for=stripe-s-account]")  # every control has its label

    refused = admin.post(HERE, {"csrf": admin.csrf(page), "name": "stripe", "do": "save", "enabled": "on"})
    assert refused.status_code == 422
    assert BeautifulSoup(refused.text, "html.parser").select_one("#stripe-s-account.is-invalid")

    fields = {"csrf": admin.csrf(page), "name": "stripe", "do": "save", "enabled": "on"}
    saved = admin.post(HERE, {**fields, "settings.account": "acct_web", "secret.apiKey": "sk_test_web_secret"})
    assert saved.status_code == 200 and "Connection saved." in text_of(saved)
    assert "sk_test_web_secret" not in saved.text
    finished_run(demo, org)

    shown = admin.get(HERE)
    card = BeautifulSoup(shown.text, "html.parser").select_one("section#stripe")
    said = " ".join(card.get_text(" ").split())
    assert "Connected" in said and "Done." in said
    assert "2 created" in said and "1 not applied" in said  # the customer and the invoice; the orphan
    assert "in_lost" in said and "cus_gone" in said
    assert card.select_one("#stripe-s-account")["value"] == "acct_web"
    assert card.select_one("#stripe-k-apiKey")["value"] == "" and "sk_test_web_secret" not in shown.text
    assert f"/v1/integrations/stripe/webhooks/{org}" in said

    queued = admin.post(HERE, {"csrf": admin.csrf(shown), "name": "stripe", "do": "sync"})
    assert "Sync queued" in text_of(queued)


def test_a_synced_record_says_so_and_its_synced_fields_are_read_only(demo, fake_source):  # noqa: F811
    web_pages(fake_source)
    org = demo.session["organization"]["id"]
    integrations.put_connection(
        admin_principal(demo),
        "stripe",
        ConnectionFields(enabled=True, settings={"account": "acct_web"}, secret={"apiKey": "sk_test_web"}),
    )
    demo.settle()
    integrations.run_sync(org, "stripe")
    customer_id = customer_store.customer_id_by_external_id(org, "cus_web")
    invoice_id = ledger_store.invoice_id_by_external_id(org, "in_web")
    admin, _ = signed_in(demo, "admin")

    page = admin.get(f"/customers/{customer_id}")
    soup = BeautifulSoup(page.text, "html.parser")
    assert "Synced from Stripe Billing" in soup.select_one("#top").get_text(" ")
    contact = soup.select_one("#contacts li")
    contact_id = contact["id"].removeprefix("contact-")
    assert contact.select_one(f"#{contact_id}-email").has_attr("readonly")
    assert not contact.select_one(f"#{contact_id}-phone").has_attr("readonly")  # the source gave no phone
    assert not contact.select("button[value=contact-delete]")
    invoice_page = admin.get(f"/invoices/{invoice_id}")
    assert "Synced from Stripe Billing" in BeautifulSoup(invoice_page.text, "html.parser").select_one("#top").text

    changed = admin.post(
        f"/customers/{customer_id}",
        {"csrf": admin.csrf(page), "do": "contact-edit", "contact": contact_id, "email": "other@webbed.example"},
    )
    kept = admin.post(
        f"/customers/{customer_id}",
        {
            "csrf": admin.csrf(page),
            "do": "contact-edit",
            "contact": contact_id,
            "email": "pay@webbed.example",
            "firstName": "Pat",
            "phone": "+33 1 23 45 67 89",
        },
    )

    assert changed.status_code == 409 and "email is synced from Stripe Billing" in text_of(changed)
    assert kept.status_code == 200 and "+33 1 23 45 67 89" in text_of(kept)


def test_an_account_manager_has_no_integrations_tab(demo):
    manager, _ = signed_in(demo, "account_manager")

    page = manager.get(HERE)

    assert page.status_code in (403, 404)
    assert "Stripe Billing" not in page.text
