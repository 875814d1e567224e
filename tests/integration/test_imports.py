"""CSV imports: bad rows are reported (line and column), never a 500; 1,000 rows import (how long it
takes is `make bench`'s); importing the same file again creates nothing twice."""

import csv
import io
import time
from datetime import timedelta

import pytest

from relance import clock
from relance.services import imports
from relance.storage import customers as customer_store
from tests.integration.helpers import eventually, ok

API_SECONDS = 29  # API Gateway's integration timeout, and the API function's


@pytest.fixture
def url(runtime):
    return lambda path: f"{runtime.base_url}/v1{path}"


def _csv(header, rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _import(api, url, kind, text):
    started = time.monotonic()
    report = ok(api.post(url("/imports"), json={"type": kind, "csv": text}, timeout=120))
    return report, time.monotonic() - started


def test_a_thousand_customers_contacts_and_invoices_import_and_again_without_duplicates(api, url):
    """Whether it fits the API's 29 s is measured by `make bench` (tests/bench/test_bench_imports.py), not
    here: a busy machine would flip a timed test."""
    today = clock.now().date()
    customers = _csv(
        ["External ID", "Name", "Currency", "Tags"],
        [[f"BULK-{i:04d}", f"Bulk Customer {i:04d}", "EUR", "bulk;imported"] for i in range(1000)],
    )
    contacts = _csv(
        ["Customer external ID", "Email", "First name", "Main"],
        [[f"BULK-{i:04d}", f"ap{i:04d}@bulk.example", "Pat", "yes"] for i in range(1000)],
    )
    invoices = _csv(
        ["Customer external ID", "Number", "Currency", "Amount", "Issued at", "Due at"],
        [
            [f"BULK-{i % 1000:04d}", f"BULK-INV-{i:04d}", "EUR", "1234.50", today - timedelta(days=40), today]
            for i in range(1000)
        ],
    )

    for kind, text in (("customers", customers), ("contacts", contacts), ("invoices", invoices)):
        first, _ = _import(api, url, kind, text)
        again, _ = _import(api, url, kind, text)
        assert (first["created"], first["failed"]) == (1000, 0), first["report"][:3]
        assert (again["created"], again["failed"]) == (0, 0), again["report"][:3]
        assert {r["status"] for r in again["report"]} == {"unchanged"}

    listed = ok(api.get(url("/customers"), params={"tag": "bulk", "limit": 200}))
    customer = listed["items"][0]
    assert len(ok(api.get(url(f"/customers/{customer['id']}/contacts")))["items"]) == 1
    assert len(ok(api.get(url("/invoices"), params={"customerId": customer["id"]}))["items"]) == 1


def test_rows_a_reader_or_the_ledger_cannot_take_are_reported_with_their_line_and_column(api, url):
    ok(api.put(url("/customers/external/ROWS-1"), json={"name": "Rows Customer", "currency": "EUR"}))
    today = clock.now().date()
    header = "Customer external ID,Number,Currency,Amount,Issued at,Due at"

    def line(number, amount, extra=""):
        return f"ROWS-1,{number},EUR,{amount},{today - timedelta(days=30)},{today}{extra}"

    text = "\n".join(
        [
            header,
            line("R-1", "100.00"),
            line("R-2", "100.00", extra=",surplus"),
            line("R-3", "1" * 140_000),
            line("R-4", "Infinity"),
            line("R-5", "sNaN"),
            line("R-6", "1e999999999"),
            line("R-7", "1e900000"),
            line("R-8", "NaN"),
            line("R-9", "-5"),
            line("R-10", "12.345"),
            line("R-11", "250.50"),
        ]
    )

    started = time.monotonic()
    response = api.post(url("/imports"), json={"type": "invoices", "csv": text})
    elapsed = time.monotonic() - started

    assert response.status_code == 200, response.text[:500]
    report = {r["line"]: r for r in response.json()["report"]}
    assert [report[n]["status"] for n in (2, 12)] == ["created", "created"]
    assert "column 7" in report[3]["fields"]
    assert "amount" in report[4]["fields"] and "131072" in report[4]["fields"]["amount"]
    for number in range(5, 12):
        assert report[number]["status"] == "error" and "amount" in report[number]["fields"], report[number]
    assert elapsed < 10
    customer_id = ok(api.put(url("/customers/external/ROWS-1"), json={"name": "Rows Customer"}))["id"]
    numbers = [i["number"] for i in ok(api.get(url("/invoices"), params={"customerId": customer_id}))["items"]]
    assert sorted(numbers) == ["R-1", "R-11"]


def test_a_header_without_a_row_or_too_many_rows_is_a_422_naming_csv(api, url):
    empty = api.post(url("/imports"), json={"type": "customers", "csv": ""})
    too_many = api.post(
        url("/imports"), json={"type": "customers", "csv": "Name\n" + "\n".join(f"C{i}" for i in range(1001))}
    )

    for response in (empty, too_many):
        assert response.status_code == 422 and "csv" in response.json()["error"]["fields"], response.text


def test_the_same_file_imported_while_it_is_being_imported_is_a_409(runtime, api, url):
    org_id = runtime.session["organization"]["id"]
    request = imports.ImportRequest(type="customers", csv="Name\nLocked Customer\n")

    with imports.lock(org_id, request):  # the first import of this file still runs
        running = api.post(url("/imports"), json={"type": "customers", "csv": request.csv})
    done = ok(api.post(url("/imports"), json={"type": "customers", "csv": request.csv}))

    assert running.status_code == 409 and "csv" in running.json()["error"]["fields"]
    assert (done["created"], done["failed"]) == (1, 0)


def test_customers_imported_under_a_workflow_start_dunning_through_the_nudge_queue(runtime, api, url):
    org_id = runtime.session["organization"]["id"]
    text = _csv(
        ["External ID", "Name", "Workflow"], [[f"FLOW-{i}", f"Flowing Customer {i}", "Standard"] for i in range(3)]
    )

    report, _ = _import(api, url, "customers", text)

    ids = [r["id"] for r in report["report"]]
    assert (report["created"], report["failed"]) == (3, 0)
    eventually(
        lambda: all(customer_store.get_customer(org_id, i).get("execution") for i in ids),
        timeout=60,
        what="the imported customers' dunning executions started",
    )
