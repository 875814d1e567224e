"""Stripe, as far as Relance uses it, on loopback: no Stripe account needed locally.

- The API calls Relance makes (``POST /v1/customers``, ``POST /v1/checkout/sessions``,
  ``GET /v1/checkout/sessions/{id}``) under ``/dev/stripe``, where ``STRIPE_API_BASE`` points the
  unmodified ``stripe`` client. The secret key is checked and ``Idempotency-Key`` honoured.
- Checkout's hosted page at ``/dev/stripe/checkout/{session}``: pick a method, "Pay". Card settles
  at once; ACH, SEPA debit and bank transfer are "processing" until you press "Bank confirms"
  or "Bank rejects" (Stripe's asynchronous payments).
- Amounts are in Stripe's units (``relance.domain.stripe_amounts``: two decimals for HUF and ISK,
  three for KWD…) and checked as Stripe checks them: a currency Stripe charges, at most 100 line
  items, at least the documented minimum, at most eight digits, three-decimal amounts ending in 0,
  ISK and UGX in whole units. ``refuse_next`` makes the next session creation fail as Stripe can.
- Each step sends exactly the events Stripe sends (``checkout.session.completed``, then
  ``checkout.session.async_payment_succeeded``/``_failed``) to ``/v1/webhooks/stripe``, signed as
  Stripe signs them (``Stripe-Signature: t=<time>,v1=<HMAC-SHA256 of "<time>.<payload>">``), so
  the deployed webhook code runs unchanged. ``GET /dev/stripe/events`` lists the deliveries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from babel.numbers import format_currency
from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.wrappers import Request, Response

from local import webhook_delivery
from relance.domain import stripe_amounts

ASYNC_TYPES = {"us_bank_account", "sepa_debit", "customer_balance"}
METHOD_LABELS = {
    "card": "Card",
    "us_bank_account": "US bank account (ACH)",
    "sepa_debit": "SEPA Direct Debit",
    "customer_balance": "Bank transfer",
}
API_VERSION = "2026-02-25.clover"

_pages = Environment(loader=PackageLoader("local", "pages"), autoescape=select_autoescape())


def stripe_money(amount: int, currency: str) -> str:
    """An amount in Stripe's units (``unit_amount``, ``amount_total``) as Stripe's page shows it."""
    code = currency.upper()
    major = Decimal(int(amount)).scaleb(-stripe_amounts.stripe_exponent(code))
    return str(format_currency(major, code, locale="en", decimal_quantization=False))


_pages.filters["money"] = stripe_money


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe puts on a webhook request (scheme ``v1``)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def post_event(
    url: str, event: dict[str, Any], secret: str, timestamp: int | None = None, timeout: float = 30
) -> dict[str, Any]:
    """POST one event to a webhook endpoint as Stripe does (JSON, ``Stripe-Signature``, Stripe's user agent);
    the delivery as Stripe's dashboard lists it (status 0: the endpoint did not answer)."""
    payload = json.dumps(event, indent=2)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": signature_header(payload, secret, timestamp),
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }
    status, body = webhook_delivery.post(url, payload.encode(), headers, timeout)
    return {"eventId": event["id"], "type": event["type"], "status": status, "response": body}


def form_to_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``line_items[0][price_data][currency]=usd``) back to nested values."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        path = [part for part in re.split(r"[\[\]]+", key) if part]
        node: Any = root
        for index, part in enumerate(path):
            last = index == len(path) - 1
            following = None if last else path[index + 1]
            child: Any = value if last else ([] if following is not None and following.isdigit() else {})
            if isinstance(node, list):
                position = int(part)
                while len(node) <= position:
                    node.append(None)
                if node[position] is None or last:
                    node[position] = child
                node = node[position]
            else:
                if part not in node or last:
                    node[part] = child
                node = node[part]
    return root


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


def _stripe_error(status: int, message: str, kind: str = "invalid_request_error") -> Response:
    return _json({"error": {"type": kind, "message": message}}, status)


def _check_amounts(lines: list[dict[str, Any]]) -> None:
    """Stripe's checks of a Checkout's amounts, in its own units (https://docs.stripe.com/currencies)."""
    currency = str(lines[0]["currency"]).upper()
    if currency not in stripe_amounts.PRESENTMENT:
        raise ValueError(f"Invalid currency: {currency.lower()}")
    if len(lines) > stripe_amounts.MAX_LINE_ITEMS:
        raise ValueError(f"line_items: at most {stripe_amounts.MAX_LINE_ITEMS} line items")
    step = stripe_amounts.stripe_step(currency)
    for line in lines:
        if line["amount"] < 0 or line["amount"] % step:
            raise ValueError(f"unit_amount {line['amount']} is not a valid amount in {currency.lower()}")
    total = sum(line["amount"] for line in lines)
    minimum = stripe_amounts.stripe_minimum(currency)
    if minimum is not None and total < minimum:
        raise ValueError(f"Amount must be at least {stripe_money(minimum, currency)}")
    if total > stripe_amounts.MAX_STRIPE_AMOUNT:
        raise ValueError("Amount must be no more than 99,999,999 (eight digits)")


class LocalStripe:
    """The API and the hosted Checkout page; ``handle`` answers requests under ``/dev/stripe``."""

    PREFIX = "/dev/stripe"

    def __init__(self, base_url: str, api_key: str, webhook_secret: str) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.sessions: dict[str, dict[str, Any]] = {}
        self.lines: dict[str, list[dict[str, Any]]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, dict[str, Any]] = {}
        self.deliveries: list[dict[str, Any]] = []
        self.refusals: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    def refuse_next(self, message: str, status: int = 400, times: int = 1) -> None:
        """The next ``times`` Checkout session creations fail as Stripe fails: ``status`` 400 (an invalid
        request, e.g. below the minimum in the account's settlement currency) or 5xx (an outage; the
        client retries those)."""
        with self._lock:
            self.refusals.extend([(status, message)] * times)

    @property
    def api_base(self) -> str:
        return f"{self.base_url}{self.PREFIX}"

    def handle(self, request: Request) -> Response | None:
        path = request.path.rstrip("/")
        if path != self.PREFIX and not path.startswith(f"{self.PREFIX}/"):
            return None  # not /dev/stripe-billing either (local/stripe_billing.py)
        rest = path.removeprefix(self.PREFIX)
        if rest.startswith("/v1/"):
            return self._api(request, rest)
        if rest == "/events" and request.method == "GET":
            return _json(self.deliveries)
        match = re.fullmatch(r"/checkout/(cs_test_\w+)(/settle)?", rest)
        if match and match[1] in self.sessions:
            if request.method == "GET" and not match[2]:
                return self._page(match[1])
            if request.method == "POST":
                return self._settle(match[1], request) if match[2] else self._pay(match[1], request)
        return _stripe_error(404, "Unrecognized request URL")

    # ------------------------------------------------------------ the API
    def _api(self, request: Request, path: str) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _stripe_error(401, "Invalid API Key provided", "authentication_error")
        params = form_to_params(parse_qsl(request.get_data(as_text=True), keep_blank_values=True))
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            if key and key in self.idempotent:
                return _json(self.idempotent[key])
            if request.method == "POST" and path == "/v1/customers":
                answer = self._new_customer(params)
            elif request.method == "POST" and path == "/v1/checkout/sessions":
                if self.refusals:
                    status, message = self.refusals.pop(0)
                    return _stripe_error(status, message, "invalid_request_error" if status < 500 else "api_error")
                try:
                    answer = self._new_session(params)
                except (KeyError, ValueError) as error:
                    return _stripe_error(400, f"Invalid checkout session: {error}")
            elif request.method == "GET" and path.startswith("/v1/checkout/sessions/"):
                found = self.sessions.get(path.rsplit("/", 1)[1])
                return _json(found) if found else _stripe_error(404, "No such checkout session")
            else:
                return _stripe_error(404, f"Unrecognized request URL ({request.method} {path})")
            if key:
                self.idempotent[key] = answer
        return _json(answer)

    def _new_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = {
            "id": f"cus_{secrets.token_hex(7)}",
            "object": "customer",
            "name": params.get("name"),
            "email": params.get("email"),
            "metadata": params.get("metadata", {}),
            "livemode": False,
            "created": int(time.time()),
        }
        self.customers[customer["id"]] = customer
        return customer

    def _new_session(self, params: dict[str, Any]) -> dict[str, Any]:
        lines = [
            {
                "name": item["price_data"]["product_data"]["name"],
                "amount": int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1)),
                "currency": item["price_data"]["currency"],
            }
            for item in params["line_items"]
        ]
        if len({line["currency"] for line in lines}) != 1:
            raise ValueError("line items must share one currency")
        _check_amounts(lines)
        types = list(params.get("payment_method_types") or ["card"])
        unknown = [t for t in types if t not in METHOD_LABELS]
        if unknown:
            raise ValueError(f"payment method types not supported here: {unknown}")
        if "customer_balance" in types and not params.get("customer"):
            raise ValueError("customer_balance needs a customer")
        session_id = f"cs_test_{secrets.token_hex(16)}"
        total = sum(line["amount"] for line in lines)
        now = int(time.time())
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "currency": lines[0]["currency"],
            "client_reference_id": params.get("client_reference_id"),
            "customer": params.get("customer"),
            "created": now,
            "expires_at": now + 86400,
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": params.get("metadata", {}),
            "mode": params.get("mode", "payment"),
            "payment_intent": None,
            "payment_method_types": types,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "url": f"{self.api_base}/checkout/{session_id}",
        }
        self.sessions[session_id] = session
        self.lines[session_id] = lines
        return session

    # ------------------------------------------------------------ the hosted page
    def _page(self, session_id: str, message: str | None = None) -> Response:
        session = self.sessions[session_id]
        html = _pages.get_template("checkout.html").render(
            session=session,
            lines=self.lines[session_id],
            labels=METHOD_LABELS,
            async_types=ASYNC_TYPES,
            message=message,
            return_url=session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id),
        )
        return Response(html, content_type="text/html; charset=utf-8")

    def _pay(self, session_id: str, request: Request) -> Response:
        session = self.sessions[session_id]
        method = request.form.get("method", "")
        if session["status"] != "open":
            return self._page(session_id, "This checkout is already completed.")
        if method not in session["payment_method_types"]:
            return self._page(session_id, "Choose one of the payment methods offered.")
        session.update(
            status="complete",
            payment_method_types=[method],
            payment_intent=f"pi_{secrets.token_hex(12)}",
            payment_status="unpaid" if method in ASYNC_TYPES else "paid",
        )
        self.send("checkout.session.completed", session)
        if method in ASYNC_TYPES:
            return self._page(session_id)
        return Response(status=303, headers={"Location": session["success_url"]})

    def _settle(self, session_id: str, request: Request) -> Response:
        """The bank's answer to an asynchronous payment."""
        session = self.sessions[session_id]
        if session["status"] != "complete" or session["payment_status"] != "unpaid":
            return self._page(session_id, "Nothing is waiting for the bank.")
        succeeded = request.form.get("outcome") == "succeeded"
        if succeeded:
            session["payment_status"] = "paid"
        self.send(f"checkout.session.async_payment_{'succeeded' if succeeded else 'failed'}", session)
        return Response(status=303, headers={"Location": session["success_url"]})

    # ------------------------------------------------------------ webhooks
    def event(self, kind: str, session: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": dict(session)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }

    def send(self, kind: str, session: dict[str, Any]) -> dict[str, Any]:
        """Deliver one event to the webhook endpoint, signed; the delivery as listed."""
        return self.deliver(self.event(kind, session))

    def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        delivery = post_event(f"{self.base_url}/v1/webhooks/stripe", event, self.webhook_secret)
        self.deliveries.append(delivery)
        return delivery
