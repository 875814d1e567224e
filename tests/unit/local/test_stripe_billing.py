"""The local Stripe Billing stand-in answers as Stripe does: lists newest first and paged both ways,
events kept 30 days, idempotent writes, Stripe's errors; and the same account number seeds the same company."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from local.stripe_billing import RateLimited, StripeAccount, StripeError
from relance import clock


def account(number: int = 1) -> StripeAccount:
    made = StripeAccount(number, "Northwind Software")
    made.seed()
    return made


def get(made: StripeAccount, path: str, **params: Any) -> Any:
    return made.api("GET", path, params, None)


def test_the_same_account_number_seeds_the_same_company():
    first, again, other = account(1), account(1), account(2)

    ids = [c["id"] for c in get(first, "/v1/customers", limit="100")["data"]]

    assert ids == [c["id"] for c in get(again, "/v1/customers", limit="100")["data"]]
    assert (first.api_key, first.webhook_secret) == (again.api_key, again.webhook_secret)
    assert set(ids).isdisjoint(c["id"] for c in get(other, "/v1/customers", limit="100")["data"])
    assert len(ids) == 11


def test_lists_are_newest_first_and_page_after_and_before_an_object():
    made = account()
    everything = get(made, "/v1/invoices", limit="100")["data"]

    first = get(made, "/v1/invoices", limit="10")
    following = get(made, "/v1/invoices", limit="10", starting_after=first["data"][-1]["id"])
    before = get(made, "/v1/invoices", limit="3", ending_before=following["data"][0]["id"])

    assert [i["created"] for i in everything] == sorted((i["created"] for i in everything), reverse=True)
    assert first["has_more"] and first["data"] == everything[:10]
    assert following["data"] == everything[10:20]
    assert before["data"] == everything[7:10]  # the three just before, newest first
    assert before["has_more"]


def test_events_are_filtered_by_type_and_time_and_kept_thirty_days():
    made = account()
    made.new_invoice()
    clock.configure(time_scale=1.0, start=clock.now() + timedelta(days=31))
    try:
        made.new_invoice()
        events = get(made, "/v1/events", limit="100", types=["invoice.finalized"])["data"]
    finally:
        clock.reset()

    assert len(events) == 1  # the first invoice's events are older than Stripe keeps
    assert events[0]["data"]["object"]["object"] == "invoice"


def test_an_invoice_expands_its_payments_only_when_asked():
    made = account()
    paid = next(i for i in get(made, "/v1/invoices", limit="100")["data"] if i["status"] == "paid")

    plain = get(made, f"/v1/invoices/{paid['id']}")
    expanded = get(made, f"/v1/invoices/{paid['id']}", expand=["payments"])

    assert "payments" not in plain
    assert expanded["payments"]["data"][0]["invoice"] == paid["id"]


def test_paying_out_of_band_twice_with_one_key_pays_once():
    made = account()
    invoice = made.new_invoice(amount=50_000)

    first = made.api("POST", f"/v1/invoices/{invoice['id']}/pay", {"paid_out_of_band": "true"}, "pay_1")
    again = made.api("POST", f"/v1/invoices/{invoice['id']}/pay", {"paid_out_of_band": "true"}, "pay_1")

    assert first == again
    assert (first["status"], first["amount_paid"], first["amount_remaining"]) == ("paid", 50_000, 0)
    with pytest.raises(StripeError, match="already paid"):
        made.api("POST", f"/v1/invoices/{invoice['id']}/pay", {"paid_out_of_band": "true"}, "pay_2")


def test_a_payment_record_attached_pays_part_of_the_invoice():
    made = account()
    invoice = made.new_invoice(amount=50_000)
    record = made.api(
        "POST",
        "/v1/payment_records/report_payment",
        {"amount_requested": {"currency": "usd", "value": "20000"}, "initiated_at": "1790000000"},
        "rec_1",
    )

    attached = made.api(
        "POST", f"/v1/invoices/{invoice['id']}/attach_payment", {"payment_record": record["id"]}, "attach_1"
    )

    assert (attached["status"], attached["amount_paid"], attached["amount_remaining"]) == ("open", 20_000, 30_000)


def test_refusals_are_stripes():
    made = account()
    made.refuse_next(2, retry_after=3)

    for _ in range(2):
        with pytest.raises(RateLimited) as limited:
            get(made, "/v1/customers")
        assert limited.value.retry_after == 3
    assert get(made, "/v1/customers")["object"] == "list"
    with pytest.raises(StripeError) as missing:
        get(made, "/v1/invoices/in_nothing")
    assert (missing.value.status, missing.value.code) == (404, "resource_missing")
    made.read_only = True
    with pytest.raises(StripeError) as forbidden:
        made.api("POST", "/v1/invoices/in_x/pay", {"paid_out_of_band": "true"}, None)
    assert forbidden.value.status == 403


def test_a_deleted_customer_is_listed_no_more_and_read_as_deleted():
    made = account()
    gone = made.delete_customer()

    assert gone["id"] not in [c["id"] for c in get(made, "/v1/customers", limit="100")["data"]]
    assert get(made, f"/v1/customers/{gone['id']}") == {"id": gone["id"], "object": "customer", "deleted": True}
