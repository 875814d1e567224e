"""The nightly run through the local runtime: schedule → queue → worker, on a clock jump."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from local.functions import FunctionError
from local.runtime import LocalRuntime
from relance import clock
from relance.domain.customers import CustomerFields
from relance.domain.ledger import InvoiceFields, PaymentFields
from relance.domain.organizations import Principal
from relance.services import analytics, ledger
from relance.services.analytics import AnalyticsFilter
from relance.services.customers import create_customer
from relance.storage import customers as customer_store
from relance.storage import keys
from relance.storage.records import get
from tests.integration.helpers import eventually, last_nightly_run


def admin(runtime: LocalRuntime) -> Principal:
    return Principal(organization_id=runtime.session["organization"]["id"], role="admin", principal_id="test")


def test_nightly_run_corrects_drift_and_rates_every_customer_once(runtime):
    principal = admin(runtime)
    org = principal.organization_id
    customer = create_customer(principal, CustomerFields(name="Drifting Ltd", currency="USD"))
    invoice = ledger.create_invoice(
        principal,
        InvoiceFields(
            customer_id=customer.id,
            number="N-1",
            currency="USD",
            amount=10000,
            issued_at="2026-01-01",
            due_at="2026-01-31",
        ),
    )
    ledger.record_payment(
        principal,
        PaymentFields(
            customer_id=customer.id,
            amount=12000,
            currency="USD",
            received_at="2026-03-01",
            allocations=[{"invoiceId": invoice.id, "amount": 10000}],
        ),
    )
    customer_store.set_field(org, customer.id, "credit", {"USD": 999})  # a balance gone wrong
    customer_store.set_field(org, customer.id, "rating", None)

    run_date = last_nightly_run(clock.advance(timedelta(days=1)))  # a day: one night passes, at its hour

    report = eventually(lambda: get(keys.nightly_run(org, run_date.isoformat())), timeout=30)
    assert report["status"] == "done"
    assert [d["customerId"] for d in report["drift"]] == [customer.id]
    assert report["drift"][0]["stored"]["credit"] == {"USD": 999}
    stored = customer_store.get_customer(org, customer.id)
    assert stored["credit"] == {"USD": 2000}
    assert (stored["rating"], stored["averagePaymentDelayDays"]) == ("A", 29)
    assert report["analyticsSnapshots"] >= 1  # the organization's dashboard, then each manager's
    kept = analytics.dashboard(principal, AnalyticsFilter())
    assert kept.from_snapshot and kept.computed_at <= datetime.fromisoformat(report["finishedAt"])
    assert kept.computed_at.astimezone(UTC).date() == run_date


def test_a_second_delivery_of_the_same_night_changes_nothing(runtime):
    from relance.services.nightly import run_for_organization

    org = admin(runtime).organization_id
    run_date = clock.now().date()
    first = run_for_organization(org, run_date)

    again = run_for_organization(org, run_date)

    assert again["finishedAt"] == first["finishedAt"]


def test_worker_on_the_sample_event_runs_the_organization_it_names(runtime, sample_event):
    org = admin(runtime).organization_id
    event = sample_event("nightly/sqs-organization.json")
    body = json.loads(event["Records"][0]["body"])
    event["Records"][0]["body"] = json.dumps({**body, "organizationId": org, "runDate": "2031-01-01"})

    result = runtime.functions["NightlyWorkerFunction"].invoke(event)

    assert result == {"batchItemFailures": []}
    assert get(keys.nightly_run(org, "2031-01-01"))["status"] == "done"


def test_a_batch_whose_every_run_fails_is_retried_whole(runtime, sample_event):
    event = sample_event("nightly/sqs-organization.json")
    event["Records"][0]["body"] = "not json"

    with pytest.raises(FunctionError) as error:  # Powertools fails the invocation: SQS retries it
        runtime.functions["NightlyWorkerFunction"].invoke(event)

    assert error.value.payload["errorType"] == "BatchProcessingError"


def test_schedule_on_the_sample_event_fans_out_one_message_per_organization(runtime, sample_event):
    result = runtime.functions["NightlyScheduleFunction"].invoke(sample_event("nightly/scheduled-event.json"))

    assert result["organizations"] >= 1
