"""Stripe: Checkout sessions for portal payments, and the signature check of its webhooks.

The API key and the webhook signing secret are one JSON secret in Secrets Manager
(``{"apiKey": "sk_…", "webhookSecret": "whsec_…"}``, ``StripeSecret`` in template.yaml), read
through Powertools parameters and cached for five minutes. An empty ``apiKey`` turns online
payment off. Locally the same secret lives in moto and ``STRIPE_API_BASE`` points the client at
the local runtime's Stripe stand-in.

Amounts given to this module are already in Stripe's units (``relance.domain.stripe_amounts``).
A request Stripe refuses (an invalid request: 400, 402, 404) is ``StripeRefused``; one Stripe
could not answer (network, 5xx, rate limit, a wrong API key) is ``StripeUnavailable``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from aws_lambda_powertools.utilities import parameters

from relance.aws import client
from relance.errors import RelanceError
from relance.observability import logger
from relance.settings import get_settings

T = TypeVar("T")

SECRET_MAX_AGE = 300
SIGNATURE_TOLERANCE = 300  # seconds, Stripe's default


@dataclass(frozen=True)
class Credentials:
    api_key: str
    webhook_secret: str


class PaymentsUnavailable(Exception):
    """Online payment is not configured (no Stripe API key)."""


class StripeRefused(Exception):
    """Stripe refused the request as invalid (e.g. an amount below the minimum of the account's
    settlement currency); the message is Stripe's."""


class StripeUnavailable(Exception):
    """Stripe did not answer the request (network, outage, rate limit, or a key it does not accept)."""


@contextmanager
def _stripe_errors() -> Iterator[None]:
    """Stripe's exceptions as ours: refused (the request) or unavailable (Stripe)."""
    import stripe

    try:
        yield
    except (stripe.InvalidRequestError, stripe.CardError) as error:
        logger.warning("Stripe refused the request", stripe_message=error.user_message, stripe_code=error.code)
        raise StripeRefused(str(error.user_message or error)) from error
    except stripe.StripeError as error:
        logger.error("Stripe is unavailable", stripe_message=error.user_message, http_status=error.http_status)
        raise StripeUnavailable(str(error.user_message or error)) from error


def _call(request: Callable[[], T]) -> T:
    with _stripe_errors():
        return request()


class BadSignature(RelanceError):
    """A webhook request Stripe did not sign (400, so Stripe's dashboard shows the refusal)."""

    code = "invalid_signature"


@cache
def _secrets(secretsmanager: Any) -> parameters.SecretsProvider:
    """One provider (and so one cache) per client: a new endpoint gets a new client."""
    return parameters.SecretsProvider(boto3_client=secretsmanager)


def credentials() -> Credentials:
    """The Stripe secret's values (cached for five minutes); empty strings where unset."""
    arn = get_settings().stripe_secret_arn
    if not arn:
        return Credentials("", "")
    values: Any = _secrets(client("secretsmanager")).get(arn, transform="json", max_age=SECRET_MAX_AGE)
    return Credentials(str(values.get("apiKey") or ""), str(values.get("webhookSecret") or ""))


def enabled() -> bool:
    return bool(credentials().api_key)


def _client() -> Any:
    import stripe  # heavy: only the functions that pay import it

    api_key = credentials().api_key
    if not api_key:
        raise PaymentsUnavailable("no Stripe API key is configured")
    base = get_settings().stripe_api_base
    return stripe.StripeClient(api_key, base_addresses={"api": base} if base else None, max_network_retries=2)


def create_customer(name: str, email: str | None, metadata: dict[str, str]) -> str:
    """A Stripe customer for one of ours (bank transfers credit a customer balance); its id."""
    params: dict[str, Any] = {"name": name, "metadata": metadata}
    if email:
        params["email"] = email
    client = _client()
    return str(_call(lambda: client.v1.customers.create(params=params)).id)


@dataclass(frozen=True)
class CheckoutLine:
    name: str
    amount: int  # in Stripe's units of the currency


def create_checkout(
    *,
    reference: str,
    currency: str,
    lines: list[CheckoutLine],
    payment_method_types: list[str],
    stripe_customer: str,
    success_url: str,
    cancel_url: str,
    locale: str,
    metadata: dict[str, str],
    bank_transfer: dict[str, Any] | None,
) -> tuple[str, str]:
    """A Checkout session paying ``lines``; its id and the URL to send the payer to.

    The session is created with ``reference`` as idempotency key: a retried request gets the
    same session, never a second one.
    """
    params: dict[str, Any] = {
        "mode": "payment",
        "client_reference_id": reference,
        "customer": stripe_customer,
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency.lower(),
                    "unit_amount": line.amount,
                    "product_data": {"name": line.name},
                },
            }
            for line in lines
        ],
        "payment_method_types": payment_method_types,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": locale,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
    }
    if bank_transfer is not None:
        params["payment_method_options"] = {"customer_balance": bank_transfer}
    client = _client()
    session = _call(lambda: client.v1.checkout.sessions.create(params=params, options={"idempotency_key": reference}))
    return str(session.id), str(session.url)


def verified_event(payload: str, signature: str | None) -> dict[str, Any]:
    """The event a webhook request carries, once its ``Stripe-Signature`` proves Stripe sent it."""
    import stripe

    secret = credentials().webhook_secret
    if not secret or not signature:
        raise BadSignature("missing or unusable Stripe signature")
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, SIGNATURE_TOLERANCE)
    except stripe.SignatureVerificationError as error:
        raise BadSignature("the Stripe signature does not match") from error
    try:
        event: dict[str, Any] = json.loads(payload)
    except json.JSONDecodeError as error:
        raise BadSignature("the payload is not a Stripe event") from error
    return event
