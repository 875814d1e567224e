"""The local Stripe stand-in speaks Stripe: its signatures pass the stripe library's check."""

import stripe

from local.stripe import form_to_params, signature_header


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
