"""A 1,000-row CSV import through the local runtime, the heaviest kind: every customer put under a
workflow (their executions start from the nudge queue, after the import has answered).

The import must answer inside the API's 29 s; `make bench` prints how long it took.
"""

from relance.storage import customers as customer_store
from tests.bench.conftest import FIGURES
from tests.integration.helpers import eventually
from tests.integration.test_imports import API_SECONDS, _csv, _import


def test_a_thousand_customers_under_a_workflow_import_within_the_api_timeout(benchmark, runtime, api):
    org_id = runtime.session["organization"]["id"]
    url = lambda path: f"{runtime.base_url}/v1{path}"  # noqa: E731
    rounds = iter(range(100))

    def import_a_thousand() -> tuple[dict, float]:
        batch = next(rounds)
        text = _csv(
            ["External ID", "Name", "Workflow"],
            [[f"B{batch}-{i:04d}", f"Bench {batch} customer {i:04d}", "Standard"] for i in range(1000)],
        )
        return _import(api, url, "customers", text)

    report, elapsed = benchmark.pedantic(import_a_thousand, rounds=1, iterations=1)

    FIGURES["1,000-customer import under a workflow (API answer)"] = f"{elapsed:.1f} s"
    assert (report["created"], report["failed"]) == (1000, 0) and elapsed < API_SECONDS
    ids = [r["id"] for r in report["report"]]
    eventually(
        lambda: all(customer_store.get_customer(org_id, i).get("execution") for i in ids[::100] + ids[-1:]),
        timeout=600,
        what="every imported customer nudged from the queue",
    )
