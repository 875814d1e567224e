"""The customer list at 10,000 customers, and the customer summary: latency and DynamoDB requests."""

import random
import time
from datetime import timedelta

import pytest

from local import moto_dynamodb
from local.demo import write_all
from relance import clock
from relance.domain.customers import CustomerFields
from relance.services.customers import new_customer_item
from relance.services.organizations import get_organization
from relance.storage import customers as customer_store
from tests.bench.conftest import FIGURES

CUSTOMERS = 10_000


@pytest.fixture(scope="module")
def big_org(runtime):
    """10,000 customers with open items in the runtime's organization (written in batches, as the demo is).

    One customer in eight has an invoice 30 days overdue; the others' are due in 30 days.
    """
    org_id = runtime.session["organization"]["id"]
    organization = get_organization(org_id)
    rng = random.Random(7)
    today = clock.now().date()
    items = []
    for index in range(CUSTOMERS):
        fields = CustomerFields(name=f"Customer {index:05d}", currency="USD", tags=["retail"] if index % 10 else [])
        customer = new_customer_item(organization, fields, clock.now().isoformat())
        customer["openItems"] = {
            f"inv_{index}_{n}": {
                "dueAt": (today + timedelta(days=-30 if index % 8 == 0 and n == 0 else 30)).isoformat(),
                "outstanding": rng.randint(1, 10**6),
                "currency": "USD",
            }
            for n in range(3)
        }
        items += [e["Put"]["Item"] for e in customer_store.create_entries(org_id, customer)]
    write_all(items)
    return org_id


@pytest.mark.timeout(900)
def test_list_10000_customers_filtered_page_of_50(benchmark, runtime, api, big_org, dynamodb_requests):
    """One page reads the list projection of every customer (6 Query pages of ~1 MB, see docs/data-model.md).

    Also timed once on moto's own Query and rendering (``moto_dynamodb.moto_reads``): the page before
    local/moto_dynamodb.py.
    """
    url = f"{runtime.base_url}/v1/customers"
    params = {"tag": "retail", "overdue": "true", "sort": "-outstanding", "limit": 50}

    before = dynamodb_requests.count
    response = benchmark.pedantic(api.get, args=(url,), kwargs={"params": params}, rounds=3, iterations=1)
    per_page = (dynamodb_requests.count - before) / 3
    with moto_dynamodb.moto_reads():
        started = time.perf_counter()
        moto_response = api.get(url, params=params)
        on_moto = time.perf_counter() - started

    assert response.status_code == 200 and len(response.json()["items"]) == 50
    assert moto_response.json() == response.json()
    assert all(c["overdue"] for c in response.json()["items"])
    name = "customer list, 10,000 customers, filtered page of 50"
    FIGURES[f"{name}: DynamoDB requests per page"] = f"{per_page:g}"
    FIGURES[f"{name}: seconds per page"] = f"{benchmark.stats.stats.mean:.2f}"
    FIGURES[f"{name}: seconds per page on moto's own Query"] = f"{on_moto:.2f}"
    print(f"\n{name}: {benchmark.stats.stats.mean:.2f} s a page ({on_moto:.2f} s on moto's own Query)")


def test_customer_summary(benchmark, runtime, api, big_org, dynamodb_requests):
    customer_id = customer_store.list_customers(big_org)[0]["id"]
    url = f"{runtime.base_url}/v1/customers/{customer_id}"

    before = dynamodb_requests.count
    response = benchmark.pedantic(api.get, args=(url,), rounds=20, iterations=1)
    per_call = (dynamodb_requests.count - before) / 20

    assert response.status_code == 200
    FIGURES["customer summary: DynamoDB requests per call (authorizer included)"] = f"{per_call:g}"
