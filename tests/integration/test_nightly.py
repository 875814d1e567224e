"""The nightly run through the local runtime: schedule → an asynchronous invocation of the worker per
organization, on a clock jump."""

import json
import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from local.functions import FunctionError
from local.runtime import LocalRuntime
from relance import aws, clock
from relance.domain.customers import CustomerFields
from relance.domain.ledger import InvoiceFields, PaymentFields
from relance.domain.organizations import Principal
from relance.services import analytics, ledger
from relance.services.analytics import AnalyticsFilter
from relance.services.customers import create_customer
from relance.services.organization_admin import create_organization
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
    event = {**sample_event("nightly/organization.json"), "organizationId": org, "runDate": "2031-01-01"}

    result = runtime.functions["NightlyWorkerFunction"].invoke(event)

    assert result["status"] == "done"
    assert get(keys.nightly_run(org, "2031-01-01"))["status"] == "done"


def test_an_invocation_naming_no_night_fails_naming_the_field(runtime, sample_event):
    event = {**sample_event("nightly/organization.json")}
    del event["runDate"]

    with pytest.raises(FunctionError) as error:  # Lambda retries it twice, then sends it to the dead-letter queue
        runtime.functions["NightlyWorkerFunction"].invoke(event)

    assert error.value.payload["errorType"] == "ValidationError"
    assert "runDate" in error.value.payload["errorMessage"]


def test_schedule_on_the_sample_event_invokes_the_worker_for_each_organization(runtime, sample_event):
    org = admin(runtime).organization_id

    result = runtime.functions["NightlyScheduleFunction"].invoke(sample_event("nightly/scheduled-event.json"))

    assert result["organizations"] >= 1
    done = eventually(lambda: (get(keys.nightly_run(org, result["runDate"])) or {}).get("status") == "done", 30)
    assert done


def test_an_invocation_failing_every_attempt_reaches_the_dead_letter_queue_once(runtime):
    """As Lambda does with an asynchronous invocation: the first attempt and two retries, then the record."""
    sqs = aws.client("sqs")
    queue = runtime.template.queue_url("NightlyDeadLetterQueue")
    bad = {"organizationId": admin(runtime).organization_id}  # no runDate

    aws.client("lambda").invoke(
        FunctionName=runtime.functions["NightlyWorkerFunction"].name, InvocationType="Event", Payload=json.dumps(bad)
    )

    def received() -> list[dict]:
        return sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])

    [message] = eventually(received, 30, "the failed invocation's record in the dead-letter queue")
    record = json.loads(message["Body"])
    assert record["requestPayload"] == bad
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responsePayload"]["errorType"] == "ValidationError"


class CountedOnThisThread:
    """DynamoDB requests this thread makes (the run is called here; other threads' work is not counted)."""

    def __init__(self) -> None:
        self.count = 0
        self.thread = threading.get_ident()

    def __call__(self, **_: object) -> None:
        if threading.get_ident() == self.thread:
            self.count += 1


def requests_of_a_night(org: str, run_date: date) -> int:
    from relance.services.nightly import run_for_organization

    counter = CountedOnThisThread()
    clients = (aws.resource("dynamodb").meta.client, aws.client("dynamodb"))
    for client in clients:
        client.meta.events.register("before-call.dynamodb", counter)
    try:
        assert run_for_organization(org, run_date)["status"] == "done"
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.dynamodb", counter)
    return counter.count


def owing_customers(principal: Principal, how_many: int, first: int) -> None:
    for n in range(first, first + how_many):
        customer = create_customer(principal, CustomerFields(name=f"Night {n}", currency="EUR"))
        fields = {"customer_id": customer.id, "number": f"NI-{n}", "currency": "EUR", "amount": 5000}
        ledger.create_invoice(principal, InvoiceFields(**fields, issued_at="2026-01-01", due_at="2026-01-31"))


def test_a_night_reads_each_customer_once_and_writes_its_rating(runtime):
    """Per customer: its item (GetItem), its ledger (two Queries, its notes left out) read once for the
    reconciliation, the rating and the promises and payments to expire, and its rating written: 4 requests."""
    organization, _ = create_organization("Nightly Counts Ltd")
    principal = Principal(organization_id=organization.id, role="admin", principal_id="test")
    owing_customers(principal, 3, first=0)
    with_three = requests_of_a_night(organization.id, date(2032, 1, 1))

    owing_customers(principal, 3, first=3)
    with_six = requests_of_a_night(organization.id, date(2032, 1, 2))

    assert (with_six - with_three) / 3 <= 4, (with_three, with_six)
