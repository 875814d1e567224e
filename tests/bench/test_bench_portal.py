"""Latency of the portal: the page, the statement PDF, and the portal function's cold import.

Figures, not pass/fail thresholds: `make bench` prints them. The customer has 40 open and 40
paid invoices, a size an AP team sees often.
"""

import subprocess
import sys

import requests

from tests.conftest import ROOT


def _customer_link(runtime, api) -> str:
    base = f"{runtime.base_url}/v1"
    customer = api.post(f"{base}/customers", json={"name": "Bench Portal", "currency": "USD"}).json()
    for index in range(80):
        invoice = api.post(
            f"{base}/invoices",
            json={
                "customerId": customer["id"],
                "number": f"BP-{index}",
                "currency": "USD",
                "amount": 10_000 + index,
                "issuedAt": "2026-09-01",
                "dueAt": "2026-10-01",
            },
        ).json()
        if index % 2:
            api.post(
                f"{base}/payments",
                json={
                    "customerId": customer["id"],
                    "amount": invoice["amount"],
                    "currency": "USD",
                    "receivedAt": "2026-10-15",
                    "allocations": [{"invoiceId": invoice["id"], "amount": invoice["amount"]}],
                },
            )
    return api.post(f"{base}/customers/{customer['id']}/portal-link", json={}).json()["url"]


def test_portal_page_with_80_invoices(benchmark, runtime, api):
    url = _customer_link(runtime, api)
    session = requests.Session()

    page = benchmark(session.get, url)

    assert page.status_code == 200 and page.text.count('name="invoiceIds"') == 40


def test_statement_pdf_with_40_open_invoices(benchmark, runtime, api):
    url = _customer_link(runtime, api)
    session = requests.Session()

    pdf = benchmark(session.get, f"{url}/statement.pdf")

    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_portal_function_cold_import(benchmark):
    """What a Lambda cold start pays to import the portal handler (a fresh interpreter each round)."""
    code = "import sys; sys.path.insert(0, 'functions/portal'); import app"

    def cold_import() -> int:
        return subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True).returncode

    assert benchmark.pedantic(cold_import, rounds=5, iterations=1) == 0
