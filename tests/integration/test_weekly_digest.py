"""The weekly digest through the local runtime: opted in on the profile (web app and API), sent by the
nightly run whose date in the organization's time zone is a Monday, once per person and week, each
person seeing only their customers.

Whatever day the suite runs, time passes to the next such night: the ledger is dated from the week
that night closes (Monday ``first`` to Sunday ``first + 6``). Amounts in euros:

- Mine Ltd (the account manager's): €1,000 due on Tuesday, unpaid: overdue 0 → €1,000.
- Others Ltd (nobody's): €3,000 due 10 days before the week, €500 of it paid on Wednesday; €2,000
  due on Thursday: overdue €3,000 → €2,500 + €2,000 = €4,500 (grew by €1,500).

The admin's digest: outstanding and overdue €5,500, collected €500, Others Ltd then Mine Ltd
slipping. The account manager's: €1,000, €1,000, €0, Mine Ltd alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance import clock
from relance.domain.organizations import Principal
from relance.domain.users import UserFields
from relance.services import users
from relance.services.digest import send_weekly_digests
from relance.services.nightly import run_for_organization
from relance.storage import digests as digest_store
from relance.storage import keys
from relance.storage.records import get
from relance.storage.table import table
from tests.integration.conftest import mailing_runtime
from tests.integration.helpers import TIMEZONE, eventually, jump, nightly_run_of, ok, outbox
from tests.integration.web import Browser

PASSWORD = "Relance-Test-1"
SUBJECT = "your week in receivables"


@pytest.fixture(scope="module")
def digests() -> Iterator[LocalRuntime]:
    with mailing_runtime() as started:
        yield started


def _admin(runtime: LocalRuntime) -> Principal:
    return Principal(organization_id=runtime.session["organization"]["id"], role="admin", principal_id="test")


def _person(runtime: LocalRuntime, email: str, name: str, role: str) -> dict[str, Any]:
    created = users.create_user(_admin(runtime), UserFields(email=email, name=name, role=role), password=PASSWORD)
    return created.model_dump(mode="json", by_alias=True)


def next_monday_night(after: datetime) -> tuple[date, datetime, date]:
    """The first nightly run after ``after`` whose date in the organization's time zone is a Monday:
    its run date, its moment and that Monday."""
    day = after.date()
    while True:
        moment = nightly_run_of(day)
        local = moment.astimezone(ZoneInfo(TIMEZONE)).date()
        if moment > after and local.weekday() == 0:
            return day, moment, local
        day += timedelta(days=1)


def digests_to(runtime: LocalRuntime, email: str) -> list[dict[str, Any]]:
    return [m for m in outbox(runtime, email) if SUBJECT in m["subject"]]


@pytest.fixture(scope="module")
def monday(digests: LocalRuntime) -> dict[str, Any]:
    """The people and the ledger, then time passes to the next Monday night."""
    api, base = digests.api_session, f"{digests.base_url}/v1"
    admin = _person(digests, "ada.admin@digest.example", "Ada Admin", "admin")
    manager = _person(digests, "marc.manager@digest.example", "Marc Manager", "account_manager")
    quiet = _person(digests, "nina.quiet@digest.example", "Nina Quiet", "account_manager")
    opted = [ok(api.patch(f"{base}/users/{p['id']}", json={"weeklyDigest": True})) for p in (admin, manager)]

    run_date, moment, local_monday = next_monday_night(clock.now())
    first = local_monday - timedelta(days=7)

    def day(offset: int) -> str:
        return str(first + timedelta(days=offset))

    def customer(name: str, managers: list[str]) -> str:
        body = {"name": name, "currency": "EUR", "accountManagerIds": managers}
        return str(ok(api.post(f"{base}/customers", json=body), 201)["id"])

    def invoice(customer_id: str, number: str, amount: int, issued: int, due: int) -> str:
        body = {
            "customerId": customer_id,
            "number": number,
            "currency": "EUR",
            "amount": amount,
            "issuedAt": day(issued),
            "dueAt": day(due),
        }
        return str(ok(api.post(f"{base}/invoices", json=body), 201)["id"])

    mine = customer("Mine Ltd", [manager["id"], quiet["id"]])
    others = customer("Others Ltd", [])
    invoice(mine, "M-1", 100000, -30, 1)
    late = invoice(others, "O-1", 300000, -40, -10)
    invoice(others, "O-2", 200000, -20, 3)
    payment = {
        "customerId": others,
        "amount": 50000,
        "currency": "EUR",
        "receivedAt": day(2),
        "allocations": [{"invoiceId": late, "amount": 50000}],
    }
    ok(api.post(f"{base}/payments", json=payment), 201)

    jump(digests, moment + timedelta(minutes=1) - clock.now())
    org = digests.session["organization"]["id"]
    report = eventually(lambda: (get(keys.nightly_run(org, run_date.isoformat()), consistent=True) or {}).get("status"))
    return {
        "org": org,
        "admin": admin,
        "manager": manager,
        "quiet": quiet,
        "opted": opted,
        "runDate": run_date,
        "moment": moment,
        "first": first,
        "report": report,
    }


def test_the_api_opts_a_person_in_and_refuses_to_clear_it(digests, monday):
    api, base = digests.api_session, f"{digests.base_url}/v1"

    cleared = api.patch(f"{base}/users/{monday['quiet']['id']}", json={"weeklyDigest": None})

    assert [p["weeklyDigest"] for p in monday["opted"]] == [True, True]
    assert ok(api.get(f"{base}/users/{monday['quiet']['id']}"))["weeklyDigest"] is False  # off by default
    assert cleared.status_code == 422 and "weeklyDigest" in cleared.json()["error"]["fields"]


def test_the_admin_gets_one_digest_of_the_whole_organization(digests, monday):
    [email] = digests_to(digests, "ada.admin@digest.example")
    stored = digest_store.get_digest(monday["org"], monday["first"].isoformat(), monday["admin"]["id"])

    assert email["subject"].startswith(f"{digests.session['organization']['name']}: {SUBJECT}")
    assert "for all customers" in email["text"]
    assert "- Outstanding: €5,500.00\n- Overdue: €5,500.00\n- Collected this week: €500.00" in email["text"]
    assert "- Others Ltd: €4,500.00 overdue, up €1,500.00" in email["text"]
    assert "- Mine Ltd: €1,000.00 overdue, up €1,000.00" in email["text"]
    assert email["text"].index("Others Ltd") < email["text"].index("Mine Ltd")
    assert f"Open Analytics: {digests.base_url}/analytics" in email["text"]
    assert stored is not None and stored["status"] == "sent"


def test_the_account_manager_s_digest_covers_only_their_customers(digests, monday):
    [email] = digests_to(digests, "marc.manager@digest.example")

    assert "for your customers" in email["text"]
    assert "- Outstanding: €1,000.00\n- Overdue: €1,000.00\n- Collected this week: €0.00" in email["text"]
    assert "- Mine Ltd: €1,000.00 overdue, up €1,000.00" in email["text"]
    assert "Others Ltd" not in email["text"] and "Others Ltd" not in email["html"]


def test_a_person_who_did_not_opt_in_gets_none(digests, monday):
    assert digests_to(digests, "nina.quiet@digest.example") == []
    assert digest_store.get_digest(monday["org"], monday["first"].isoformat(), monday["quiet"]["id"]) is None


def test_the_night_run_again_sends_nothing_more(digests, monday):
    org, run_date = monday["org"], monday["runDate"]
    before = requests.get(f"{digests.base_url}/dev/outbox", timeout=10).json()

    again = send_weekly_digests(org, at=monday["moment"])
    table().delete_item(Key=keys.nightly_run(org, run_date.isoformat()))  # as if the night had stopped half-way
    rerun = run_for_organization(org, run_date)

    assert monday["report"] == "done"
    assert (again, rerun["weeklyDigests"]) == (0, 0)
    assert requests.get(f"{digests.base_url}/dev/outbox", timeout=10).json() == before


def test_no_other_night_of_the_week_sends_a_digest(digests, monday):
    before = requests.get(f"{digests.base_url}/dev/outbox", timeout=10).json()

    sent = [send_weekly_digests(monday["org"], at=monday["moment"] + timedelta(days=n)) for n in range(1, 7)]

    assert sent == [0] * 6
    assert requests.get(f"{digests.base_url}/dev/outbox", timeout=10).json() == before


def test_a_person_ticks_and_unticks_the_weekly_digest_on_their_profile(digests):
    person = _person(digests, "paul.profile@digest.example", "Paul Profile", "account_manager")
    browser = Browser(digests.base_url)
    browser.sign_in(person["email"], PASSWORD, "/profile")

    def save(**extra: str) -> requests.Response:
        page = browser.get("/profile")
        fields = {"csrf": browser.csrf(page), "name": "Paul Profile", "initials": "PP", "signature": "", **extra}
        return browser.post("/profile", {**fields, "notificationChannels": ["in_app"]}, follow=False)

    ticked = save(weeklyDigest="on")
    shown = BeautifulSoup(browser.get("/profile").text, "html.parser").select_one("#f-weeklyDigest")
    on = users.get_user(_admin(digests), person["id"]).weekly_digest
    unticked = save()
    off = users.get_user(_admin(digests), person["id"]).weekly_digest

    assert [ticked.status_code, unticked.status_code] == [303, 303]
    assert shown is not None and shown.has_attr("checked")
    assert (on, off) == (True, False)
