"""The portal's rules: which payment methods are offered, the statement, promises and their dates."""

from datetime import UTC, date, datetime

import pytest

from relance.domain import tokens
from relance.domain.customers import PaymentMethods
from relance.domain.portal import (
    PROMISE_RUNNING,
    PROMISE_USED,
    Method,
    PortalRefused,
    check_promise_allowed,
    check_promise_date,
    in_flight_expired,
    link_open,
    payment_methods,
    promise_broken,
    statement,
    under_promise,
)
from relance.errors import Invalid
from relance.ids import new_id

TODAY = date(2026, 11, 23)
EVERYTHING = PaymentMethods(card=True, bank_transfer=True, ach_debit=True, sepa_debit=True)


# ---------------------------------------------------------------- tokens


def test_a_portal_token_carries_more_than_128_bits_and_its_organization():
    org = new_id("org")
    plaintext, stored = tokens.generate("pt", org)

    parsed = tokens.parse("pt", plaintext)

    assert parsed == (org, stored)
    secret = plaintext.removeprefix(f"pt_{org}_")
    assert len(secret) * 6 >= 128 and secret not in stored  # url-safe base64: 6 bits a character


def test_forged_or_foreign_tokens_do_not_parse():
    org = new_id("org")
    plaintext, _ = tokens.generate("pt", org)

    assert tokens.parse("pt", plaintext[:-1]) is None
    assert tokens.parse("pt", plaintext.replace("pt_", "rk_")) is None  # an API key is not a portal token
    assert tokens.parse("rk", plaintext) is None
    assert tokens.parse("pt", "pt_" + org) is None


def test_a_link_works_until_its_expiry_and_not_a_moment_after():
    expires = "2026-11-30T08:00:00+00:00"

    assert link_open(expires, datetime(2026, 11, 30, 7, 59, 59, tzinfo=UTC))
    assert not link_open(expires, datetime(2026, 11, 30, 8, 0, 0, tzinfo=UTC))
    assert not link_open(expires, datetime(2027, 1, 1, tzinfo=UTC))


def test_each_link_gets_its_own_token():
    org = new_id("org")
    assert len({tokens.generate("pt", org)[0] for _ in range(100)}) == 100


# ---------------------------------------------------------------- payment methods


def test_card_is_offered_up_to_the_limit_and_not_above():
    assert Method.CARD in payment_methods(EVERYTHING, "USD", 1_000_000, card_limit=1_000_000)
    assert Method.CARD not in payment_methods(EVERYTHING, "USD", 1_000_001, card_limit=1_000_000)


def test_without_a_limit_card_takes_any_amount():
    assert Method.CARD in payment_methods(EVERYTHING, "USD", 10**12, card_limit=None)


def test_only_the_methods_enabled_for_the_customer_are_offered():
    only_transfer = PaymentMethods(card=False, bank_transfer=True, ach_debit=False)

    assert payment_methods(only_transfer, "USD", 100, card_limit=None) == [Method.BANK_TRANSFER]


def test_debits_are_offered_in_their_own_currency_only():
    assert payment_methods(EVERYTHING, "USD", 100, None) == [Method.CARD, Method.ACH_DEBIT, Method.BANK_TRANSFER]
    assert payment_methods(EVERYTHING, "EUR", 100, None) == [Method.CARD, Method.SEPA_DEBIT, Method.BANK_TRANSFER]
    assert payment_methods(EVERYTHING, "CHF", 100, None) == [Method.CARD]


def test_no_method_is_offered_in_a_currency_stripe_does_not_charge():
    assert payment_methods(EVERYTHING, "IRR", 100, None) == []


def test_a_large_amount_with_card_only_has_no_way_to_pay_online():
    card_only = PaymentMethods(card=True, bank_transfer=False, ach_debit=False)

    assert payment_methods(card_only, "USD", 2_000_000, card_limit=1_000_000) == []


# ---------------------------------------------------------------- the statement


def invoice(number, amount, due, paid=0, status="open", currency="USD"):
    return {
        "id": f"inv_{number}",
        "number": number,
        "amount": amount,
        "paidAmount": paid,
        "creditedAmount": 0,
        "currency": currency,
        "status": status,
        "issuedAt": "2026-01-01",
        "dueAt": due,
    }


def test_statement_lists_open_items_with_aging_and_a_balance_net_of_credits():
    invoices = [
        invoice("A", 10_000, "2026-12-01"),  # not due
        invoice("B", 20_000, "2026-11-13", paid=5_000),  # 10 days late, 15,000 open
        invoice("C", 30_000, "2026-08-01"),  # 114 days late
        invoice("D", 40_000, "2026-07-01", paid=40_000, status="paid"),
    ]
    money = [
        {"id": "pay_1", "kind": "payment", "currency": "USD", "unapplied": 2_500, "receivedAt": "2026-11-01"},
        {"id": "crn_1", "kind": "credit_note", "currency": "USD", "unapplied": 1_000, "issuedAt": "2026-10-01"},
        {"id": "pay_2", "kind": "payment", "currency": "USD", "unapplied": 0, "receivedAt": "2026-10-01"},
    ]
    refunds = [{"currency": "USD", "amount": 500}, {"currency": "USD", "amount": 300, "creditNoteId": "crn_1"}]

    [usd] = statement(invoices, money, refunds, TODAY)

    assert [line.number for line in usd.lines] == ["C", "B", "A"]  # oldest due first
    assert usd.open_total == 55_000
    assert usd.credit_total == 3_000  # 2,500 + 1,000 − the 500 refunded from the payment
    assert usd.balance == 52_000
    assert usd.overdue == 45_000
    assert (usd.aging.not_due, usd.aging.days_1_to_30, usd.aging.over_90) == (10_000, 15_000, 30_000)


def test_statement_keeps_currencies_apart():
    parts = statement([invoice("A", 100, "2026-12-01"), invoice("B", 200, "2026-12-01", currency="EUR")], [], [], TODAY)

    assert [(p.currency, p.balance) for p in parts] == [("EUR", 200), ("USD", 100)]


# ---------------------------------------------------------------- promises


def test_a_promise_holds_through_its_day_and_is_broken_the_day_after():
    promised = {**invoice("A", 100, "2026-11-01"), "promisedUntil": "2026-11-30"}

    assert under_promise(promised, date(2026, 11, 30)) and not promise_broken(promised, date(2026, 11, 30))
    assert not under_promise(promised, date(2026, 12, 1)) and promise_broken(promised, date(2026, 12, 1))


def test_a_paid_invoice_never_breaks_its_promise():
    paid = {**invoice("A", 100, "2026-11-01", paid=100, status="paid"), "promisedUntil": "2026-11-01"}

    assert not promise_broken(paid, TODAY)


@pytest.mark.parametrize(("day", "field_message"), [(date(2026, 11, 22), "past"), (date(2027, 3, 1), "90 days")])
def test_a_promise_is_for_today_up_to_90_days_ahead(day, field_message):
    check_promise_date(TODAY, TODAY)
    with pytest.raises(Invalid) as refused:
        check_promise_date(day, TODAY)
    assert field_message in refused.value.fields["promisedFor"]


def test_a_customer_promises_once_per_invoice():
    fresh = invoice("A", 100, "2026-11-01")

    check_promise_allowed(fresh, TODAY)
    for used in (
        {**fresh, "promisedUntil": "2026-11-30", "promiseCount": 1},  # running
        {**fresh, "promisedUntil": "2026-11-23"},  # running through today, made before promises were counted
    ):
        with pytest.raises(PortalRefused) as refused:
            check_promise_allowed(used, TODAY)
        assert (refused.value.text, refused.value.status) == (PROMISE_RUNNING, 409)
        assert "invoiceIds" in refused.value.fields
    for used in (
        {**fresh, "promiseBroken": "2026-11-20", "promiseCount": 1},  # broken
        {**fresh, "promiseCount": 1},  # made, then its date cleared
    ):
        with pytest.raises(PortalRefused) as refused:
            check_promise_allowed(used, TODAY)
        assert refused.value.text == PROMISE_USED and "invoice A" in refused.value.fields["invoiceIds"]


def test_a_payment_on_its_way_holds_its_days_and_not_a_day_more():
    since = date(2026, 11, 1)

    assert not in_flight_expired(since, date(2026, 11, 15), 14)
    assert in_flight_expired(since, date(2026, 11, 16), 14)
