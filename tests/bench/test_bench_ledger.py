"""The customer list at 10,000 customers, and the customer summary: latency and DynamoDB requests."""

import random

import pytest

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
    """10,000 customers with open items in the runtime's organization (written in batches)."""
    org_id = runtime.session["organization"]["id"]
    organization = get_organization(org_id)
    rng = random.Random(7)
    today = clock.now().date().isoformat()
    items = []
    for index in range(CUSTOMERS):
        fields = CustomerFields(name=f"Customer {index:05d}", currency="USD", tags=["retail"] if index % 10 else [])
        customer = new_customer_item(organization, fields, clock.now().isoformat())
        customer["openItems"] = {
            f"inv_{index}_{n}": {
                "dueAt": today if n % 2 else "2026-01-01",
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
    """Locally moto walks the whole table for every Query page, so the latency here is moto's;
    on DynamoDB the same requests read ~1 MB each (see docs/data-model.md)."""
    url = f"{runtime.base_url}/v1/customers"
    params = {"tag": "retail", "overdue": "true", "sort": "-outstanding", "limit": 50}

    before = dynamodb_requests.count
    response = benchmark.pedantic(api.get, args=(url,), kwargs={"params": params}, rounds=2, iterations=1)
    per_page = (dynamodb_requests.count - before) / 2

    assert response.status_code == 200 and len(response.json()["items"]) == 50
    FIGURES["customer list, 10,000 customers, filtered page of 50: DynamoDB requests per page"] = f"{per_page:g}"


def test_customer_summary(benchmark, runtime, api, big_org, dynamodb_requests):
    customer_id = customer_store.list_customers(big_org)[0]["id"]
    url = f"{runtime.base_url}/v1/customers/{customer_id}"

    before = dynamodb_requests.count
    response = benchmark.pedantic(api.get, args=(url,), rounds=20, iterations=1)
    per_call = (dynamodb_requests.count - before) / 20

    assert response.status_code == 200
    FIGURES["customer summary: DynamoDB requests per call (authorizer included)"] = f"{per_call:g}"
