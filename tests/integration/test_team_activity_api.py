"""Team activity per account manager through the API, on the demo organization: every line equals a
recomputation from the raw records (customers, invoices, payments, credit notes, actions) made here,
an account manager gets their own line only, and CSV says what JSON says.

Days are the organization's (Europe/Paris in the demo), "today" from the runtime's clock, so the tests
hold on any day and at any hour.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from relance import clock
from relance.domain.organizations import Principal
from relance.services import team_activity
from relance.services.analytics import AnalyticsFilter
from relance.services.organizations import get_organization
from relance.storage import actions as action_store
from relance.storage import customers as customer_store
from relance.storage import ledger as ledger_store
from relance.storage.users import list_users

from .helpers import eventually

COUNTS = ("manualDone", "manualSkipped", "manualOverdue", "automaticSent")


@pytest.fixture
def get(demo) -> Callable[..., Any]:
    session = requests.Session()
    session.headers["X-Api-Key"] = demo.session["apiKey"]

    def call(status: int = 200, **params: Any) -> Any:
        response = session.get(f"{demo.base_url}/v1/analytics/team", params=params)
        assert response.status_code == status, response.text
        return response.json() if "json" in response.headers["Content-Type"] else response.text

    return call


def org_of(demo) -> str:
    return demo.session["organization"]["id"]


def zone_of(demo) -> ZoneInfo:
    return ZoneInfo(get_organization(org_of(demo)).settings.timezone)


def today_of(demo) -> date:
    return clock.now().astimezone(zone_of(demo)).date()


def managers(demo) -> list[str]:
    return sorted(u["id"] for u in list_users(org_of(demo)) if u.get("role") == "account_manager")


def as_manager(demo, user_id: str) -> Principal:
    return Principal(
        organization_id=org_of(demo), role="account_manager", principal_id=f"user:{user_id}", user_id=user_id
    )


def noon(day: date, zone: ZoneInfo) -> str:
    """Midday of the organization's ``day``, stored as actions store times (UTC, with its offset)."""
    return datetime.combine(day, time(12), zone).astimezone(ZoneInfo("UTC")).isoformat()


def raw_team(org: str, first: date, last: date, zone: ZoneInfo, visible: set[str] | None = None) -> dict[str, Any]:
    """Per person (a user id, None for nobody): ``money`` (currency → overdueHeld, collected) and the
    counts, straight from the stored items; only the customers in ``visible`` (default: all)."""
    customers = {c["id"]: c for c in customer_store.list_customers(org) if visible is None or c["id"] in visible}
    persons = {cid: c.get("accountManagerIds") or [None] for cid, c in customers.items()}
    people: dict[str | None, dict[str, Any]] = {}

    def person(who: str | None) -> dict[str, Any]:
        return people.setdefault(who, {"money": {}, **dict.fromkeys(COUNTS, 0)})

    def add_money(who: str | None, currency: str, what: str, amount: int) -> None:
        line = person(who)["money"].setdefault(currency, {"overdueHeld": 0, "collected": 0})
        line[what] += amount

    def day(stamp: str | None) -> date | None:
        return datetime.fromisoformat(stamp).astimezone(zone).date() if stamp else None

    applied: dict[str, int] = {}
    for kind, dated in (("payment", "receivedAt"), ("credit_note", "issuedAt")):
        for record in ledger_store.records_of_organization(org, kind):
            if date.fromisoformat(record[dated]) <= last:
                for allocation in record.get("allocations", []):
                    applied[allocation["invoiceId"]] = applied.get(allocation["invoiceId"], 0) + allocation["amount"]
    for invoice in ledger_store.invoices_of_organization(org):
        if invoice["customerId"] not in customers or invoice["status"] == "voided":
            continue
        if date.fromisoformat(invoice["issuedAt"]) > last or date.fromisoformat(invoice["dueAt"]) >= last:
            continue
        owed = int(invoice["amount"]) - applied.get(invoice["id"], 0)
        for who in persons[invoice["customerId"]] if owed > 0 else []:
            add_money(who, invoice["currency"], "overdueHeld", owed)
    for payment in ledger_store.records_of_organization(org, "payment"):
        if payment["customerId"] in customers and first <= date.fromisoformat(payment["receivedAt"]) <= last:
            for who in persons[payment["customerId"]]:
                add_money(who, payment["currency"], "collected", int(payment["amount"]))
    for action in action_store.actions_of_organization(org):
        if action["customerId"] not in customers or str(action.get("owner", "")).startswith("apikey:"):
            continue
        owners = [action["owner"]] if action.get("owner") else persons[action["customerId"]]
        if action["type"] in ("task", "call"):
            closed = day(action.get("closedAt"))
            if action["status"] in ("done", "skipped") and closed and first <= closed <= last:
                for who in owners:
                    person(who)["manualDone" if action["status"] == "done" else "manualSkipped"] += 1
            late = action["status"] in ("planned", "open") or (
                action["status"] in ("done", "skipped") and closed is not None and closed > last
            )
            if late and day(action["scheduledAt"]) < last:  # type: ignore[operator]
                for who in owners:
                    person(who)["manualOverdue"] += 1
            continue
        performed = day(action.get("performedAt"))
        went = action["status"] in ("sent", "to_post") and performed and first <= performed <= last
        if went and action.get("manual"):
            for who in owners:
                person(who)["manualDone"] += 1
        elif went:
            for who in persons[action["customerId"]]:
                person(who)["automaticSent"] += 1
    return people


def answered(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The API's lines in ``raw_team``'s shape (zero amounts left out)."""
    people: dict[str | None, dict[str, Any]] = {}
    for line in items:
        who = people.setdefault(line["accountManagerId"], {"money": {}, **{k: line[k] for k in COUNTS}})
        assert all(who[k] == line[k] for k in COUNTS)  # the counts repeat on each currency line
        if line["overdueHeld"] or line["collected"]:
            who["money"][line["currency"]] = {"overdueHeld": line["overdueHeld"], "collected": line["collected"]}
    return people


def nothing() -> dict[str, int]:
    return dict.fromkeys(COUNTS, 0)


def without_empty(people: dict[str, Any]) -> dict[str, Any]:
    return {who: figures for who, figures in people.items() if figures["money"] or any(figures[k] for k in COUNTS)}


def write_action(org: str, customer_id: str, kind: str, status: str, **fields: Any) -> str:
    """An action item as the services store it (the records the figures are recomputed from)."""
    action_id = f"act_{uuid.uuid4().hex}"
    item = {"id": action_id, "customerId": customer_id, "type": kind, "status": status, "invoiceIds": [], **fields}
    assert action_store.create_if_absent(org, {"workflowId": None, "stepId": "s", "cycle": 0, **item})
    return action_id


def test_each_line_is_the_raw_records_of_the_month_so_far(demo, get):
    org, zone, today = org_of(demo), zone_of(demo), today_of(demo)
    manager = managers(demo)[-1]
    customer = next(c for c in customer_store.list_customers(org) if c.get("accountManagerIds") == [manager])
    now, days_ago = clock.now().isoformat(), noon(today - timedelta(days=3), zone)
    write_action(org, customer["id"], "call", "open", owner=manager, scheduledAt=days_ago, performedAt=days_ago)
    write_action(org, customer["id"], "task", "done", owner=manager, scheduledAt=now, closedAt=now)
    write_action(org, customer["id"], "email", "sent", scheduledAt=now, performedAt=now)

    def settled() -> dict[str, Any] | None:
        report = get()
        expected = raw_team(org, today.replace(day=1), today, zone)
        return report if without_empty(answered(report["items"])) == without_empty(expected) else None

    report = eventually(settled, what="the team's figures settle on the raw records")

    assert report["from"] == today.replace(day=1).isoformat() and report["to"] == today.isoformat()
    people = answered(report["items"])
    assert set(managers(demo)) | {None} <= set(people)
    assert all(people[manager][k] >= 1 for k in ("manualDone", "manualOverdue", "automaticSent"))
    assert {line["name"] for line in report["items"] if line["accountManagerId"] is None} == {"Nobody assigned"}


def test_what_a_manager_did_over_a_past_range_is_counted_once_each(demo, get):
    org, zone, today = org_of(demo), zone_of(demo), today_of(demo)
    manager = managers(demo)[0]
    customer = next(c for c in customer_store.list_customers(org) if c.get("accountManagerIds") == [manager])
    first, last = today - timedelta(days=70), today - timedelta(days=40)
    window = {"from": first.isoformat(), "to": last.isoformat()}
    before = answered(get(**window)["items"])[manager]
    write_action(
        org, customer["id"], "call", "done", owner=manager, scheduledAt=noon(last, zone), closedAt=noon(last, zone)
    )
    write_action(
        org, customer["id"], "task", "skipped", owner=manager, scheduledAt=noon(first, zone), closedAt=noon(first, zone)
    )
    late = last - timedelta(days=3)  # closed after the range: overdue at its end
    write_action(
        org, customer["id"], "task", "done", owner=manager, scheduledAt=noon(late, zone), closedAt=noon(today, zone)
    )
    write_action(org, customer["id"], "email", "sent", scheduledAt=noon(last, zone), performedAt=noon(last, zone))
    write_action(
        org,
        customer["id"],
        "email",
        "sent",
        manual=True,
        owner="apikey:zapier",
        scheduledAt=noon(last, zone),
        performedAt=noon(last, zone),
    )  # an integration's email: no person's
    write_action(
        org,
        customer["id"],
        "email",
        "sent",
        scheduledAt=noon(first, zone),
        performedAt=noon(first - timedelta(days=1), zone),
    )

    report = get(**window)

    after = answered(report["items"])
    assert {k: after[manager][k] - before[k] for k in COUNTS} == {
        "manualDone": 1,
        "manualSkipped": 1,
        "manualOverdue": 1,
        "automaticSent": 1,
    }
    assert without_empty(after) == without_empty(raw_team(org, first, last, zone))


def test_an_account_manager_gets_their_own_line_for_their_customers_only(demo):
    org, zone, today = org_of(demo), zone_of(demo), today_of(demo)
    mine, other = managers(demo)[:2]
    theirs = {c["id"] for c in customer_store.list_customers(org) if mine in c.get("accountManagerIds", [])}
    admin = next(u["id"] for u in list_users(org) if u.get("role") == "admin")
    now = clock.now().isoformat()
    write_action(org, sorted(theirs)[0], "task", "done", owner=mine, scheduledAt=now, closedAt=now)
    write_action(org, sorted(theirs)[0], "task", "done", owner=admin, scheduledAt=now, closedAt=now)  # not their line

    def own() -> list[dict[str, Any]] | None:
        report = team_activity.team(as_manager(demo, mine), AnalyticsFilter(), None, None)
        lines = [line.model_dump(by_alias=True) for line in report.items]
        expected = raw_team(org, today.replace(day=1), today, zone, theirs).get(mine, {"money": {}, **nothing()})
        return lines if answered(lines) == {mine: expected} else None

    lines = eventually(own, what="the manager's figures settle on the raw records")
    widened = team_activity.team(as_manager(demo, mine), AnalyticsFilter(account_manager_id=other), None, None)

    assert lines and {line["accountManagerId"] for line in lines} == {mine}
    assert all(line["manualDone"] >= 1 for line in lines)
    assert widened.items == []


def test_the_nobody_line_alone_with_account_manager_none(get):
    report = get(accountManagerId="none")

    assert report["items"] and {(line["accountManagerId"], line["name"]) for line in report["items"]} == {
        (None, "Nobody assigned")
    }


def test_a_currency_keeps_its_lines(demo, get):
    currency = next(line["currency"] for line in get()["items"])

    report = get(currency=currency)

    assert {line["currency"] for line in report["items"]} == {currency}


def test_csv_says_what_json_says(get):
    items = get()["items"]

    lines = list(csv.DictReader(io.StringIO(get(format="csv"))))

    assert lines == [{k: "" if v is None else str(v) for k, v in row.items()} for row in items]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2001-05-01", "to": "2001-04-01"}, "from"),
        ({"from": "2001-02-30"}, "from"),
        ({"from": "2001-01-01", "to": "2005-01-01"}, "from"),
        ({"currency": "euro"}, "currency"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(get, params, field):
    error = get(422, **params)["error"]

    assert error["code"] == "validation_error" and field in error["fields"]


def test_a_range_ending_after_today_is_refused_naming_to(demo, get):
    tomorrow = today_of(demo) + timedelta(days=1)

    error = get(422, to=tomorrow.isoformat())["error"]

    assert "to" in error["fields"]
