"""The web app: server time of the customers list (a page of 50 out of 10,000) and of the customer
page, with their DynamoDB requests; and the bytes of JavaScript and CSS a browser downloads.

Figures, not pass/fail thresholds: `make bench` prints them.
"""

import gzip

import pytest

from relance.domain.organizations import Principal
from relance.domain.users import Role, UserFields
from relance.services.users import create_user
from relance.storage import customers as customer_store
from tests.bench.conftest import FIGURES
from tests.bench.test_bench_ledger import big_org  # noqa: F401  (the same 10,000 customers)
from tests.conftest import ROOT
from tests.integration.web import Browser

PASSWORD = "Bench-Password-2026"
SHIPPED = ("bootstrap.min.css", "app.css", "htmx.min.js", "app.js")


@pytest.fixture(scope="module")
def signed_in(runtime):
    org_id = runtime.session["organization"]["id"]
    admin = Principal(organization_id=org_id, role="admin", principal_id="bench")
    create_user(admin, UserFields(email="bench@relance.example", name="Bench", role=Role.ADMIN), password=PASSWORD)
    browser = Browser(runtime.base_url)
    assert browser.sign_in("bench@relance.example", PASSWORD).status_code == 200
    return browser


@pytest.mark.timeout(900)
def test_web_customer_list_page_of_50_out_of_10000(benchmark, runtime, big_org, signed_in, dynamodb_requests):  # noqa: F811
    url = "/customers?tag=retail&overdue=yes"

    before = dynamodb_requests.count
    page = benchmark.pedantic(signed_in.get, args=(url,), rounds=3, iterations=1)
    per_page = (dynamodb_requests.count - before) / 3

    assert page.status_code == 200 and page.text.count('name="ids"') == 50
    name = "web customer list, 10,000 customers, filtered page of 50 in name order"
    FIGURES[f"{name}: seconds per page (its count follows apart)"] = f"{benchmark.stats.stats.mean:.2f}"
    FIGURES[f"{name}: DynamoDB requests per page"] = f"{per_page:g}"


def test_web_customer_page(benchmark, runtime, big_org, signed_in, dynamodb_requests):  # noqa: F811
    customer_id = customer_store.list_customers(big_org)[0]["id"]

    before = dynamodb_requests.count
    page = benchmark.pedantic(signed_in.get, args=(f"/customers/{customer_id}",), rounds=10, iterations=1)
    per_page = (dynamodb_requests.count - before) / 10

    assert page.status_code == 200
    FIGURES["web customer page: seconds"] = f"{benchmark.stats.stats.mean:.3f}"
    FIGURES["web customer page: DynamoDB requests"] = f"{per_page:g}"


def test_javascript_and_css_shipped(benchmark):
    """What every page loads (then cached forever): Bootstrap's CSS, ours, htmx, ours; gzip as served compressed."""
    folder = ROOT / "functions" / "web" / "static"
    files = {name: next(folder.rglob(name)).read_bytes() for name in SHIPPED}
    raw = sum(len(body) for body in files.values())
    compressed = benchmark(lambda: sum(len(gzip.compress(body, 6)) for body in files.values()))

    assert compressed < 150 * 1024
    FIGURES["web app JS + CSS: bytes"] = f"{raw:,}"
    FIGURES["web app JS + CSS: bytes gzip-compressed (target ≤ 150 KB)"] = f"{compressed:,}"
