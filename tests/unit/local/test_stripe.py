"""The local Stripe stand-in speaks Stripe: its signatures pass the stripe library's check."""

import pytest
import stripe

from local.stripe import _check_amounts, form_to_params, signature_header, stripe_money


def test_local_webhook_signatures_verify_with_the_stripe_library():
    payload = '{"id": "evt_1", "type": "checkout.session.completed"}'

    header = signature_header(payload, "whsec_local")

    assert stripe.WebhookSignature.verify_header(payload, header, "whsec_local", tolerance=300)


def test_form_encoded_parameters_come_back_nested():
    pairs = [
        ("mode", "payment"),
        ("line_items[0][quantity]", "1"),
        ("line_items[0][price_data][currency]", "usd"),
        ("line_items[1][price_data][unit_amount]", "500"),
        ("payment_method_types[0]", "card"),
        ("payment_method_types[1]", "us_bank_account"),
        ("metadata[checkoutId]", "chk_1"),
    ]

    params = form_to_params(pairs)

    assert params["mode"] == "payment"
    assert params["line_items"][0] == {"quantity": "1", "price_data": {"currency": "usd"}}
    assert params["line_items"][1]["price_data"]["unit_amount"] == "500"
    assert params["payment_method_types"] == ["card", "us_bank_account"]
    assert params["metadata"] == {"checkoutId": "chk_1"}


def test_the_stand_in_counts_in_stripes_units():
    assert stripe_money(10_000_000, "huf") == "HUF100,000"  # two decimals for Stripe
    assert stripe_money(5_130, "kwd") == "KWD5.130"
    assert stripe_money(5_000, "jpy") == "¥5,000"


@pytest.mark.parametrize(
    ("currency", "amount", "says"),
    [
        ("kwd", 5_125, "not a valid amount"),  # three decimals: the last digit must be 0
        ("isk", 550, "not a valid amount"),  # ISK: whole krónur only
        ("usd", 49, "at least"),
        ("usd", 100_000_000, "no more than"),
        ("irr", 1_000, "Invalid currency"),
    ],
)
def test_the_stand_in_refuses_what_stripe_refuses(currency, amount, says):
    with pytest.raises(ValueError, match=says):
        _check_amounts([{"amount": amount, "currency": currency}])
