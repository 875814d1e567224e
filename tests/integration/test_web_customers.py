"""The web app's customers list through the local runtime: scope, filters in the URL, sort, pages, htmx."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance.domain.custom_fields import CustomFieldDefinition, FieldType
from relance.domain.customers import CustomerPatch
from relance.domain.organizations import Principal
from relance.services import custom_fields, customers, users
from relance.services.customers import CustomerFilter
from tests.integration.web import Browser


def signed_in(demo: LocalRuntime, role: str, index: int = 0) -> tuple[Browser, dict[str, str]]:
    person = [u for u in demo.session["users"] if u["role"] == role][index]
    browser = Browser(demo.base_url)
    browser.sign_in(person["email"], person["password"])
    return browser, person


def admin_principal(demo: LocalRuntime) -> Principal:
    return Principal(organization_id=demo.session["organization"]["id"], role="admin", principal_id="test")


def rows(page) -> list[str]:
    """The customer names of the list's rows, in order."""
    soup = BeautifulSoup(page.text, "html.parser")
    return [a.get_text(strip=True) for a in soup.select("#results tbody td a.fw-semibold")]


def test_an_account_manager_sees_only_their_customers_and_an_admin_all(demo):
    manager, person = signed_in(demo, "account_manager")
    admin, _ = signed_in(demo, "admin")
    everyone = customers.matching_customers(admin_principal(demo), CustomerFilter())
    manager_id = next(u.id for u in users.list_users(admin_principal(demo)) if u.email == person["email"])
    theirs = {c.name for c in everyone if manager_id in c.account_manager_ids}

    mine = rows(manager.get("/customers?cols=name"))
    first_page = rows(admin.get("/customers?cols=name&sort=name"))

    assert len(everyone) > 50 and len(first_page) == 50  # the demo's 50 and its Stripe account's
    assert set(mine) == theirs and 0 < len(theirs) < len(everyone)
    hidden = next(c for c in everyone if c.name not in mine)
    assert manager.get(f"/customers/{hidden.id}").status_code == 404  # as if it did not exist


def test_filters_live_in_the_url_and_use_the_list_service(demo):
    admin, _ = signed_in(demo, "admin")
    expected = customers.matching_customers(admin_principal(demo), CustomerFilter(overdue_min=100_000, rating=["D"]))

    page = admin.get("/customers?overdueMin=1000&rating=D&sort=-overdue")

    assert page.status_code == 200
    assert sorted(rows(page)) == sorted(c.name for c in expected)
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.select_one("#f-overdueMin")["value"] == "1000"
    assert soup.select_one("#f-rating-D").has_attr("checked")
    assert soup.select_one("th[aria-sort=descending]").get_text(strip=True).startswith("Overdue")
    assert page.headers["Cache-Control"].startswith("no-store")


def test_a_bad_filter_is_named_and_answered_422(demo):
    admin, _ = signed_in(demo, "admin")

    page = admin.get("/customers?overdueMin=lots")

    assert page.status_code == 422
    soup = BeautifulSoup(page.text, "html.parser")
    assert "is-invalid" in soup.select_one("#f-overdueMin")["class"]
    assert soup.select_one("#overdueMin-error").get_text(strip=True)


def test_pages_follow_the_cursor_and_the_first_page_comes_back(demo):
    admin, _ = signed_in(demo, "admin")
    everyone = sorted(c.name.lower() for c in customers.matching_customers(admin_principal(demo), CustomerFilter()))

    first = admin.get("/customers?cols=name")
    following = BeautifulSoup(first.text, "html.parser").find("a", string="Next page →")
    second = admin.get(following["href"])
    back = BeautifulSoup(second.text, "html.parser").find("a", string="← First page")

    assert len(everyone) > 50  # the demo's 50 and its Stripe account's: two pages
    assert [n.lower() for n in rows(first)] == everyone[:50]
    assert [n.lower() for n in rows(second)] == everyone[50:]
    assert BeautifulSoup(second.text, "html.parser").find("a", string="Next page →") is None
    assert rows(admin.get(back["href"])) == rows(first)


def test_htmx_gets_the_results_block_of_the_same_template(demo):
    admin, _ = signed_in(demo, "admin")

    fragment = admin.get("/customers?rating=D", headers={"HX-Request": "true", "HX-Target": "results"})

    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'id="count"' in fragment.text and "<table" in fragment.text


def test_a_page_in_name_order_asks_for_its_count_apart(demo):
    admin, _ = signed_in(demo, "admin")
    expected = customers.matching_customers(admin_principal(demo), CustomerFilter(overdue=True))

    listed = BeautifulSoup(admin.get("/customers?overdue=yes").text, "html.parser").find(id="count")
    counted = admin.get(listed["hx-get"], headers={"HX-Request": "true"})
    by_overdue = BeautifulSoup(admin.get("/customers?overdue=yes&sort=-overdue").text, "html.parser").find(id="count")

    assert listed.get_text(strip=True) == "Counting customers…" and listed["hx-trigger"] == "load"
    assert listed["hx-get"] == "/customers/count?overdue=yes"
    assert counted.status_code == 200 and "<table" not in counted.text
    assert " ".join(BeautifulSoup(counted.text, "html.parser").get_text().split()) == f"{len(expected)} customers match"
    assert by_overdue.get_text(strip=True) == f"{len(expected)} customers match"  # a full read counts as it goes
    assert admin.get("/customers/count?overdueMin=abc").status_code == 200  # named on the page itself


def test_columns_show_every_kind_of_value_and_custom_fields(demo):
    admin, _ = signed_in(demo, "admin")
    principal = admin_principal(demo)
    custom_fields.save_definition(principal, CustomFieldDefinition(key="segment", label="Segment", type=FieldType.TEXT))
    first = min(customers.matching_customers(principal, CustomerFilter()), key=lambda c: c.name.lower())
    customers.update_customer(principal, first.id, CustomerPatch(custom_fields={"segment": "Enterprise"}))

    page = admin.get("/customers?cols=name,tags,paymentMethods,collection,workflow,accountManagers,cf.segment")

    soup = BeautifulSoup(page.text, "html.parser")
    headers = [th.get_text(" ", strip=True) for th in soup.select("thead th:not(.select-col)")]
    assert headers[0].startswith("Name") and headers[1:] == [
        "Tags",
        "Payment methods",
        "Collection",
        "Workflow",
        "Account managers",
        "Segment",
    ]
    assert "Bank transfer" in page.text and "Active" in page.text
    assert soup.select("tbody tr")[0].select("td")[-1].get_text(strip=True) == "Enterprise"


def test_signed_out_the_list_goes_to_the_sign_in(demo):
    page = Browser(demo.base_url).get("/customers?rating=D")

    assert urlsplit(page.url).path == "/dev/cognito/oauth2/authorize"


def test_the_api_list_takes_the_same_filters(demo):
    api = requests.Session()
    api.headers["X-Api-Key"] = demo.session["apiKey"]
    query = {"overdueMin": 100_000, "collectionStatus": "active", "paymentMethod": ["card", "sepa_debit"], "limit": 200}
    wanted = CustomerFilter(overdue_min=100_000, collection_status="active", payment_methods=["card", "sepa_debit"])

    listed = api.get(f"{demo.base_url}/v1/customers", params=query).json()["items"]
    refused = api.get(f"{demo.base_url}/v1/customers", params={"collectionStatus": "sleeping"})

    assert sorted(c["id"] for c in listed) == sorted(
        c.id for c in customers.matching_customers(admin_principal(demo), wanted)
    )
    assert refused.status_code == 422
