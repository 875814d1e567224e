"""The nightly analytics of a large organization: ``services.analytics.take_snapshots`` for 25,000,
50,000 and 100,000 invoices (5,000 to 20,000 customers, ten account managers, four in five invoices
paid), to show the time grows linearly and stays far under the 60 s the issue allows.

What is timed is the Lambda's own work: the items turned from DynamoDB's wire format into Python
(boto3's ``TypeDeserializer``, as the resource layer does), parsed into the ledger's models, the
histories built and every figure of the organization's dashboard and of each manager's computed and
compressed. The Query pages themselves are served from memory here; docs/analytics.md estimates
their time on DynamoDB (about 50 pages of 1 MB for 100,000 invoices).
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from relance.domain.ledger import InvoiceFields
from relance.domain.organizations import OrganizationSettings
from relance.services import analytics
from relance.services.ledger import new_invoice_item
from tests.bench.conftest import FIGURES

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
MANAGERS = [f"usr_manager_{n}" for n in range(10)]
INVOICES_PER_CUSTOMER = 5


def ledger_of(invoices: int) -> dict[str, list[dict[str, Any]]]:
    """Customers, invoices over the last 18 months and the payments of four in five, as stored."""
    rng = random.Random(invoices)
    today = NOW.date()
    template = new_invoice_item(
        InvoiceFields(customer_id="cus_x", number="X", currency="EUR", amount=1, issued_at=today, due_at=today),
        NOW.isoformat(),
    )
    customers, invoice_items, payments = [], [], []
    for c in range(invoices // INVOICES_PER_CUSTOMER):
        customer_id = f"cus_{c:06d}"
        customers.append(
            {"id": customer_id, "name": f"Customer {c}", "currency": "EUR", "accountManagerIds": [MANAGERS[c % 10]]}
        )
        for n in range(INVOICES_PER_CUSTOMER):
            issued = today - timedelta(days=rng.randint(0, 540))
            due = issued + timedelta(days=30)
            amount = rng.randint(10_000, 5_000_000)
            invoice = {
                **template,
                "id": f"inv_{c:06d}_{n}",
                "customerId": customer_id,
                "number": f"F-{c}-{n}",
                "amount": amount,
                "issuedAt": issued.isoformat(),
                "dueAt": due.isoformat(),
            }
            paid_on = due + timedelta(days=rng.randint(-20, 40))
            if rng.random() < 0.8 and paid_on <= today:
                invoice.update(status="paid", paidAmount=amount, paidAt=paid_on.isoformat())
                payments.append(
                    {
                        "id": f"pay_{c:06d}_{n}",
                        "customerId": customer_id,
                        "amount": amount,
                        "currency": "EUR",
                        "allocations": [{"invoiceId": invoice["id"], "amount": amount}],
                        "unapplied": 0,
                        "receivedAt": paid_on.isoformat(),
                        "createdAt": NOW.isoformat(),
                    }
                )
            invoice_items.append(invoice)
    serializer = TypeSerializer()

    def wire(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: serializer.serialize(v) for k, v in item.items()} for item in items]

    return {"customers": wire(customers), "invoices": wire(invoice_items), "payments": wire(payments)}


def read(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    deserializer = TypeDeserializer()
    return [{k: deserializer.deserialize(v) for k, v in item.items()} for item in items]


@pytest.fixture
def in_memory(monkeypatch):
    """``books()``'s reads served from a ledger in memory; the snapshots' writes measured, not made."""
    stored: dict[str, Any] = {"ledger": None, "bytes": []}

    def records(org_id: str, kind: str) -> list[dict[str, Any]]:
        return read(stored["ledger"]["payments"]) if kind == "payment" else []

    settings = OrganizationSettings.model_validate({"defaultCurrency": "EUR", "timezone": "Europe/Paris"})
    monkeypatch.setattr(analytics.ledger_store, "records_of_organization", records)
    monkeypatch.setattr(
        analytics.ledger_store, "invoices_of_organization", lambda org: read(stored["ledger"]["invoices"])
    )
    monkeypatch.setattr(analytics.customer_store, "list_customers", lambda org: read(stored["ledger"]["customers"]))
    monkeypatch.setattr(analytics.checkout_store, "paid_checkout_ids", lambda org: [])
    monkeypatch.setattr(analytics, "get_organization", lambda org: SimpleNamespace(settings=settings))
    if hasattr(analytics, "exchange_rates"):
        monkeypatch.setattr(analytics.exchange_rates, "stored_rates", lambda org: [])
    monkeypatch.setattr(
        analytics.snapshot_store, "put_snapshot", lambda org, scope, day, at, body: stored["bytes"].append(len(body))
    )
    monkeypatch.setattr(analytics.clock, "now", lambda: NOW)
    return stored


@pytest.mark.timeout(900)
def test_nightly_analytics_of_100000_invoices(benchmark, in_memory):
    seconds: dict[int, float] = {}
    for size in (25_000, 50_000):
        in_memory["ledger"] = ledger_of(size)
        started = time.perf_counter()
        analytics.take_snapshots("org_bench")
        seconds[size] = time.perf_counter() - started
    in_memory["ledger"] = ledger_of(100_000)
    in_memory["bytes"].clear()

    written = benchmark.pedantic(analytics.take_snapshots, args=("org_bench",), rounds=1, iterations=1)

    seconds[100_000] = benchmark.stats.stats.max
    per_thousand = {size: s / size * 1000 for size, s in seconds.items()}
    FIGURES["nightly analytics, 100,000 invoices (Lambda CPU, reads from memory)"] = (
        f"{seconds[100_000]:.1f} s for {written} snapshots (limit 60 s); "
        + ", ".join(
            f"{size // 1000}k: {s:.1f} s ({per_thousand[size] * 1000:.0f} ms per 1,000)" for size, s in seconds.items()
        )
    )
    FIGURES["largest snapshot (JSON before compression)"] = f"{max(in_memory['bytes']) / 1024:.0f} KiB"
    assert written == 1 + len(MANAGERS)
    assert seconds[100_000] < 60
