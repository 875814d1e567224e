"""Exchange rates entered, imported, listed and deleted (services.exchange_rates on the table)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from relance.errors import Forbidden, Invalid, NotFound
from relance.services import exchange_rates
from relance.services.exchange_rates import RateFields
from relance.storage import exchange_rates as store


def _today(organization):
    return exchange_rates.today(organization.settings)


def test_an_entered_rate_is_kept_into_the_organizations_currency(organization, admin):
    day = _today(organization).isoformat()

    rate = exchange_rates.enter_rate(admin, "eur", day, RateFields(rate="1.08430"))

    assert (rate.currency, rate.date.isoformat(), rate.rate, rate.into) == ("EUR", day, "1.08430", "USD")
    [stored] = store.rates_of(organization.id)
    assert stored["rate"] == "1.08430" and stored["into"] == "USD"
    assert stored["source"] == "entered" and stored["enteredBy"] == admin.principal_id


def test_an_account_manager_enters_no_rate(organization, manager):
    with pytest.raises(Forbidden):
        exchange_rates.enter_rate(manager, "EUR", _today(organization).isoformat(), RateFields(rate="1.1"))

    assert store.rates_of(organization.id) == []


def test_a_rate_after_today_or_of_the_organizations_currency_is_refused_naming_each(organization, admin):
    tomorrow = (_today(organization) + timedelta(days=1)).isoformat()

    with pytest.raises(Invalid) as refused:
        exchange_rates.enter_rate(admin, "USD", tomorrow, RateFields(rate="1"))

    assert set(refused.value.fields) == {"currency", "date"}
    assert store.rates_of(organization.id) == []


def test_an_import_with_a_line_at_fault_writes_nothing(organization, admin):
    day = _today(organization).isoformat()
    text = f"currency,date,rate\nEUR,{day},1.08\nGBP,{day},-1\n"

    with pytest.raises(Invalid) as refused:
        exchange_rates.import_rates(admin, text)

    assert list(refused.value.fields) == ["line 3, rate"]
    assert store.rates_of(organization.id) == []


def test_an_imported_rate_replaces_the_rate_of_that_day(organization, admin):
    today = _today(organization)
    yesterday = today - timedelta(days=1)
    exchange_rates.enter_rate(admin, "EUR", today.isoformat(), RateFields(rate="1.05"))

    imported = exchange_rates.import_rates(
        admin, f"rate,currency,date\n1.08,EUR,{today.isoformat()}\n0.86,gbp,{yesterday.isoformat()}\n"
    )

    assert (imported.imported, imported.currencies) == (2, ["EUR", "GBP"])
    assert (imported.first_date, imported.last_date) == (yesterday, today)
    listed = exchange_rates.list_rates(admin)
    assert [(r.currency, r.date, r.rate, r.source) for r in listed] == [
        ("EUR", today, "1.08", "import"),
        ("GBP", yesterday, "0.86", "import"),
    ]


def test_rates_are_listed_by_currency_newest_first(organization, admin):
    today = _today(organization)
    days = [today - timedelta(days=n) for n in (2, 0, 1)]
    for day in days:
        exchange_rates.enter_rate(admin, "GBP", day.isoformat(), RateFields(rate="0.85"))
    exchange_rates.enter_rate(admin, "EUR", days[0].isoformat(), RateFields(rate="1.1"))

    listed = exchange_rates.list_rates(admin)

    assert [(r.currency, r.date) for r in listed] == [("EUR", days[0])] + [("GBP", d) for d in sorted(days)[::-1]]
    assert [r.currency for r in exchange_rates.list_rates(admin, "EUR")] == ["EUR"]


def test_a_deleted_rate_is_gone_and_deleting_it_again_is_not_found(organization, admin):
    day = _today(organization).isoformat()
    exchange_rates.enter_rate(admin, "EUR", day, RateFields(rate="1.1"))

    exchange_rates.delete_rate(admin, "eur", day)

    assert store.rates_of(organization.id) == []
    with pytest.raises(NotFound):
        exchange_rates.delete_rate(admin, "EUR", day)
