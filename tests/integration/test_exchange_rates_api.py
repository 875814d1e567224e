"""Exchange rates through the local runtime's API: an admin enters, lists, deletes and imports them
(a CSV all or nothing), a bad value is a 422 naming its field or line, account managers only read;
the analytics summary converts with the latest rate on or before the day, as recomputed by hand here.

Dates are counted back from the runtime's today in the organization's time zone: any day holds.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from relance import clock
from relance.services.organizations import get_organization
from relance.storage import exchange_rates as rate_store
from relance.storage import keys
from relance.storage.records import get
from tests.integration.helpers import ok
from tests.integration.test_account_manager_scope import signed_in


@pytest.fixture
def url(runtime):
    return lambda path: f"{runtime.base_url}/v1{path}"


def org_of(runtime) -> str:
    return str(runtime.session["organization"]["id"])


def today_of(runtime) -> date:
    zone = get_organization(org_of(runtime)).settings.timezone
    return clock.now().astimezone(ZoneInfo(zone)).date()


def days_ago(runtime, days: int) -> str:
    return (today_of(runtime) - timedelta(days=days)).isoformat()


def stored(runtime, currency: str | None = None) -> list[dict[str, Any]]:
    return rate_store.rates_of(org_of(runtime), currency)


def import_csv(api: requests.Session, url: Any, text: str) -> requests.Response:
    return api.post(url("/exchange-rates/import"), data=text.encode(), headers={"Content-Type": "text/csv"})


def test_an_admin_enters_lists_and_deletes_a_rate(runtime, api, url):
    day = days_ago(runtime, 3)

    entered = api.put(url(f"/exchange-rates/CHF/{day}"), json={"rate": "1.1342"})

    assert entered.status_code == 200, entered.text
    assert entered.json()["rate"] == "1.1342" and entered.json()["into"] == "USD"
    item = get(keys.exchange_rate(org_of(runtime), "CHF", day))
    assert item is not None and (item["rate"], item["into"], item["source"]) == ("1.1342", "USD", "entered")
    replaced = ok(api.put(url(f"/exchange-rates/CHF/{day}"), json={"rate": "1.1350"}))
    assert replaced["rate"] == "1.1350" and [r["rate"] for r in stored(runtime, "CHF")] == ["1.1350"]
    ok(api.put(url(f"/exchange-rates/CHF/{days_ago(runtime, 1)}"), json={"rate": "1.1400"}))

    listed = ok(api.get(url("/exchange-rates"), params={"currency": "CHF"}))["items"]
    assert [(r["date"], r["rate"]) for r in listed] == [(days_ago(runtime, 1), "1.1400"), (day, "1.1350")]

    assert api.delete(url(f"/exchange-rates/CHF/{day}")).status_code == 204
    assert get(keys.exchange_rate(org_of(runtime), "CHF", day)) is None
    again = api.delete(url(f"/exchange-rates/CHF/{day}"))
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("currency", "day", "body", "field"),
    [
        ("XYZ", 1, {"rate": "1.1"}, "currency"),
        ("USD", 1, {"rate": "1.1"}, "currency"),  # the organization's own
        ("SEK", None, {"rate": "1.1"}, "date"),  # not a date
        ("SEK", -1, {"rate": "1.1"}, "date"),  # tomorrow
        ("SEK", 1, {"rate": "-1.1"}, "rate"),
        ("SEK", 1, {"rate": "0"}, "rate"),
        ("SEK", 1, {"rate": 1.08}, "rate"),  # a JSON number: rates are decimal strings
        ("SEK", 1, {"rate": "0.12345678901"}, "rate"),  # 11 decimal places
        ("SEK", 1, {}, "rate"),
    ],
)
def test_a_bad_rate_is_a_422_naming_its_field_and_nothing_is_stored(runtime, api, url, currency, day, body, field):
    when = "2026-02-30" if day is None else days_ago(runtime, day)

    refused = api.put(url(f"/exchange-rates/{currency}/{when}"), json=body)

    assert refused.status_code == 422, refused.text
    assert field in refused.json()["error"]["fields"]
    assert stored(runtime, currency) == []


def test_account_managers_read_rates_but_only_admins_change_them(runtime, api, url):
    _, manager = signed_in(runtime)
    day = days_ago(runtime, 2)
    ok(api.put(url(f"/exchange-rates/NOK/{day}"), json={"rate": "0.0950"}))

    listed = manager.get(url("/exchange-rates"), params={"currency": "NOK"})
    attempts = [
        manager.put(url(f"/exchange-rates/NOK/{day}"), json={"rate": "1"}),
        manager.delete(url(f"/exchange-rates/NOK/{day}")),
        import_csv(manager, url, f"currency,date,rate\nNOK,{day},2\n"),
    ]

    assert listed.status_code == 200 and [r["rate"] for r in listed.json()["items"]] == ["0.0950"]
    assert [a.status_code for a in attempts] == [403, 403, 403], [a.text for a in attempts]
    assert [r["rate"] for r in stored(runtime, "NOK")] == ["0.0950"]


def test_an_import_writes_every_rate_or_none(runtime, api, url):
    good = [f"DKK,{days_ago(runtime, d)},0.14{d}" for d in (5, 4, 3)]
    bad = "\n".join(["currency,date,rate", *good, f"PLN,{days_ago(runtime, 2)},0,25", "PLN,yesterday,0.25"])

    refused = import_csv(api, url, bad)

    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["fields"] == {
        "line 5": "3 values expected, found 4",
        "line 6, date": "a date, YYYY-MM-DD",
    }
    assert stored(runtime, "DKK") == [] and stored(runtime, "PLN") == []

    imported = import_csv(api, url, "\n".join(["Currency,Date,Rate", *good]) + "\n")

    assert imported.status_code == 200, imported.text
    assert imported.json() == {
        "imported": 3,
        "currencies": ["DKK"],
        "firstDate": days_ago(runtime, 5),
        "lastDate": days_ago(runtime, 3),
    }
    assert [(r["date"], r["rate"], r["source"]) for r in stored(runtime, "DKK")] == [
        (days_ago(runtime, d), f"0.14{d}", "import") for d in (5, 4, 3)
    ]


def test_the_summary_converts_each_currency_at_its_latest_rate_on_or_before_the_day(runtime, api, url):
    """A USD organization; as of two days ago (amounts in cents):

    | currency | overdue | due | rate used (its day) | overdue in USD | due in USD | outstanding in USD |
    |---|---|---|---|---|---|---|
    | USD | 1,000.00 | 0 | 1 | 1,000.00 | 0 | 1,000.00 |
    | EUR | 2,000.00 | 500.50 | 1.0843 (3 days ago; yesterday's 1.2000 is too late) | 2,168.60 | 542.69 | 2,711.29 |
    | GBP | 300.00 | 0 | 1.2650 (3 days ago) | 379.50 | 0 | 379.50 |
    | JPY | 12,345 | 0 | none, then 0.0067 (2 days ago) | 82.71 | 0 | 82.71 |

    Without the JPY rate there is no total; with it: overdue 3,630.81, due 542.69, outstanding 4,173.50.
    """
    as_of = days_ago(runtime, 2)
    ledger = {"USD": [(100000, 60, 30)], "EUR": [(200000, 60, 30), (50050, 5, -25)], "GBP": [(30000, 40, 10)]}
    ledger["JPY"] = [(12345, 50, 20)]
    for currency, invoices in ledger.items():
        customer = ok(api.post(url("/customers"), json={"name": f"{currency} buyer", "currency": currency}))
        for number, (amount, issued, due) in enumerate(invoices):
            body = {
                "customerId": customer["id"],
                "number": f"{currency}-{number}",
                "currency": currency,
                "amount": amount,
                "issuedAt": days_ago(runtime, issued),
                "dueAt": days_ago(runtime, due),
            }
            ok(api.post(url("/invoices"), json=body))
    rates = [("EUR", 10, "1.0800"), ("EUR", 3, "1.0843"), ("EUR", 1, "1.2000"), ("GBP", 3, "1.2650")]
    for currency, days, rate in rates:
        ok(api.put(url(f"/exchange-rates/{currency}/{days_ago(runtime, days)}"), json={"rate": rate}))

    partial = ok(api.get(url("/analytics/summary"), params={"asOf": as_of}))

    conversion = partial["conversion"]
    assert partial["converted"] is False and conversion["complete"] is False
    assert conversion["missing"] == ["JPY"] and conversion["outstanding"] is None and conversion["overdue"] is None
    rows = {r["currency"]: r for r in conversion["items"]}
    assert (rows["EUR"]["rate"], rows["EUR"]["rateDate"]) == ("1.0843", days_ago(runtime, 3))
    assert (rows["EUR"]["overdue"], rows["EUR"]["due"], rows["EUR"]["outstanding"]) == (216860, 54269, 271129)
    assert (rows["GBP"]["rate"], rows["GBP"]["outstanding"]) == ("1.2650", 37950)
    assert (rows["JPY"]["rate"], rows["JPY"]["rateDate"], rows["JPY"]["outstanding"]) == (None, None, None)

    ok(api.put(url(f"/exchange-rates/JPY/{as_of}"), json={"rate": "0.0067"}))
    whole = ok(api.get(url("/analytics/summary"), params={"asOf": as_of}))

    conversion = whole["conversion"]
    assert whole["converted"] is True and conversion["missing"] == []
    assert (conversion["overdue"], conversion["due"], conversion["outstanding"]) == (363081, 54269, 417350)
    assert {r["currency"]: r["rateDate"] for r in conversion["items"]} == {
        "EUR": days_ago(runtime, 3),
        "GBP": days_ago(runtime, 3),
        "JPY": as_of,
        "USD": as_of,
    }
