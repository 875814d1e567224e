"""A customer summary (``GET /v1/customers/{id}``) costs at most 3 DynamoDB requests, the authorizer's
included (docs/data-model.md): the API key's GetItem, the organization's request count, one Query of
the customer's partition — whatever the customer holds (contacts, invoices, pinned notes)."""

from collections.abc import Iterator

import pytest

from relance import aws
from tests.integration.helpers import ok

AT_MOST = 3


class Counted:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, **_: object) -> None:
        self.count += 1


@pytest.fixture
def dynamodb_requests() -> Iterator[Counted]:
    counter = Counted()
    clients = (aws.resource("dynamodb").meta.client, aws.client("dynamodb"))
    for client in clients:
        client.meta.events.register("before-call.dynamodb", counter)
    yield counter
    for client in clients:
        client.meta.events.unregister("before-call.dynamodb", counter)


def test_a_customer_summary_costs_at_most_three_dynamodb_requests(runtime, api, dynamodb_requests):
    base = f"{runtime.base_url}/v1"
    customer = ok(api.post(f"{base}/customers", json={"name": "Summed Ltd", "currency": "EUR"}), 201)
    ok(api.post(f"{base}/customers/{customer['id']}/contacts", json={"email": "ap@summed.example"}), 201)
    for number in ("S-1", "S-2"):
        invoice = {"customerId": customer["id"], "number": number, "currency": "EUR", "amount": 1000}
        ok(api.post(f"{base}/invoices", json={**invoice, "issuedAt": "2026-01-01", "dueAt": "2026-01-31"}), 201)
    note = {"body": "Call before the 10th", "pinned": True}
    ok(api.post(f"{base}/customers/{customer['id']}/notes", json=note), 201)

    before = dynamodb_requests.count
    summary = ok(api.get(f"{base}/customers/{customer['id']}"))
    made = dynamodb_requests.count - before

    assert [c["email"] for c in summary["contacts"]] == ["ap@summed.example"]
    assert sorted(i["number"] for i in summary["openInvoices"]) == ["S-1", "S-2"]
    assert [n["body"] for n in summary["pinnedNotes"]] == ["Call before the 10th"]
    assert made <= AT_MOST
