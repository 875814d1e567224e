"""Stripe Billing, as the Stripe Billing connector reads it, on loopback: an organization's own Stripe
account, without one.

- Under ``/dev/stripe-billing`` (``STRIPE_BILLING_API_BASE``) the API the connector calls, as Stripe
  answers it (API version 2026-10-28): ``GET`` the lists of customers, invoices (``expand`` of their
  ``payments``), invoice payments, credit notes, refunds and events (newest first, ``limit``,
  ``starting_after``, ``ending_before``, ``created[gt|gte|lt|lte]``, ``types[]``) and each of those
  objects; ``POST /v1/invoices/{id}/pay`` (``paid_out_of_band``), ``POST /v1/payment_records/report_payment``
  and ``POST /v1/invoices/{id}/attach_payment``, with ``Idempotency-Key`` honoured. Errors have
  Stripe's shape (401 for an unknown key, 403 for a read-only key's write, 404 ``resource_missing``,
  and 429 with ``Retry-After`` as many times as ``refuse_next`` says).
- One account per API key (``open_account``): its own company, seeded from its number, so the same
  runtime always serves the same ids, numbers and amounts. Times come from ``relance.clock``.
- Changes made at the source (``new_invoice``, ``pay``, ``void_invoice``, ``delete_customer``,
  ``credit_note``…) record the events Stripe records and post them, signed as Stripe signs them, to the
  account's webhook endpoint (Relance's ``/v1/integrations/stripe/webhooks/{organizationId}``). The dev
  page's "Stripe: …" buttons make them on the first account. Events older than Stripe's 30 days are
  not listed.
"""

from __future__ import annotations

import json
import random
import string
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from local.stripe import form_to_params, post_event
from relance import clock

API_VERSION = "2026-10-28.endive"
EVENTS_KEPT = timedelta(days=30)
DEFAULT_LIMIT, MAX_LIMIT, EXPANDED_PAYMENTS = 10, 100, 10

# name, contact, email, phone, currency, locale: the company a new account starts with
COMPANY = [
    ("Bluebird Analytics Inc.", "Maya Chen", "ap@bluebird-analytics.example", "+1 415 555 0134", "usd", "en-US"),
    ("Copperline Media LLC", "Jordan Reyes", "billing@copperline.example", "+1 212 555 0187", "usd", "en-US"),
    ("Harbor & Finch Logistics", "Sam Okafor", "accounts@harborfinch.example", "+1 617 555 0102", "usd", "en-US"),
    ("Quillstone Legal LLP", "Priya Natarajan", "payables@quillstone.example", None, "usd", "en-US"),
    ("Redwood Dental Group", "Ethan Brooks", "office@redwooddental.example", "+1 503 555 0148", "usd", "en-US"),
    ("Tidepool Ventures", None, None, None, "usd", "en-US"),
    ("Maison Lumière SARL", "Camille Laurent", "compta@maison-lumiere.example", "+33 1 84 88 12 34", "eur", "fr-FR"),
    ("Atelier Vogel GmbH", "Lena Vogel", "buchhaltung@atelier-vogel.example", "+49 30 5557 1234", "eur", "en-GB"),
    ("Brightwater Studios Ltd", "Oliver Hughes", "finance@brightwater.example", "+44 20 7946 0321", "eur", "en-GB"),
    ("Kumo Robotics KK", "Haruto Sato", "keiri@kumo-robotics.example", "+81 3 5555 0142", "jpy", "en-US"),
    ("Sakura Design Office", None, "info@sakura-design.example", None, "jpy", "en-US"),
]
# per customer: (days since issued, days to pay, amount in Stripe's units, what became of it)
LEDGER = [
    [(95, 30, 240_000, "paid"), (40, 30, 180_000, "open"), (12, 30, 95_000, "open")],
    [(80, 15, 64_500, "paid"), (50, 15, 72_000, "partial"), (20, 15, 64_500, "open")],
    [(120, 30, 310_000, "paid"), (70, 30, 298_000, "uncollectible"), (10, 30, 120_000, "draft")],
    [(60, 45, 450_000, "paid"), (25, 45, 450_000, "credited")],
    [(90, 30, 38_900, "paid"), (55, 30, 41_200, "refunded"), (30, 30, 39_900, "open"), (5, 30, 40_100, "open")],
    [(35, 30, 150_000, "void"), (33, 30, 135_000, "open")],
    [(100, 30, 180_000, "paid"), (45, 30, 210_000, "open")],
    [(75, 14, 99_000, "out_of_band"), (15, 14, 99_000, "open")],
    [(65, 30, 125_000, "paid"), (28, 30, 87_500, "open")],
    [(85, 30, 480_000, "paid"), (40, 30, 520_000, "open"), (8, 30, 260_000, "open")],
    [(50, 60, 180_000, "open"), (18, 60, 95_000, "open")],
]


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status, headers=headers, content_type="application/json")


def _error(status: int, message: str, code: str | None = None, param: str | None = None) -> Response:
    error: dict[str, Any] = {"message": message, "type": "invalid_request_error"}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return _json({"error": error}, status)


class StripeError(Exception):
    """An answer of Stripe's that is an error (its status, message and code)."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code = status, code


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("Request rate limit exceeded")
        self.retry_after = retry_after


@dataclass
class Refusal:
    times: int = 0
    retry_after: int = 1


Spawn = Callable[[Callable[[], object], str], object]


def _thread(target: Callable[[], object], name: str) -> object:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


class StripeAccount:
    """One Stripe account: its keys, its objects, its events, its webhook endpoint."""

    WEBHOOK_DELAY = 0.5
    """Real seconds before the events of an API request are posted (Stripe posts them soon after)."""

    def __init__(self, number: int, name: str, spawn: Spawn = _thread) -> None:
        self.number, self.name, self.spawn = number, name, spawn
        self._rng = random.Random(f"relance-stripe-billing-{number}")  # noqa: S311 (ids, not secrets)
        self.id = f"acct_{self._token(16)}"
        self.api_key = f"rk_test_{self._token(24)}"
        self.webhook_secret = f"whsec_{self._token(32)}"
        self.webhook_url: str | None = None
        self.read_only = False
        self.refusal = Refusal()
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self.idempotent: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        self.deliveries: list[dict[str, Any]] = []
        self._pending: list[dict[str, Any]] = []
        self._sequence = 0
        self._numbers = 0
        self.lock = threading.RLock()

    # ------------------------------------------------------------ objects
    def _token(self, length: int) -> str:
        return "".join(self._rng.choices(string.ascii_letters + string.digits, k=length))

    def request_id(self) -> str:
        """A request's id (counted apart: ids of objects do not depend on how many requests came before)."""
        with self.lock:
            return f"{self.number:04d}{len(self.requests):010d}"

    def _now(self) -> int:
        return int(clock.now().timestamp())

    def _put(self, kind: str, prefix: str, fields: dict[str, Any], created: int | None = None) -> dict[str, Any]:
        self._sequence += 1
        obj: dict[str, Any] = {"id": f"{prefix}_{self._token(14 if prefix == 'cus' else 24)}", "object": kind}
        obj["livemode"] = False
        obj.update(created=self._now() if created is None else created, **fields)
        obj["_seq"] = self._sequence
        self.objects.setdefault(kind, {})[obj["id"]] = obj
        return obj

    def get(self, kind: str, object_id: str) -> dict[str, Any]:
        found = self.objects.get(kind, {}).get(object_id)
        if found is None:
            raise StripeError(404, f"No such {kind.replace('_', ' ')}: '{object_id}'", "resource_missing")
        return found

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Newest first, as Stripe lists."""
        return sorted(self.objects.get(kind, {}).values(), key=lambda o: (o["created"], o["_seq"]), reverse=True)

    def customers(self) -> list[dict[str, Any]]:
        return [c for c in self.all("customer") if not c.get("deleted")]

    def invoices(self, status: str | None = None) -> list[dict[str, Any]]:
        return [i for i in self.all("invoice") if status is None or i["status"] == status]

    def _event(self, kind: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
        self._sequence += 1
        data: dict[str, Any] = {"object": public(obj)}
        if previous:
            data["previous_attributes"] = previous
        event = {
            "id": f"evt_{self._token(24)}",
            "object": "event",
            "api_version": API_VERSION,
            "created": self._now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1 if self.webhook_url else 0,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
            "_seq": self._sequence,
        }
        self.events.append(event)
        self._pending.append(event)

    @contextmanager
    def change(self) -> Iterator[None]:
        """A change at the source: made under the lock, its events posted once it is released."""
        with self.lock:
            yield
            pending, self._pending = self._pending, []
        for event in pending:
            self.deliver(event)

    def deliver(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """Post one event to the webhook endpoint, signed with the endpoint's secret (Stripe's ``t=,v1=``)."""
        if not self.webhook_url:
            return None
        delivery = post_event(
            self.webhook_url, public(event), self.webhook_secret, int(clock.real_seconds()), timeout=60
        )
        self.deliveries.append(delivery)
        return delivery

    # ------------------------------------------------------------ the company
    def seed(self) -> None:
        """The account's company: customers, ~30 invoices in every state, payments, credit notes, a refund."""
        now = self._now()
        with self.lock:
            for (name, person, email, phone, currency, locale), invoices in zip(COMPANY, LEDGER, strict=True):
                created = now - (max(days for days, *_ in invoices) + 20) * 86400
                customer = self._customer(name, person, email, phone, currency, locale, created)
                for days, terms, amount, fate in sorted(invoices, reverse=True):
                    self._seed_invoice(customer, now - days * 86400, terms, amount, fate)

    def _customer(
        self,
        name: str,
        person: str | None,
        email: str | None,
        phone: str | None,
        currency: str,
        locale: str,
        created: int | None = None,
    ) -> dict[str, Any]:
        return self._put(
            "customer",
            "cus",
            {
                "address": None,
                "balance": 0,
                "business_name": name,
                "currency": currency,
                "delinquent": False,
                "description": None,
                "email": email,
                "individual_name": person,
                "invoice_prefix": self._token(8).upper(),
                "metadata": {},
                "name": name,
                "next_invoice_sequence": 1,
                "phone": phone,
                "preferred_locales": [locale],
                "tax_exempt": "none",
            },
            created,
        )

    def _seed_invoice(self, customer: dict[str, Any], issued: int, terms: int, amount: int, fate: str) -> None:
        invoice = self._invoice(customer, amount, issued, terms, draft=fate == "draft")
        paid_on = min(issued + (terms - 3) * 86400, self._now())
        if fate in ("paid", "refunded", "credited"):
            if fate == "credited":
                self._credit_note(invoice, amount // 10, created=issued + 86400)
            charge = self._pay(invoice, None, paid_on)
            if fate == "refunded":
                self._credit_note(invoice, amount // 4, created=paid_on + 5 * 86400, refund_charge=charge)
        elif fate == "partial":
            self._pay(invoice, amount // 2, paid_on)
        elif fate == "uncollectible":
            invoice.update(status="uncollectible")
            invoice["status_transitions"]["marked_uncollectible_at"] = issued + (terms + 30) * 86400
        elif fate == "void":
            invoice.update(status="void")
            invoice["status_transitions"]["voided_at"] = issued + 86400
        elif fate == "out_of_band":
            self._out_of_band(invoice, paid_on)

    def _invoice(
        self, customer: dict[str, Any], amount: int, issued: int, terms: int, *, draft: bool = False
    ) -> dict[str, Any]:
        number = None
        if not draft:
            self._numbers += 1
            number = f"NW-{self._numbers:04d}"
        token = self._token(20)
        return self._put(
            "invoice",
            "in",
            {
                "account_name": self.name,
                "amount_due": amount,
                "amount_overpaid": 0,
                "amount_paid": 0,
                "amount_remaining": amount,
                "attempt_count": 0,
                "auto_advance": not draft,
                "collection_method": "send_invoice",
                "currency": customer["currency"],
                "customer": customer["id"],
                "customer_email": customer["email"],
                "customer_name": customer["name"],
                "description": None,
                "due_date": issued + terms * 86400,
                "effective_at": None if draft else issued,
                "ending_balance": None if draft else 0,
                "hosted_invoice_url": None if draft else f"https://invoice.stripe.com/i/{self.id}/test_{token}",
                "invoice_pdf": None if draft else f"https://pay.stripe.com/invoice/{self.id}/test_{token}/pdf",
                "lines": {"object": "list", "data": [], "has_more": False, "url": "/v1/invoices/lines"},
                "metadata": {},
                "number": number,
                "period_end": issued,
                "period_start": issued,
                "post_payment_credit_notes_amount": 0,
                "pre_payment_credit_notes_amount": 0,
                "starting_balance": 0,
                "status": "draft" if draft else "open",
                "status_transitions": {
                    "finalized_at": None if draft else issued,
                    "marked_uncollectible_at": None,
                    "paid_at": None,
                    "voided_at": None,
                },
                "subtotal": amount,
                "total": amount,
            },
            issued,
        )

    def _settle(self, invoice: dict[str, Any], amount: int, when: int) -> None:
        invoice["amount_paid"] += amount
        invoice["amount_remaining"] = max(invoice["amount_due"] - invoice["amount_paid"], 0)
        if invoice["amount_remaining"] == 0:
            invoice["status"] = "paid"
            invoice["status_transitions"]["paid_at"] = when

    def _pay(self, invoice: dict[str, Any], amount: int | None, when: int) -> dict[str, Any]:
        """A card payment of the invoice (all it owes, or ``amount``): its payment intent, charge and
        invoice payment; the charge."""
        amount = invoice["amount_remaining"] if amount is None else amount
        common = {"amount": amount, "currency": invoice["currency"], "customer": invoice["customer"]}
        intent = self._put("payment_intent", "pi", {**common, "amount_received": amount, "status": "succeeded"}, when)
        charge = self._put(
            "charge",
            "ch",
            {**common, "amount_refunded": 0, "payment_intent": intent["id"], "refunded": False, "status": "succeeded"},
            when,
        )
        self._put(
            "invoice_payment",
            "inpay",
            {
                "amount_paid": amount,
                "amount_requested": amount,
                "currency": invoice["currency"],
                "invoice": invoice["id"],
                "is_default": True,
                "payment": {"type": "payment_intent", "payment_intent": intent["id"]},
                "status": "paid",
                "status_transitions": {"canceled_at": None, "paid_at": when},
            },
            when,
        )
        self._settle(invoice, amount, when)
        return charge

    def _out_of_band(self, invoice: dict[str, Any], when: int) -> None:
        """Marked paid outside Stripe: no charge, no invoice payment; ``amount_paid`` says it."""
        invoice["amount_paid_off_stripe"] = (invoice.get("amount_paid_off_stripe") or 0) + invoice["amount_remaining"]
        self._settle(invoice, invoice["amount_remaining"], when)

    def _credit_note(
        self, invoice: dict[str, Any], amount: int, created: int, refund_charge: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Before payment: off what the invoice owes. After, with ``refund_charge``: refunded on it."""
        refunds = []
        before = amount if refund_charge is None else 0
        if refund_charge is not None:
            refund = self._refund(refund_charge, amount, created)
            refunds = [
                {"amount_refunded": amount, "payment_record_refund": None, "refund": refund["id"], "type": "refund"}
            ]
            invoice["post_payment_credit_notes_amount"] += amount
        else:
            invoice["pre_payment_credit_notes_amount"] += amount
            invoice["amount_due"] -= amount
            invoice["amount_remaining"] -= amount
        count = sum(1 for n in self.objects.get("credit_note", {}).values() if n["invoice"] == invoice["id"])
        return self._put(
            "credit_note",
            "cn",
            {
                "amount": amount,
                "amount_shipping": 0,
                "currency": invoice["currency"],
                "customer": invoice["customer"],
                "effective_at": None,
                "invoice": invoice["id"],
                "memo": None,
                "number": f"{invoice['number']}-CN-{count + 1:02d}",
                "out_of_band_amount": None,
                "pdf": f"https://pay.stripe.com/credit_notes/{self.id}/test_{self._token(20)}/pdf",
                "post_payment_amount": amount - before,
                "pre_payment_amount": before,
                "reason": "order_change",
                "refunds": refunds,
                "status": "issued",
                "subtotal": amount,
                "total": amount,
                "type": "pre_payment" if refund_charge is None else "post_payment",
                "voided_at": None,
            },
            created,
        )

    def _refund(self, charge: dict[str, Any], amount: int, when: int) -> dict[str, Any]:
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        return self._put(
            "refund",
            "re",
            {
                "amount": amount,
                "charge": charge["id"],
                "currency": charge["currency"],
                "customer": charge["customer"],
                "metadata": {},
                "payment_intent": charge["payment_intent"],
                "reason": "requested_by_customer",
                "status": "succeeded",
            },
            when,
        )

    # ------------------------------------------------------------ changes at the source (tests, dev page)
    def new_customer(self, name: str, email: str | None, currency: str = "usd") -> dict[str, Any]:
        with self.change():
            customer = self._customer(name, None, email, None, currency, "en-US")
            self._event("customer.created", customer)
        return public(customer)

    def new_invoice(self, customer_id: str | None = None, amount: int | None = None, terms: int = 30) -> dict[str, Any]:
        """A finalized invoice (of the customer named, else of the first one), sent by email."""
        with self.change():
            customer = self.get("customer", customer_id) if customer_id else self.customers()[-1]
            amount = amount if amount is not None else 1000 * self._rng.randint(20, 400)
            invoice = self._invoice(customer, amount, self._now(), terms)
            self._event("invoice.created", invoice)
            self._event("invoice.finalized", invoice)
        return public(invoice)

    def pay(self, invoice_id: str | None = None, amount: int | None = None) -> dict[str, Any]:
        """The customer pays by card (all the invoice owes, or ``amount``): the oldest open invoice unless named."""
        with self.change():
            invoice = self.get("invoice", invoice_id) if invoice_id else self.invoices("open")[-1]
            if invoice["status"] not in ("open", "uncollectible"):
                raise StripeError(
                    400, "Invoice is already paid" if invoice["status"] == "paid" else "Invoice is not open"
                )
            self._pay(invoice, amount, self._now())
            payment = self.all("invoice_payment")[0]
            self._event("invoice_payment.paid", payment)
            self._event("invoice.updated", invoice)
            if invoice["status"] == "paid":
                self._event("invoice.paid", invoice)
        return public(invoice)

    def void_invoice(self, invoice_id: str | None = None) -> dict[str, Any]:
        """Void an open invoice nothing was paid on (the newest, unless named)."""
        with self.change():
            unpaid = [i for i in self.invoices("open") if not i["amount_paid"]]
            invoice = self.get("invoice", invoice_id) if invoice_id else unpaid[0]
            if invoice["status"] != "open" or invoice["amount_paid"]:
                raise StripeError(400, "You can only void an open invoice with no payments")
            invoice["status"] = "void"
            invoice["status_transitions"]["voided_at"] = self._now()
            self._event("invoice.voided", invoice)
        return public(invoice)

    def delete_customer(self, customer_id: str | None = None) -> dict[str, Any]:
        """Delete a customer (the newest, unless named): Stripe keeps only its id."""
        with self.change():
            customer = self.get("customer", customer_id) if customer_id else self.customers()[0]
            self._event("customer.deleted", customer)
            customer.update(deleted=True)
        return {"id": customer["id"], "object": "customer", "deleted": True}

    def credit_note(self, invoice_id: str, amount: int) -> dict[str, Any]:
        """A credit note: off an open invoice, or refunded on the card that paid it."""
        with self.change():
            invoice = self.get("invoice", invoice_id)
            charge = None
            if invoice["status"] == "paid":
                intent = next(
                    p["payment"]["payment_intent"]
                    for p in self.all("invoice_payment")
                    if p["invoice"] == invoice_id and p["payment"]["type"] == "payment_intent"
                )
                charge = next(c for c in self.all("charge") if c["payment_intent"] == intent)
            note = self._credit_note(invoice, amount, self._now(), refund_charge=charge)
            self._event("credit_note.created", note)
            if charge is not None:
                self._event("charge.refunded", charge)
                self._event("refund.created", self.get("refund", note["refunds"][0]["refund"]))
            else:
                self._event("invoice.updated", invoice)
        return public(note)

    def unmappable_invoice(self) -> dict[str, Any]:
        """An invoice Relance cannot take as it is: 12,345.67 forints (Stripe counts fillér; Relance, whole forints)."""
        with self.change():
            customer = self._customer("Duna Bútor Kft.", "Réka Tóth", "szamla@duna-butor.example", None, "huf", "en-US")
            self._event("customer.created", customer)
            invoice = self._invoice(customer, 1_234_567, self._now(), 30)
            self._event("invoice.finalized", invoice)
        return public(invoice)

    def refuse_next(self, times: int, retry_after: int = 1) -> None:
        """The next ``times`` API requests are rate-limited (429, ``Retry-After: retry_after``)."""
        with self.lock:
            self.refusal = Refusal(times, retry_after)

    # ------------------------------------------------------------ the API
    def api(self, method: str, path: str, params: dict[str, Any], key: str | None) -> Any:
        """The answer to one API request (StripeError, RateLimited: Stripe's errors)."""
        with self.lock:
            self.requests.append(f"{method} {path}")
            if self.refusal.times > 0:
                self.refusal.times -= 1
                raise RateLimited(self.refusal.retry_after)
            if method == "POST" and self.read_only:
                message = (
                    f"The provided key '{self.api_key[:8]}****' does not have the required permissions for this "
                    f"endpoint on account '{self.id}'. Having the 'rak_invoice_write' permission would allow this "
                    "request to continue."
                )
                raise StripeError(403, message)
            if key and key in self.idempotent:
                return self.idempotent[key]
            answer = self._route(method, path, params)
            if key and method == "POST":
                self.idempotent[key] = answer
            pending, self._pending = self._pending, []
        if pending:  # posted after the answer, as Stripe does: in the background, a moment later
            self.spawn(lambda: self._deliver_later(pending), "stripe-billing-webhooks")
        return answer

    def _deliver_later(self, events: list[dict[str, Any]]) -> None:
        time.sleep(self.WEBHOOK_DELAY)
        for event in events:
            self.deliver(event)

    def _route(self, method: str, path: str, params: dict[str, Any]) -> Any:
        parts = path.strip("/").split("/")[1:]  # after v1
        lists = {
            "customers": "customer",
            "invoices": "invoice",
            "invoice_payments": "invoice_payment",
            "credit_notes": "credit_note",
            "refunds": "refund",
            "events": "event",
            "payment_records": "payment_record",
            "charges": "charge",
        }
        if method == "GET" and len(parts) == 1 and parts[0] in lists:
            return self._list(lists[parts[0]], params, path)
        if method == "GET" and len(parts) == 2 and parts[0] in lists:
            return self._retrieve(lists[parts[0]], parts[1], params)
        if method == "POST" and parts[:1] == ["invoices"] and len(parts) == 3 and parts[2] == "pay":
            return self._api_pay(parts[1], params)
        if method == "POST" and parts[:1] == ["invoices"] and len(parts) == 3 and parts[2] == "attach_payment":
            return self._api_attach(parts[1], params)
        if method == "POST" and parts == ["payment_records", "report_payment"]:
            return self._api_report_payment(params)
        raise StripeError(404, f"Unrecognized request URL ({method}: /{'/'.join(['v1', *parts])})")

    def _retrieve(self, kind: str, object_id: str, params: dict[str, Any]) -> dict[str, Any]:
        if kind == "event":
            found = next((e for e in self._listed_events() if e["id"] == object_id), None)
            if found is None:
                raise StripeError(404, f"No such event: '{object_id}'", "resource_missing")
            return public(found)
        obj = self.get(kind, object_id)
        if obj.get("deleted"):
            return {"id": obj["id"], "object": kind, "deleted": True}
        return self._expanded(obj, set(_list_of(params.get("expand"))))

    def _expanded(self, obj: dict[str, Any], expand: set[str]) -> dict[str, Any]:
        shown = public(obj)
        if obj["object"] == "invoice" and "payments" in expand:
            payments = [p for p in self.all("invoice_payment") if p["invoice"] == obj["id"]]
            shown["payments"] = {
                "object": "list",
                "data": [public(p) for p in payments[:EXPANDED_PAYMENTS]],
                "has_more": len(payments) > EXPANDED_PAYMENTS,
                "url": f"/v1/invoice_payments?invoice={obj['id']}",
            }
        return shown

    def _listed_events(self) -> list[dict[str, Any]]:
        oldest = self._now() - int(EVENTS_KEPT.total_seconds())
        kept = [e for e in self.events if e["created"] >= oldest]
        return sorted(kept, key=lambda e: (e["created"], e["_seq"]), reverse=True)

    def _list(self, kind: str, params: dict[str, Any], path: str) -> dict[str, Any]:
        items = self._listed_events() if kind == "event" else [o for o in self.all(kind) if not o.get("deleted")]
        items = [o for o in items if _matches(o, params)]
        limit = min(int(params.get("limit") or DEFAULT_LIMIT), MAX_LIMIT)
        ids = [o["id"] for o in items]
        if params.get("starting_after"):
            after = self._position(ids, kind, params["starting_after"])
            page, more = items[after + 1 : after + 1 + limit], len(items) > after + 1 + limit
        elif params.get("ending_before"):
            before = self._position(ids, kind, params["ending_before"])
            page, more = items[max(before - limit, 0) : before], before - limit > 0
        else:
            page, more = items[:limit], len(items) > limit
        expand = {e.removeprefix("data.") for e in _list_of(params.get("expand")) if e.startswith("data.")}
        return {"object": "list", "data": [self._expanded(o, expand) for o in page], "has_more": more, "url": path}

    def _position(self, ids: list[str], kind: str, object_id: str) -> int:
        if object_id not in ids:
            raise StripeError(400, f"No such {kind.replace('_', ' ')}: '{object_id}'", "resource_missing")
        return ids.index(object_id)

    def _api_pay(self, invoice_id: str, params: dict[str, Any]) -> dict[str, Any]:
        invoice = self.get("invoice", invoice_id)
        if params.get("paid_out_of_band") != "true":
            raise StripeError(400, "This stand-in pays invoices out of band only (paid_out_of_band=true)")
        if invoice["status"] == "paid":
            raise StripeError(400, "Invoice is already paid", "invoice_already_paid")
        if invoice["status"] not in ("open", "uncollectible"):
            raise StripeError(400, f"You cannot pay an invoice with status {invoice['status']}", "invoice_not_open")
        self._out_of_band(invoice, self._now())
        self._event("invoice.paid", invoice)
        self._event("invoice.updated", invoice)
        return self._expanded(invoice, set(_list_of(params.get("expand"))))

    def _api_report_payment(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            amount = {
                "currency": params["amount_requested"]["currency"],
                "value": int(params["amount_requested"]["value"]),
            }
            initiated = int(params["initiated_at"])
        except (KeyError, TypeError, ValueError) as error:
            raise StripeError(400, f"Missing required param: {error}") from error
        return public(
            self._put(
                "payment_record",
                "prec",
                {
                    "amount": amount,
                    "amount_requested": amount,
                    "customer_details": params.get("customer_details") or {},
                    "metadata": params.get("metadata") or {},
                    "payment_method_details": params.get("payment_method_details") or {},
                    "processor_details": params.get("processor_details") or {},
                    "reported_by": "self",
                    "initiated_at": initiated,
                },
            )
        )

    def _api_attach(self, invoice_id: str, params: dict[str, Any]) -> dict[str, Any]:
        invoice = self.get("invoice", invoice_id)
        record = self.get("payment_record", str(params.get("payment_record")))
        if invoice["status"] not in ("open", "uncollectible"):
            raise StripeError(400, f"You cannot attach a payment to an invoice with status {invoice['status']}")
        value = int(record["amount"]["value"])
        if record["amount"]["currency"] != invoice["currency"] or value > invoice["amount_remaining"]:
            raise StripeError(400, "The payment record's amount exceeds what the invoice has remaining")
        now = self._now()
        payment = self._put(
            "invoice_payment",
            "inpay",
            {
                "amount_paid": value,
                "amount_requested": value,
                "currency": invoice["currency"],
                "invoice": invoice["id"],
                "is_default": False,
                "payment": {"type": "payment_record", "payment_record": record["id"]},
                "status": "paid",
                "status_transitions": {"canceled_at": None, "paid_at": now},
            },
        )
        invoice["amount_paid_off_stripe"] = (invoice.get("amount_paid_off_stripe") or 0) + value
        self._settle(invoice, value, now)
        self._event("invoice_payment.paid", payment)
        self._event("invoice.updated", invoice)
        if invoice["status"] == "paid":
            self._event("invoice.paid", invoice)
        return self._expanded(invoice, set(_list_of(params.get("expand"))))


def public(obj: dict[str, Any]) -> dict[str, Any]:
    """An object as the API shows it (without the stand-in's own keys)."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _list_of(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


_FILTERS = ("customer", "invoice", "charge", "payment_intent", "status")


def _matches(obj: dict[str, Any], params: dict[str, Any]) -> bool:
    """Stripe's list filters: by parent object, status, event type and creation time."""
    if any(params.get(f) and obj.get(f) != params[f] for f in _FILTERS):
        return False
    types = _list_of(params.get("types")) or _list_of(params.get("type"))
    if types and obj.get("type") not in types:
        return False
    created = params.get("created")
    if isinstance(created, dict):
        bounds: dict[str, Callable[[int, int], bool]] = {
            "gt": lambda a, b: a > b,
            "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b,
            "lte": lambda a, b: a <= b,
        }
        return all(bounds[op](obj["created"], int(v)) for op, v in created.items() if op in bounds)
    return True


class LocalStripeBilling:
    """The accounts, and ``handle`` answering requests under ``/dev/stripe-billing``."""

    PREFIX = "/dev/stripe-billing"

    def __init__(self, base_url: str, spawn: Spawn = _thread) -> None:
        self.base_url = base_url
        self.spawn = spawn  # the runtime's: background work counts as activity, the clock waits for it
        self.accounts: dict[str, StripeAccount] = {}
        self._lock = threading.Lock()

    @property
    def api_base(self) -> str:
        return f"{self.base_url}{self.PREFIX}"

    def open_account(self, name: str = "Northwind Software", *, company: bool = True) -> StripeAccount:
        """A new Stripe account (the next number), with its company unless asked for an empty one."""
        with self._lock:
            account = StripeAccount(len(self.accounts) + 1, name, self.spawn)
            self.accounts[account.api_key] = account
        if company:
            account.seed()
        return account

    def first(self) -> StripeAccount | None:
        return next(iter(self.accounts.values()), None)

    def handle(self, request: Request) -> Response | None:
        path = request.path.rstrip("/")
        if not path.startswith(self.PREFIX):
            return None
        rest = path.removeprefix(self.PREFIX)
        if rest.startswith("/v1/"):
            return self._api(request, rest)
        if request.method == "GET" and rest == "/deliveries":
            return _json([d for a in self.accounts.values() for d in a.deliveries])
        if request.method == "POST" and rest.startswith("/changes/"):
            return self._dev_change(rest.removeprefix("/changes/"))
        return _error(404, f"Unrecognized request URL ({request.method}: {rest})")

    def _api(self, request: Request, path: str) -> Response:
        auth = request.headers.get("Authorization", "")
        account = self.accounts.get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None
        if account is None:
            shown = auth.removeprefix("Bearer ")[-4:]
            return _error(401, f"Invalid API Key provided: rk_test_****{shown}")
        pairs = parse_qsl(request.query_string.decode(), keep_blank_values=True)
        if request.method == "POST":
            pairs += parse_qsl(request.get_data(as_text=True), keep_blank_values=True)
        try:
            answer = account.api(request.method, path, form_to_params(pairs), request.headers.get("Idempotency-Key"))
        except StripeError as error:
            return _error(error.status, str(error), error.code)
        except RateLimited as limited:
            response = _error(
                429, f"{limited}. Learn more about rate limits here https://stripe.com/docs/rate-limits.", "rate_limit"
            )
            response.headers["Retry-After"] = str(limited.retry_after)
            return response
        return _json(answer, headers={"Stripe-Version": API_VERSION, "Request-Id": f"req_{account.request_id()}"})

    def _dev_change(self, action: str) -> Response:
        """The dev page's buttons: a change at the source on the first account, then back to the page."""
        account = self.first()
        changes: dict[str, Callable[[StripeAccount], Any]] = {
            "new-invoice": lambda a: a.new_invoice(),
            "payment": lambda a: a.pay(),
            "delete-customer": lambda a: a.delete_customer(),
            "void-invoice": lambda a: a.void_invoice(),
        }
        if account is None or action not in changes:
            return _error(404, "no such change, or no Stripe account")
        try:
            changes[action](account)
        except (StripeError, IndexError) as error:
            return _error(409, f"nothing to change: {error}")
        return Response(status=303, headers={"Location": "/dev"})


_current: LocalStripeBilling | None = None


def install(stand_in: LocalStripeBilling | None) -> None:
    """The runtime's stand-in (None when it stops), for the demo's seed to open its account on."""
    global _current  # noqa: PLW0603 (one runtime per process, as the clock and the AWS clients)
    _current = stand_in


def current() -> LocalStripeBilling | None:
    return _current
