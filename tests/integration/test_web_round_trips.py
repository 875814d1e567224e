"""Every page of the web app answers in at most two DynamoDB round trips beyond the session check
(reads that do not depend on each other are made together: ``relance.aws.together``)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance.domain.customers import Customer
from relance.services import customers, notes
from relance.services.customers import CustomerFilter
from relance.services.notes import NoteFields
from relance.storage import directory as directory_store
from tests.integration.round_trips import dynamodb_made
from tests.integration.test_web_customers import admin_principal, signed_in
from tests.integration.web import Browser


@pytest.fixture(scope="module")
def admin(demo: LocalRuntime) -> Browser:
    browser, _ = signed_in(demo, "admin")
    browser.get("/customers")  # the session is renewed: what follows is the page alone
    return browser


def first_customer(demo: LocalRuntime) -> Customer:
    return customers.matching_customers(admin_principal(demo), CustomerFilter())[0]


def made_by(browser: Browser, url: str, **headers: str):
    with dynamodb_made() as made:
        answer = browser.get(url, headers=headers)
    assert answer.status_code == 200, url
    return made


def test_the_list_takes_two_round_trips_and_one_query_of_customers(demo, admin):
    made = made_by(admin, "/customers")
    assert (made.requests, made.round_trips) == (2, 2)  # the directory (views, custom fields), then the page


def test_the_customer_page_takes_one_round_trip(demo, admin):
    made = made_by(admin, f"/customers/{first_customer(demo).id}")
    assert (made.requests, made.round_trips) == (3, 1)  # its partition, the directory, its timeline


def test_the_invoice_page_takes_two_round_trips(demo, admin):
    org_id = demo.session["organization"]["id"]
    invoice = directory_store.customer_records(org_id, first_customer(demo).id)["INV"][0]
    made = made_by(admin, f"/invoices/{invoice['id']}")
    assert (made.requests, made.round_trips) == (5, 2)  # invoice, timeline, directory; customer, its actions


def test_older_timeline_entries_take_one_round_trip_for_a_customer_and_two_for_an_invoice(demo, admin):
    customer = first_customer(demo)
    org_id = demo.session["organization"]["id"]
    invoice = directory_store.customer_records(org_id, customer.id)["INV"][0]["id"]
    for n in range(30):
        notes.create(admin_principal(demo), customer.id, NoteFields(body=f"Call back #{n}", invoice_ids=[invoice]))

    for base, expected in ((f"/customers/{customer.id}", 1), (f"/invoices/{invoice}", 2)):
        shown = BeautifulSoup(admin.get(base).text, "html.parser")
        older = shown.select_one("li.tl-more")
        assert older is not None, base  # 30 notes: more than a page
        made = made_by(admin, older["hx-get"], **{"HX-Request": "true"})
        assert made.round_trips == expected, (base, made.operations)


@pytest.mark.parametrize(
    "url",
    [
        "/customers/count",
        "/actions",
        "/actions?tab=all",
        "/notifications",
        "/notifications?part=bell",
        "/replies",
        "/settings",
        "/workflows",
        "/customers/import",
        "/analytics",
    ],
)
def test_every_other_page_takes_at_most_two_round_trips(demo, admin, url):
    admin.get(url)  # the settings write what SES says of the sender when it changed, or hourly: not this time
    assert made_by(admin, url).round_trips <= 2
