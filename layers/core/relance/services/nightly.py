"""The nightly run: for each organization, ratings recomputed, balances reconciled, promises checked,
payments that never arrived given back to dunning.

The schedule fans out one asynchronous invocation of the worker per organization (Lambda retries a
failed one twice, then sends it to the worker's dead-letter queue); the worker is idempotent: a run
that already finished for that organization and date is skipped, and a half-done one simply runs
again (every step recomputes from the ledger).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from relance import clock, queues
from relance.domain.base import RelanceModel
from relance.domain.ledger import InvoiceStatus
from relance.domain.organizations import OrganizationSettings
from relance.domain.rating import RatingBasis
from relance.observability import logger, metrics
from relance.services import analytics, disputes_and_promises, online_payments, ratings
from relance.services.digest import send_weekly_digests
from relance.services.ledger import open_item
from relance.storage import customers as customer_store
from relance.storage import ledger as ledger_store
from relance.storage import nightly_runs
from relance.storage import organizations as org_store


def organizations_to_run() -> list[str]:
    """Every organization (Query GSI1 ``ORGS``)."""
    return [organization["id"] for organization in org_store.list_all()]


class NightlyRun(RelanceModel):
    """What the worker is invoked with: one organization's night."""

    organization_id: str
    run_date: date


def queue_runs(worker: str, run_date: date) -> int:
    """The night's fan-out: an asynchronous invocation of the worker (the function named ``worker``) per
    organization, which calls ``run_for_organization``; how many organizations."""
    runs = [NightlyRun(organization_id=org_id, run_date=run_date) for org_id in organizations_to_run()]
    refused = queues.invoke_all(worker, [run.model_dump(mode="json", by_alias=True) for run in runs])
    if refused:
        logger.error("nightly runs not queued", organizations=[run["organizationId"] for run in refused])
    return len(runs)


def run_invoked(event: dict[str, Any]) -> dict[str, Any]:
    """The worker's invocation: the night it names (a ValidationError, naming the field, when it names none);
    what the worker answers: the night and how it ended (the report, drift and all, stays in its item)."""
    run = NightlyRun.model_validate(event)
    report = run_for_organization(run.organization_id, run.run_date)
    return {
        **run.model_dump(mode="json", by_alias=True),
        "status": str(report["status"]),
        "customers": int(report["customers"]),
    }


def ledger_state(
    invoices: list[dict[str, Any]], money: list[dict[str, Any]], refunds: list[dict[str, Any]]
) -> dict[str, Any]:
    """A customer's open items and credit as its ledger records say they are."""
    open_items = {i["id"]: open_item(i) for i in invoices if i["status"] == InvoiceStatus.OPEN}
    credit: dict[str, int] = defaultdict(int)
    for record in money:  # payments and credit notes
        credit[record["currency"]] += int(record["unapplied"])
    for refund in refunds:
        if not refund.get("creditNoteId"):  # a credit note's refund already lowered its unapplied
            credit[refund["currency"]] -= int(refund["amount"])
    return {"openItems": open_items, "credit": {c: v for c, v in credit.items() if v}}


def expected_state(records: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The state of a customer's ledger (``ledger_store.ledger_of``)."""
    return ledger_state(records["invoice"], records["payment"] + records["credit_note"], records["refund"])


def _normalised(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "openItems": {
            k: {"dueAt": v["dueAt"], "outstanding": int(v["outstanding"]), "currency": v["currency"]}
            for k, v in state.get("openItems", {}).items()
        },
        "credit": {c: int(v) for c, v in state.get("credit", {}).items() if int(v)},
    }


def reconcile_customer(
    org_id: str, customer: dict[str, Any], records: dict[str, list[dict[str, Any]]] | None = None
) -> dict[str, Any] | None:
    """Compare stored balances with the ledger (``records``: as just read, else read now); correct and
    describe any drift."""
    expected = expected_state(records if records is not None else ledger_store.ledger_of(org_id, customer["id"]))
    stored = _normalised(customer)
    if stored == _normalised(expected):
        return None
    customer_store.set_ledger_state(org_id, customer["id"], expected, int(customer["ledgerVersion"]))
    return {"customerId": customer["id"], "stored": stored, "expected": _normalised(expected)}


def run_for_organization(org_id: str, run_date: date) -> dict[str, Any]:
    """Recompute every customer's rating, reconcile its balance and put back into dunning the invoices
    whose promise to pay was not kept or whose payment on its way never arrived, place in the
    name-ordered index the customers written before it and take the analytics snapshots; once per
    organization and date."""
    done = nightly_runs.get_run(org_id, run_date.isoformat())
    if done and done.get("status") == "done":
        logger.info("nightly run already done", organization_id=org_id, run_date=str(run_date))
        return done
    organization = org_store.get(org_id) or {}
    basis = RatingBasis(organization.get("settings", {}).get("ratingBasis", RatingBasis.PAID))
    in_flight_days = OrganizationSettings.model_validate(organization.get("settings") or {}).payment_in_flight_days
    drift = []
    broken = 0
    expired = 0
    unplaced = customer_store.unplaced_customers(org_id)  # written before the name-ordered index (GSI3)
    placed = sum(customer_store.place_in_name_order(org_id, c["id"], c["name"]) for c in unplaced)
    customers = customer_store.list_customers(org_id)
    for summary in customers:
        customer = customer_store.get_customer(org_id, summary["id"], consistent=True)
        if customer is None:
            continue
        records = ledger_store.ledger_of(org_id, customer["id"])  # read once: the steps below share it
        found = reconcile_customer(org_id, customer, records)
        if found:
            drift.append(found)
            logger.error("balance drift corrected", organization_id=org_id, **found)
        invoices = records["invoice"]
        # a drift corrected moved the customer's ledger version: the rating reads it again
        ratings.refresh(org_id, customer["id"], basis, read=None if found else (customer, invoices))
        broken += disputes_and_promises.expire_promises(org_id, customer["id"], run_date, invoices)
        expired += online_payments.expire_in_flight(org_id, customer["id"], run_date, in_flight_days, invoices)
    metrics.add_metric(name="BalanceDrift", unit=MetricUnit.Count, value=len(drift))
    snapshots = analytics.take_snapshots(org_id)  # after the ratings and balances are put right
    digests = send_weekly_digests(org_id)  # a Monday night's, once per person and week
    report = {
        "status": "done",
        "customers": len(customers),
        "drift": drift,
        "brokenPromises": broken,
        "paymentsInFlightExpired": expired,
        "placedInNameOrder": placed,
        "analyticsSnapshots": snapshots,
        "weeklyDigests": digests,
        "finishedAt": clock.now().isoformat(),
    }
    nightly_runs.put_run(org_id, run_date.isoformat(), report)
    return report
