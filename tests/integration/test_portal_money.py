"""Money on the portal through the local runtime: Stripe's units, what Stripe refuses, payments that
never arrive, promises without end, and what the page says about it (in the customer's language)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from relance import clock
from relance.storage import keys
from relance.storage.records import under_prefix
from tests.integration.conftest import mailing_runtime
from tests.integration.test_mail_loop import new_user, notifications_of
from tests.integration.test_portal import (
    checkout,
    customer_with_invoices,
    events_on_timeline,
    invoice_of,
    link_of,
    payable_ids,
    payments_of,
)

CARD_ONLY = {"card": True, "bank_transfer": False, "ach_debit": False}


@pytest.fixture(scope="module")
def rt():
    with mailing_runtime(time_scale=1) as started:
        yield started


def checkouts_of(rt, customer_id: str) -> list[dict]:
    org = rt.session["organization"]["id"]
    return [c for c in under_prefix(keys.checkout(org, "")) if c["customerId"] == customer_id]


def session_of(rt, page_url: str) -> dict:
    return rt.stripe.sessions[page_url.rsplit("/", 1)[1]]


def pay(url: str, invoice_ids: list[str]) -> requests.Response:
    return requests.post(f"{url}/pay", data={"invoiceIds": invoice_ids}, allow_redirects=False)


def settings(rt) -> dict:
    return rt.api_session.get(f"{rt.base_url}/v1/organization").json()["settings"]


# ---------------------------------------------------------------- 1. Stripe's units


def test_a_100000_huf_invoice_is_charged_100000_huf_and_recorded_in_full(rt):
    customer, [invoice] = customer_with_invoices(rt, "Budapest Kft", [100_000], currency="HUF", methods=CARD_ONLY)
    page_url = checkout(link_of(rt, customer["id"]), [invoice["id"]])

    session = session_of(rt, page_url)
    assert (session["currency"], session["amount_total"]) == ("huf", 10_000_000)  # two decimals for Stripe
    assert "HUF100,000" in requests.get(page_url).text
    requests.post(page_url, data={"method": "card"})

    [payment] = payments_of(rt, customer["id"])
    assert (payment["amount"], payment["currency"]) == (100_000, "HUF")
    assert invoice_of(rt, invoice["id"])["status"] == "paid"


def test_a_three_decimal_amount_is_charged_rounded_up_to_ten_and_the_rest_stays_unapplied(rt):
    customer, [invoice] = customer_with_invoices(rt, "Kuwait Trading", [5_125], currency="KWD", methods=CARD_ONLY)
    page_url = checkout(link_of(rt, customer["id"]), [invoice["id"]])

    assert session_of(rt, page_url)["amount_total"] == 5_130  # Stripe: the last digit is 0
    requests.post(page_url, data={"method": "card"})

    [payment] = payments_of(rt, customer["id"])
    assert (payment["amount"], payment["allocations"][0]["amount"], payment["unapplied"]) == (5_130, 5_125, 5)
    assert invoice_of(rt, invoice["id"])["status"] == "paid"


@pytest.mark.parametrize(("change", "label"), [({"amount_total": 150}, "amount"), ({"currency": "eur"}, "currency")])
def test_an_event_not_matching_its_checkout_records_nothing_logs_and_tells_the_team(rt, caplog, change, label):
    manager = new_user(rt, f"am-mismatch-{label}@relance.example", "Mia Match")
    customer, [invoice] = customer_with_invoices(
        rt, f"Mismatch {label}", [15_000], methods=CARD_ONLY, accountManagerIds=[manager["id"]]
    )
    page_url = checkout(link_of(rt, customer["id"]), [invoice["id"]])
    session = session_of(rt, page_url)

    delivery = rt.stripe.send("checkout.session.completed", {**session, **change, "payment_status": "paid"})

    assert delivery["status"] == 200 and "mismatch" in delivery["response"]
    assert not payments_of(rt, customer["id"])
    assert invoice_of(rt, invoice["id"])["status"] == "open"
    assert [c["status"] for c in checkouts_of(rt, customer["id"])] == ["mismatch"]
    assert "payment_mismatch" in events_on_timeline(rt, customer["id"])
    assert "payment_mismatch" in {n["kind"] for n in notifications_of(rt, manager["id"])["items"]}
    assert [r.levelname for r in caplog.records if r.getMessage() == "portal payment does not match its checkout"] == [
        "ERROR"
    ]
    # The genuine event that follows cannot record it either: the checkout is closed.
    requests.post(page_url, data={"method": "card"})
    assert not payments_of(rt, customer["id"])


def test_a_currency_stripe_cannot_charge_gets_a_clear_page_and_nothing_written(rt):
    customer, [invoice] = customer_with_invoices(rt, "Tehran Rial", [500_000], currency="IRR")
    url = link_of(rt, customer["id"])

    refused = pay(url, [invoice["id"]])

    assert refused.status_code == 422
    assert "Online payment in IRR is not available: please pay by bank transfer." in refused.text
    assert "Ways to pay in IRR" not in requests.get(url).text
    assert not checkouts_of(rt, customer["id"])


# ---------------------------------------------------------------- 2. what Stripe would refuse


def test_below_stripes_minimum_is_refused_with_the_minimum_and_nothing_written(rt):
    customer, [invoice] = customer_with_invoices(rt, "Tiny Sums", [30], methods=CARD_ONLY)
    sessions = len(rt.stripe.sessions)

    refused = pay(link_of(rt, customer["id"]), [invoice["id"]])

    assert refused.status_code == 422
    assert "An online payment is at least $0.50: select more invoices, or pay by bank transfer." in refused.text
    assert not checkouts_of(rt, customer["id"]) and len(rt.stripe.sessions) == sessions


def test_above_stripes_maximum_is_refused_with_the_maximum_and_nothing_written(rt):
    customer, [invoice] = customer_with_invoices(
        rt, "Huge Sums", [100_000_000], methods={"card": False, "bank_transfer": True, "ach_debit": True}
    )

    refused = pay(link_of(rt, customer["id"]), [invoice["id"]])

    assert refused.status_code == 422
    assert "An online payment is at most $999,999.99" in refused.text
    assert not checkouts_of(rt, customer["id"])


def test_more_than_50_invoices_at_once_are_refused_before_any_is_read(rt):
    customer, _ = customer_with_invoices(rt, "Many Sums", [1_000])

    refused = pay(link_of(rt, customer["id"]), [f"inv_{n}" for n in range(51)])

    assert refused.status_code == 422
    assert "Please pay at most 50 invoices at once." in refused.text
    assert not checkouts_of(rt, customer["id"])


def test_a_checkout_stripe_refuses_gets_a_page_and_leaves_no_checkout(rt):
    customer, [invoice] = customer_with_invoices(rt, "Refused Sums", [2_000], methods=CARD_ONLY)
    rt.stripe.refuse_next("Amount must convert to at least 50 cents.")

    refused = pay(link_of(rt, customer["id"]), [invoice["id"]])

    assert refused.status_code == 422
    assert "Online payment could not be started for these invoices" in refused.text
    assert not checkouts_of(rt, customer["id"])
    assert payable_ids(refused.text) == [invoice["id"]]


def test_a_stripe_outage_gets_a_page_and_leaves_the_checkout_failed_not_open(rt):
    customer, [invoice] = customer_with_invoices(rt, "Outage Sums", [2_000], methods=CARD_ONLY)
    url = link_of(rt, customer["id"])
    checkout(url, [invoice["id"]])  # the Stripe customer exists: the outage hits the session
    rt.stripe.refuse_next("An error occurred with our connection to Stripe.", status=503, times=3)

    refused = pay(url, [invoice["id"]])

    assert refused.status_code == 503
    assert "Online payment is not available right now" in refused.text
    statuses = sorted(c["status"] for c in checkouts_of(rt, customer["id"]))
    assert statuses == ["failed", "open"]  # the first checkout is open at Stripe; the failed one dangles nowhere
    assert checkout(url, [invoice["id"]])  # and paying works again once Stripe answers


# ---------------------------------------------------------------- 3. a payment that never arrives


def test_a_payment_on_its_way_too_long_goes_back_to_dunning_and_still_counts_if_it_arrives(rt):
    manager = new_user(rt, "am-flight@relance.example", "Fay Flight")
    customer, [invoice] = customer_with_invoices(
        rt,
        "Never Sent",
        [4_000],
        methods={"card": False, "bank_transfer": False, "ach_debit": True},
        accountManagerIds=[manager["id"]],
    )
    url = link_of(rt, customer["id"], expiresInDays=30)
    page_url = checkout(url, [invoice["id"]])
    requests.post(page_url, data={"method": "us_bank_account"})
    assert invoice_of(rt, invoice["id"])["paymentInFlight"]

    clock.advance(timedelta(days=13))  # the organization's paymentInFlightDays: 14 by default
    assert invoice_of(rt, invoice["id"])["paymentInFlight"]  # within its days: still held

    clock.advance(timedelta(days=3))
    assert not invoice_of(rt, invoice["id"])["paymentInFlight"]
    assert payable_ids(requests.get(url).text) == [invoice["id"]]
    assert "payment_in_flight_expired" in events_on_timeline(rt, customer["id"])
    assert "payment_in_flight_expired" in {n["kind"] for n in notifications_of(rt, manager["id"])["items"]}

    requests.post(f"{page_url}/settle", data={"outcome": "succeeded"})  # the bank is late, not wrong
    assert invoice_of(rt, invoice["id"])["status"] == "paid"
    assert len(payments_of(rt, customer["id"])) == 1


def test_the_days_a_payment_may_take_are_a_bounded_organization_setting(rt):
    api, url = rt.api_session, f"{rt.base_url}/v1/organization/settings"
    before = settings(rt)
    assert before["paymentInFlightDays"] == 14
    try:
        for days in (6, 61, "soon"):
            refused = api.put(url, json={**before, "paymentInFlightDays": days})
            assert refused.status_code == 422 and "paymentInFlightDays" in refused.json()["error"]["fields"]
        assert settings(rt) == before
        saved = api.put(url, json={**before, "paymentInFlightDays": 30})
        assert saved.status_code == 200 and saved.json()["settings"]["paymentInFlightDays"] == 30
    finally:
        api.put(url, json=before)


# ---------------------------------------------------------------- 4. promises without end


def promise(url: str, invoice_id: str, days: int) -> requests.Response:
    by = (clock.now() + timedelta(days=days)).date().isoformat()
    return requests.post(f"{url}/promise", data={"invoiceIds": [invoice_id], "promisedFor": by})


def test_a_customer_promises_once_per_invoice_until_the_team_clears_it(rt):
    customer, [invoice, other] = customer_with_invoices(rt, "Promises Promises", [1_000, 2_000])
    url = link_of(rt, customer["id"], expiresInDays=30)
    reset = f"{rt.base_url}/v1/invoices/{invoice['id']}/reset-promise"

    assert promise(url, invoice["id"], 2).status_code == 200
    promised = invoice_of(rt, invoice["id"])["promisedUntil"]
    again = promise(url, invoice["id"], 20)

    assert again.status_code == 409
    assert f"Invoice PRO-1 is already promised for {promised}" not in again.text  # said as a day, not a date
    assert "Invoice PRO-1 is already promised for" in again.text and "please write to us" in again.text
    assert invoice_of(rt, invoice["id"])["promisedUntil"] == promised
    both = requests.post(
        f"{url}/promise",
        data={"invoiceIds": [other["id"], invoice["id"]], "promisedFor": promised},
    )
    assert both.status_code == 409 and invoice_of(rt, other["id"])["promisedUntil"] is None  # all or none

    clock.advance(timedelta(days=4))  # the promise is broken
    broken = invoice_of(rt, invoice["id"])
    assert (broken["promisedUntil"], broken["promiseBroken"], broken["promiseCount"]) == (None, promised, 1)
    after_broken = promise(url, invoice["id"], 5)

    assert after_broken.status_code == 409
    assert "You already promised to pay invoice PRO-1: please write to us to agree on a new date." in after_broken.text
    assert invoice_of(rt, invoice["id"])["promisedUntil"] is None

    cleared = rt.api_session.post(reset, json={"comment": "agreed on the phone"})

    assert cleared.status_code == 200
    assert (cleared.json()["promiseBroken"], cleared.json()["promiseCount"]) == (None, 0)
    assert "promise_reset" in events_on_timeline(rt, customer["id"])
    assert promise(url, invoice["id"], 5).status_code == 200
    assert rt.api_session.post(f"{rt.base_url}/v1/invoices/{other['id']}/reset-promise", json={}).status_code == 409


def test_a_promise_refused_is_said_in_french_to_a_french_customer(rt):
    customer, [invoice] = customer_with_invoices(rt, "Promesses SARL", [1_000], currency="EUR", language="fr")
    url = link_of(rt, customer["id"])
    promise(url, invoice["id"], 2)

    again = promise(url, invoice["id"], 3)

    assert again.status_code == 409
    assert "La facture PRO-1 est déjà promise pour le" in again.text
    assert "Vous pouvez promettre une fois par facture" in again.text


# ---------------------------------------------------------------- 28. the hint when no method is left


@pytest.mark.parametrize(
    ("language", "hint"),
    [
        ("en", "No online payment method for this amount: pay fewer invoices at once by card, or by bank transfer."),
        ("fr", "payez moins de factures à la fois par carte, ou par virement."),
    ],
)
def test_no_online_payment_method_shows_the_hint_in_the_customers_language(rt, language, hint):
    customer, [invoice] = customer_with_invoices(
        rt, f"Big Card {language}", [1_500_000], currency="EUR", language=language, methods=CARD_ONLY
    )

    refused = pay(link_of(rt, customer["id"]), [invoice["id"]])

    assert refused.status_code == 422
    assert hint in refused.text
    assert not checkouts_of(rt, customer["id"])
