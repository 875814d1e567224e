"""The analytics API on the demo organization: its figures agree with the raw ledger, an account
manager's cover only their customers, bad parameters are named, and CSV says what JSON says.

Expectations are recomputed here from the stored items, with the clock the runtime uses, so the
tests hold on any day.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from relance import clock
from relance.domain.ledger import PaymentFields
from relance.domain.organizations import Principal
from relance.services import analytics
from relance.services.analytics import AnalyticsFilter
from relance.services.ledger import record_payment
from relance.services.online_payments import payment_id
from relance.services.organizations import get_organization
from relance.storage import checkouts as checkout_store
from relance.storage import customers as customer_store
from relance.storage import ledger as ledger_store
from relance.storage.users import list_users

from .web import admin


@pytest.fixture
def api(demo) -> requests.Session:
    session = requests.Session()
    session.headers["X-Api-Key"] = demo.session["apiKey"]
    return session


@pytest.fixture
def get(demo, api):
    def call(path: str, status: int = 200, **params: Any) -> Any:
        response = api.get(f"{demo.base_url}/v1/analytics/{path}", params=params)
        assert response.status_code == status, response.text
        return response.json() if "json" in response.headers["Content-Type"] else response.text

    return call


def managers(demo) -> list[str]:
    """The demo's account managers' user ids."""
    users = list_users(demo.session["organization"]["id"])
    return sorted(u["id"] for u in users if u.get("role") == "account_manager")


def as_manager(demo, user_id: str) -> Principal:
    org = demo.session["organization"]["id"]
    return Principal(organization_id=org, role="account_manager", principal_id=f"user:{user_id}", user_id=user_id)


def today_of(demo) -> date:
    """Today in the organization's time zone, on the runtime's clock."""
    zone = get_organization(demo.session["organization"]["id"]).settings.timezone
    return clock.now().astimezone(ZoneInfo(zone)).date()


def bucket(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "notDue"
    if days_past_due <= 30:
        return "days1To30"
    if days_past_due <= 60:
        return "days31To60"
    return "days61To90" if days_past_due <= 90 else "over90"


def raw_aging(org: str, day: date, customer_ids: set[str] | None = None) -> dict[tuple[str, str], int]:
    """(currency, bucket) → what the invoices owed at the end of ``day``: amount less the allocations of
    payments and credit notes dated on or before it; voided invoices and later issues left out."""
    applied: dict[str, int] = {}
    for kind, dated in (("payment", "receivedAt"), ("credit_note", "issuedAt")):
        for record in ledger_store.records_of_organization(org, kind):
            if date.fromisoformat(record[dated]) <= day:
                for allocation in record.get("allocations", []):
                    applied[allocation["invoiceId"]] = applied.get(allocation["invoiceId"], 0) + allocation["amount"]
    totals: dict[tuple[str, str], int] = {}
    for invoice in ledger_store.invoices_of_organization(org):
        if invoice["status"] == "voided" or date.fromisoformat(invoice["issuedAt"]) > day:
            continue
        if customer_ids is not None and invoice["customerId"] not in customer_ids:
            continue
        owed = int(invoice["amount"]) - applied.get(invoice["id"], 0)
        if owed > 0:
            key = (invoice["currency"], bucket((day - date.fromisoformat(invoice["dueAt"])).days))
            totals[key] = totals.get(key, 0) + owed
    return totals


def answered_aging(items: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    names = ("notDue", "days1To30", "days31To60", "days61To90", "over90")
    return {(row["currency"], name): row[name] for row in items for name in names if row[name]}


def test_aging_as_of_today_is_the_raw_ledger_by_days_past_due(demo, get):
    today = today_of(demo)

    report = get("aging")

    assert report["items"] and report["asOf"] == today.isoformat()
    assert answered_aging(report["items"]) == raw_aging(demo.session["organization"]["id"], today)
    assert all(round(sum(row[k] for k in row if k.endswith("Percent")), 1) == 100.0 for row in report["items"])


def test_aging_as_of_a_past_day_leaves_out_what_was_paid_or_issued_after_it(demo, get):
    day = date.fromordinal(today_of(demo).toordinal() - 45)

    report = get("aging", asOf=day.isoformat())

    assert answered_aging(report["items"]) == raw_aging(demo.session["organization"]["id"], day)


def test_filters_keep_a_currency_and_an_account_managers_customers(demo, get):
    org = demo.session["organization"]["id"]
    manager = managers(demo)[0]
    mine = {c["id"] for c in customer_store.list_customers(org) if manager in c.get("accountManagerIds", [])}
    everything = raw_aging(org, today_of(demo), mine)

    report = get("aging", currency="EUR", accountManagerId=manager)

    assert report["items"] and answered_aging(report["items"]) == {k: v for k, v in everything.items() if k[0] == "EUR"}


def test_collected_per_month_is_the_payments_received_in_each_month(demo, get):
    org = demo.session["organization"]["id"]
    today = today_of(demo)
    first = date(today.year - 1, today.month, 1)
    expected: dict[tuple[str, str], int] = {}
    for payment in ledger_store.records_of_organization(org, "payment"):
        received = date.fromisoformat(payment["receivedAt"])
        if first <= received <= today:
            key = (received.replace(day=1).isoformat(), payment["currency"])
            expected[key] = expected.get(key, 0) + int(payment["amount"])

    report = get("collected", period="month", **{"from": first.isoformat(), "to": today.isoformat()})

    assert {(r["start"], r["currency"]): r["total"] for r in report["items"] if r["total"]} == expected
    assert all(r["online"] + r["recorded"] == r["total"] for r in report["items"])
    assert sorted({r["start"] for r in report["items"]})[0] == first.isoformat()


def test_the_payment_of_a_paid_portal_checkout_is_collected_online(demo, get):
    org = demo.session["organization"]["id"]
    today = today_of(demo)
    customer = customer_store.list_customers(org)[0]
    checkout_id = f"chk_{uuid.uuid4().hex}"
    before = get("collected", period="day", currency=customer["currency"], **{"from": today.isoformat()})["items"]
    checkout_store.create(org, {"id": checkout_id, "customerId": customer["id"], "status": "paid"})
    fields = PaymentFields(customer_id=customer["id"], amount=1234, currency=customer["currency"], received_at=today)
    record_payment(admin(demo), fields, payment_id(checkout_id))

    after = get("collected", period="day", currency=customer["currency"], **{"from": today.isoformat()})["items"]

    online_before = before[0]["online"] if before else 0
    assert [(r["start"], r["online"] - online_before) for r in after] == [(today.isoformat(), 1234)]
    assert after[0]["recorded"] == (before[0]["recorded"] if before else 0)


def test_an_account_managers_figures_cover_only_their_customers(demo):
    org = demo.session["organization"]["id"]
    manager = managers(demo)[0]
    me = as_manager(demo, manager)
    mine = {c["id"] for c in customer_store.list_customers(org) if manager in c.get("accountManagerIds", [])}
    today = today_of(demo)

    theirs = analytics.aging(me, AnalyticsFilter())
    everyone = analytics.aging(admin(demo), AnalyticsFilter())

    expected = raw_aging(org, today, mine)
    assert expected and answered_aging([r.model_dump(by_alias=True) for r in theirs.items]) == expected
    assert sum(expected.values()) < sum(r.total for r in everyone.items)


def test_an_account_manager_cannot_widen_their_figures_with_a_filter(demo):
    first, second = managers(demo)[:2]
    me = as_manager(demo, first)

    mine = analytics.books(me, AnalyticsFilter()).customers
    seen = analytics.books(me, AnalyticsFilter(account_manager_id=second)).customers

    assert mine and all(first in c["accountManagerIds"] for c in mine.values())
    assert set(seen) <= set(mine) and all(second in c["accountManagerIds"] for c in seen.values())


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("aging", {"asOf": "2026-02-30"}, "asOf"),
        ("aging", {"by": "colour"}, "by"),
        ("aging", {"currency": "euro"}, "currency"),
        ("dso", {"month": "2026-13"}, "month"),
        ("collected", {"period": "year"}, "period"),
        ("collected", {"from": "2026-05-01", "to": "2026-04-01"}, "from"),
        ("summary", {"format": "xml"}, "format"),
        ("summary", {"customField": "no-colon"}, "customField"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(get, path, params, field):
    error = get(path, 422, **params)["error"]

    assert error["code"] == "validation_error"
    assert field in error["fields"]


@pytest.mark.parametrize("path", ["summary", "aging", "dso", "at-risk", "collected", "ratings", "forecast"])
def test_csv_says_what_json_says(get, path):
    items = get(path)["items"]

    lines = list(csv.DictReader(io.StringIO(get(path, format="csv"))))

    assert lines == [{k: "" if v is None else str(v) for k, v in row.items()} for row in items]


def test_dso_and_forecast_cover_12_months_and_13_weeks_in_the_organizations_time_zone(demo, get):
    today = today_of(demo)
    monday = date.fromordinal(today.toordinal() - today.weekday())

    dso = get("dso")
    forecast = get("forecast")

    assert dso["lastMonth"] == today.strftime("%Y-%m") and len({r["month"] for r in dso["items"]}) == 12
    assert all(r["countbackDays"] >= 0 for r in dso["items"])
    weeks = sorted({r["weekStart"] for r in forecast["items"] if r["kind"] == "week"})
    assert forecast["firstWeek"] == weeks[0] == monday.isoformat() and len(weeks) == 13
    assert len({r["weekStart"] for r in forecast["accuracy"]}) <= 13


def test_the_emails_not_delivered_list_still_answers(get):
    assert "items" in get("emails-not-delivered")
