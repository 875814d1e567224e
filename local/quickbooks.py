"""QuickBooks Online, as far as Relance's connector uses it, on loopback: no Intuit account needed locally.

- **Intuit's OAuth 2** under ``/dev/quickbooks``: the OpenID discovery document
  (``QUICKBOOKS_DISCOVERY_URL`` points ``intuitlib`` at it) and the token endpoint
  (``/oauth2/v1/tokens/bearer``, ``grant_type=refresh_token``, the client's ID and secret in Basic
  auth). Every refresh rotates the refresh token; the one it replaced stays good for one more refresh
  (two connections refreshing at once both succeed). Access tokens do not expire here.
- **The Accounting API v3** under ``/dev/quickbooks/v3/company/{realmId}`` (``QUICKBOOKS_API_BASE``):
  ``POST /query`` with QuickBooks' query language as ``python-quickbooks`` sends it (``SELECT * | COUNT(*)
  FROM <entity> [WHERE a = 'x' AND b IN ('y', 'z') AND c >= 'd'] [ORDERBY f [ASC|DESC]]
  [STARTPOSITION n] [MAXRESULTS n]``, customers active only unless ``Active`` is asked, an invoice's
  ``InvoiceLink`` with ``include=invoiceLink``), ``GET /cdc?entities&changedSince`` (30 days back at
  most; a deleted record as ``{"status": "Deleted", "Id"}``), ``GET /{entity}/{id}``,
  ``GET /invoice/{id}/pdf``, ``POST /payment`` (checked against the invoices' balances;
  ``requestid`` answered once). Errors have QuickBooks' ``Fault`` shape; a wrong token answers 401, another
  company 403, and :meth:`LocalQuickBooks.refuse_next` makes the next calls 429 with ``Retry-After``.
- **The company**: a US company in USD (multicurrency on) with 12 customers (one inactive, with no
  transactions; one with two comma-separated billing addresses, one without any, one each in EUR, GBP
  and JPY — no decimals), 30 invoices (paid, partly paid, open, overdue, one voided), payments (one
  paying two invoices), a credit memo applied to an invoice through a payment, one not applied, and a
  refund receipt. Ids and numbers are fixed; dates are counted back from ``relance.clock`` when the
  stand-in starts.
- **Changes at the source** (:meth:`new_invoice`, :meth:`receive_payment`, :meth:`delete_customer`,
  :meth:`void_invoice`, :meth:`delete_invoice`, :meth:`malformed_invoice`; ``POST
  /dev/quickbooks/changes/<name>`` for the dev page) are what Change Data Capture reports next, and are
  sent as webhooks — CloudEvents, as Intuit sends them since 2026, or ``webhook_format = "legacy"`` —
  signed with the verifier token (``intuit-signature``), to the endpoint :meth:`subscribe` sets. A payment
  created through the API is sent too, as QuickBooks does. ``GET /dev/quickbooks/webhooks`` lists them.

Not emulated: the consent flow (authorization codes), sparse updates, batch requests, other entities,
throttling by rate (only when told to refuse), minor-version differences.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen.canvas import Canvas
from werkzeug.wrappers import Request, Response

from local import webhook_delivery
from relance import clock

REALM_ID = "9341455130166501"
CURRENCY_NAMES = {"USD": "United States Dollar", "EUR": "Euro", "GBP": "British Pound Sterling", "JPY": "Japanese Yen"}
EXCHANGE_RATES = {"USD": Decimal(1), "EUR": Decimal("1.08"), "GBP": Decimal("1.27"), "JPY": Decimal("0.0067")}
ENTITIES = ("Customer", "Invoice", "Payment", "CreditMemo", "RefundReceipt")
CDC_WINDOW = timedelta(days=30)

# (display name, given name, family name, billing e-mail (comma-separated), phone, currency, active)
CUSTOMERS: tuple[tuple[str, str, str, str | None, str | None, str, bool], ...] = (
    ("Acme Hardware Supply", "Jane", "Doe", "ap@acmehardware.example, jane.doe@acmehardware.example",
     "(415) 555-0101", "USD", True),
    ("Blue Harbor Logistics", "Marcus", "Lee", "billing@blueharbor.example", "(206) 555-0148", "USD", True),
    ("Cedar & Stone Architects", "Priya", "Natarajan", "accounts@cedarstone.example", None, "USD", True),
    ("Delta Fresh Foods", "Tom", "Okafor", "payables@deltafresh.example", "(312) 555-0190", "USD", True),
    ("Evergreen Clinics", "Sara", "Lindqvist", "finance@evergreenclinics.example", None, "USD", True),
    ("Fjordline Handel GmbH", "Lena", "Vogel", "buchhaltung@fjordline.example", "+49 40 5550 1234", "EUR", True),
    ("Golden Gate Print Shop", "Ray", "Alvarez", "ray@goldengateprint.example", "(415) 555-0177", "USD", True),
    ("Hokusai Trading K.K.", "Kenji", "Sato", "keiri@hokusai-trading.example", "+81 3-5550-1234", "JPY", True),
    ("Iron Peak Fitness", "Dana", "Brooks", None, "(720) 555-0133", "USD", True),
    ("Juniper Wellness", "Chloe", "Martin", "ap@juniperwellness.example", None, "USD", True),
    ("Kestrel Aviation Ltd", "Oliver", "Hughes", "accounts.payable@kestrel.example", "+44 20 5550 0199", "GBP", True),
    ("Lakeside Cafe", "Ben", "Carter", "ben@lakesidecafe.example", None, "USD", False),
)  # fmt: skip

# (customer number, issued days ago, total, payment terms in days)
INVOICES: tuple[tuple[int, int, str, int], ...] = (
    (1, 95, "4250.00", 30), (1, 40, "1830.50", 30), (1, 10, "2200.00", 30),
    (2, 75, "9800.00", 30), (2, 50, "3120.75", 30), (2, 5, "640.00", 15),
    (3, 120, "15000.00", 45), (3, 62, "7500.00", 45),
    (4, 33, "812.40", 30), (4, 20, "1295.00", 30), (4, 3, "455.10", 30),
    (5, 88, "2600.00", 60), (5, 58, "2600.00", 60), (5, 28, "2600.00", 60),
    (6, 70, "3400.00", 30), (6, 45, "1250.00", 30), (6, 12, "980.00", 30),
    (7, 35, "389.99", 14), (7, 30, "129.50", 14),
    (8, 64, "450000", 30), (8, 41, "1280000", 30), (8, 9, "325000", 30),
    (9, 55, "1750.00", 30),
    (10, 47, "620.00", 30), (10, 15, "980.00", 30),
    (11, 80, "12400.00", 30), (11, 34, "8600.00", 30), (11, 6, "2150.00", 30),
    (2, 150, "310.00", 30),
    (3, 2, "4800.00", 45),
)  # fmt: skip
VOIDED_INVOICES = (18,)
"""Invoice 1019 (Golden Gate Print Shop) was voided."""

# (credit memo: customer number, issued days ago, total)
CREDIT_MEMOS: tuple[tuple[int, int, str], ...] = ((4, 16, "150.00"), (2, 8, "200.00"))

# (invoices paid (index in INVOICES) with the amount each, received days ago, reference)
PAYMENTS: tuple[tuple[tuple[tuple[int, str], ...], int, str], ...] = (
    (((0, "4250.00"),), 60, "CHK 10234"),
    (((3, "9800.00"),), 44, "ACH 554301"),
    (((4, "1000.00"),), 21, "CHK 10571"),
    (((6, "15000.00"),), 70, "WIRE 88120"),
    (((11, "2600.00"), (12, "2600.00")), 25, "ACH 556012"),
    (((15, "1250.00"),), 14, "SEPA 20331"),
    (((19, "450000"),), 30, "FURIKOMI 0412"),
    (((23, "300.00"),), 10, "CHK 2201"),
    (((25, "12400.00"),), 48, "BACS 7781"),
    (((28, "310.00"),), 115, "CASH"),
)
# (credit memo (index in CREDIT_MEMOS) applied to an invoice (index in INVOICES), amount, days ago)
CREDIT_APPLICATIONS: tuple[tuple[int, int, str, int], ...] = ((0, 9, "150.00", 15),)
# (refund receipt: customer number, days ago, total, what)
REFUNDS: tuple[tuple[int, int, str, str], ...] = ((7, 20, "45.00", "Returned banner stand"),)

_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<what>\*|COUNT\(\*\))\s+FROM\s+(?P<entity>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s*BY\s+(?P<order>[\w.]+)(?:\s+(?P<direction>ASC|DESC))?)?"
    r"(?:\s+STARTPOSITION\s+(?P<start>\d+))?"
    r"(?:\s+MAXRESULTS\s+(?P<max>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(r"^\s*([\w.]+)\s*(=|<=|>=|<|>|IN)\s*(.+?)\s*$", re.IGNORECASE | re.DOTALL)
_VALUE = re.compile(r"'((?:[^'\\]|\\.)*)'|(true|false)|(-?\d+(?:\.\d+)?)", re.IGNORECASE)


def signature(body: bytes, verifier_token: str) -> str:
    """The ``intuit-signature`` header: base64 of HMAC-SHA256(verifier token, body)."""
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()


def _digest(*parts: object) -> str:
    return hashlib.sha256(":".join(str(part) for part in parts).encode()).hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # QuickBooks sends amounts as JSON numbers (1830.5)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, default=_encode), status, headers=headers, content_type="application/json")


class QueryError(ValueError):
    """A query the stand-in (like QuickBooks) cannot read."""


class Refusal(ValueError):
    """A request QuickBooks refuses: ``code`` and ``detail`` as its Fault gives them."""

    def __init__(self, message: str, detail: str, code: str = "6000", status: int = 400) -> None:
        super().__init__(message)
        self.detail, self.code, self.status = detail, code, status


def fault(message: str, detail: str, code: str, kind: str = "ValidationFault", status: int = 400) -> Response:
    """QuickBooks' error body (python-quickbooks reads ``Fault.Error[].code``)."""
    error = {"Message": message, "Detail": detail, "code": code, "element": ""}
    return _json({"Fault": {"Error": [error], "type": kind}, "time": _stamp(clock.now())}, status)


def _values(text: str) -> list[Any]:
    found: list[Any] = []
    for match in _VALUE.finditer(text):
        quoted, boolean, number = match.groups()
        if quoted is not None:
            found.append(quoted.replace("\\'", "'"))
        elif boolean is not None:
            found.append(boolean.lower() == "true")
        else:
            found.append(Decimal(number))
    if not found:
        raise QueryError(f"no value in '{text}'")
    return found


def _field(record: dict[str, Any], name: str) -> Any:
    value: Any = record
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, dict) and "value" in value:  # CustomerRef = '3' compares the reference's value
        value = value["value"]
    return value


def _compare(left: Any, operator: str, right: Any) -> bool:
    if left is None:
        return False
    if isinstance(right, Decimal):
        left = Decimal(str(left))
    elif isinstance(right, str):
        left = str(left)
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: bool(a == b),
        "<": lambda a, b: bool(a < b),
        ">": lambda a, b: bool(a > b),
        "<=": lambda a, b: bool(a <= b),
        ">=": lambda a, b: bool(a >= b),
    }
    return comparisons[operator](left, right)


@dataclass
class Condition:
    field: str
    operator: str
    values: list[Any]

    def matches(self, record: dict[str, Any]) -> bool:
        value = _field(record, self.field)
        if self.operator == "IN":
            return any(_compare(value, "=", choice) for choice in self.values)
        return _compare(value, self.operator, self.values[0])


@dataclass
class Query:
    """A query in QuickBooks' language, as the stand-in answers it."""

    entity: str
    count: bool = False
    conditions: list[Condition] = field(default_factory=list)
    order: str | None = None
    descending: bool = False
    start: int = 1
    max_results: int = 100

    @classmethod
    def parse(cls, text: str) -> Query:
        match = _QUERY.match(text)
        if match is None:
            raise QueryError(f"cannot read the query '{text[:200]}'")
        entity = next((name for name in ENTITIES if name.lower() == match["entity"].lower()), None)
        if entity is None:
            raise QueryError(f"no entity {match['entity']} here")
        conditions = []
        for part in re.split(r"\s+AND\s+", match["where"] or "", flags=re.IGNORECASE) if match["where"] else []:
            condition = _CONDITION.match(part)
            if condition is None:
                raise QueryError(f"cannot read the condition '{part}'")
            conditions.append(Condition(condition[1], condition[2].upper(), _values(condition[3])))
        max_results = int(match["max"] or 100)
        if max_results > 1000:
            raise QueryError("MAXRESULTS is at most 1000")
        return cls(
            entity=entity,
            count=match["what"] != "*",
            conditions=conditions,
            order=match["order"],
            descending=(match["direction"] or "").upper() == "DESC",
            start=max(int(match["start"] or 1), 1),
            max_results=max_results,
        )

    def select(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        asks_active = any(condition.field == "Active" for condition in self.conditions)
        chosen = [
            record
            for record in records
            if all(condition.matches(record) for condition in self.conditions)
            and (asks_active or self.entity != "Customer" or record.get("Active", True))
        ]
        order = self.order or "Id"
        chosen.sort(key=lambda record: _sort_key(_field(record, order)), reverse=self.descending)
        return chosen


def _sort_key(value: Any) -> tuple[int, Any]:
    text = str(value or "")
    return (0, int(text)) if text.isdigit() else (1, text)


@dataclass
class Delivery:
    body: str
    status: int
    response: str


class LocalQuickBooks:
    """One QuickBooks company and its Intuit app; ``handle`` answers requests under ``/dev/quickbooks``."""

    PREFIX = "/dev/quickbooks"

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        verifier_token: str,
        realm_id: str = REALM_ID,
        spawn: Callable[[Callable[[], object], str], object] | None = None,
        subscriber: Callable[[], str | None] | None = None,
    ) -> None:
        """``spawn(target, name)`` runs a webhook sent later (the local runtime counts it as activity);
        ``subscriber()`` is the organization whose endpoint gets the webhooks until :meth:`subscribe`."""
        self.base_url = base_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.verifier_token = verifier_token
        self.realm_id = realm_id
        self._webhook_url: str | None = None
        self._subscriber = subscriber
        self.webhook_format = "cloudevents"
        self.deliveries: list[dict[str, Any]] = []
        self.calls: list[str] = []
        self._previous_refresh: str | None = None
        self._access_tokens: set[str] = set()
        self._issued = 0
        self._refusals: list[tuple[int, int]] = []
        self._requests: dict[str, dict[str, Any]] = {}
        self._deleted: list[dict[str, Any]] = []
        self.records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in ENTITIES}
        self._next_id = 101
        self._next_number = 1001
        self._lock = threading.RLock()
        self._spawn = spawn
        self._seeding = True
        self.seeded_at = clock.now()
        self._seed(self.seeded_at)
        self._seeding = False

    # ------------------------------------------------------------ addresses and settings
    @property
    def api_base(self) -> str:
        """What ``QUICKBOOKS_API_BASE`` is set to (python-quickbooks appends ``/company/{realm}/…``)."""
        return f"{self.base_url}{self.PREFIX}/v3"

    @property
    def discovery_url(self) -> str:
        """What ``QUICKBOOKS_DISCOVERY_URL`` is set to: Intuit's OpenID discovery document, here."""
        return f"{self.base_url}{self.PREFIX}/.well-known/openid_configuration"

    def connection(self) -> dict[str, Any]:
        """The settings and secret that connect an organization to this company (as the API takes them)."""
        return {
            "settings": {"realmId": self.realm_id, "environment": "sandbox", "minorVersion": 75},
            "secret": {
                "clientId": self.client_id,
                "clientSecret": self.client_secret,
                "refreshToken": self.refresh_token,
                "webhookVerifierToken": self.verifier_token,
            },
        }

    def endpoint(self, organization_id: str) -> str:
        return f"{self.base_url}/v1/integrations/quickbooks/webhooks/{organization_id}"

    def subscribe(self, organization_id: str | None) -> str | None:
        """Send the app's webhooks to ``organization_id``'s endpoint, as set in Intuit's developer portal
        (None: send none)."""
        self._webhook_url = self.endpoint(organization_id) if organization_id else ""
        return self.webhook_url

    @property
    def webhook_url(self) -> str | None:
        if self._webhook_url is not None:
            return self._webhook_url or None
        organization = self._subscriber() if self._subscriber is not None else None
        return self.endpoint(organization) if organization else None

    def refuse_next(self, times: int = 1, retry_after: int = 1, status: int = 429) -> None:
        """The next ``times`` API calls answer ``status`` (429: throttled, with ``Retry-After``)."""
        with self._lock:
            self._refusals.extend([(status, retry_after)] * times)

    # ------------------------------------------------------------ the company
    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id - 1)

    def _number(self) -> str:
        self._next_number += 1
        return str(self._next_number - 1)

    def _meta(self, moment: datetime) -> dict[str, str]:
        return {"CreateTime": _stamp(moment), "LastUpdatedTime": _stamp(moment)}

    def _touch(self, record: dict[str, Any]) -> None:
        record["MetaData"]["LastUpdatedTime"] = _stamp(clock.now())
        record["SyncToken"] = str(int(record["SyncToken"]) + 1)

    def _seed(self, now: datetime) -> None:
        for number, (name, given, family, emails, phone, currency, active) in enumerate(CUSTOMERS, start=1):
            customer: dict[str, Any] = {
                "Id": str(number),
                "SyncToken": "0",
                "domain": "QBO",
                "sparse": False,
                "DisplayName": name,
                "CompanyName": name,
                "GivenName": given,
                "FamilyName": family,
                "PrintOnCheckName": name,
                "Active": active,
                "Taxable": False,
                "Job": False,
                "BillWithParent": False,
                "Balance": Decimal(0),
                "BalanceWithJobs": Decimal(0),
                "CurrencyRef": {"value": currency, "name": CURRENCY_NAMES[currency]},
                "PreferredDeliveryMethod": "Email",
                "MetaData": self._meta(now),
            }
            if emails:
                customer["PrimaryEmailAddr"] = {"Address": emails}
            if phone:
                customer["PrimaryPhone"] = {"FreeFormNumber": phone}
            self.records["Customer"][customer["Id"]] = customer
        self._seed_transactions(now)

    def _seed_transactions(self, now: datetime) -> None:
        today = now.date()
        invoices = [
            self._invoice(str(number), Decimal(total), today - timedelta(days=ago), terms, now)
            for number, ago, total, terms in INVOICES
        ]
        credits = [
            self._credit_memo(str(number), Decimal(total), today - timedelta(days=ago), now)
            for number, ago, total in CREDIT_MEMOS
        ]
        for index in VOIDED_INVOICES:
            self._void(invoices[index])
        for paid, ago, reference in PAYMENTS:
            lines = [(invoices[index]["Id"], "Invoice", Decimal(amount)) for index, amount in paid]
            received = sum((amount for _, _, amount in lines), Decimal(0))
            payer = invoices[paid[0][0]]["CustomerRef"]["value"]
            self._payment(payer, received, today - timedelta(days=ago), lines, reference, None, now)
        for credit, invoice, amount, ago in CREDIT_APPLICATIONS:
            lines = [
                (invoices[invoice]["Id"], "Invoice", Decimal(amount)),
                (credits[credit]["Id"], "CreditMemo", Decimal(amount)),
            ]
            payer = invoices[invoice]["CustomerRef"]["value"]
            self._payment(payer, Decimal(0), today - timedelta(days=ago), lines, None, None, now)
        for number, ago, total, what in REFUNDS:
            self._refund(str(number), Decimal(total), today - timedelta(days=ago), what, now)

    def _customer(self, customer_id: str) -> dict[str, Any]:
        customer = self.records["Customer"].get(customer_id)
        if customer is None:
            raise Refusal("Invalid Reference Id", f"Invalid Reference Id : Customer {customer_id} not found", "2500")
        return customer

    def _transaction(self, customer_id: str, total: Decimal, day: date, now: datetime) -> dict[str, Any]:
        customer = self._customer(customer_id)
        currency = customer["CurrencyRef"]
        return {
            "Id": self._new_id(),
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "TxnDate": day.isoformat(),
            "CustomerRef": {"value": customer["Id"], "name": customer["DisplayName"]},
            "CurrencyRef": dict(currency),
            "ExchangeRate": EXCHANGE_RATES[currency["value"]],
            "TotalAmt": total,
            "MetaData": self._meta(now),
        }

    def _invoice(self, customer_id: str, total: Decimal, day: date, terms: int, now: datetime) -> dict[str, Any]:
        invoice = self._transaction(customer_id, total, day, now)
        customer = self.records["Customer"][customer_id]
        invoice.update(
            DocNumber=self._number(),
            DueDate=(day + timedelta(days=terms)).isoformat(),
            Balance=total,
            Line=[
                {
                    "Id": "1",
                    "LineNum": 1,
                    "Description": "Professional services",
                    "Amount": total,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": "1", "name": "Services"},
                        "Qty": 1,
                        "UnitPrice": total,
                    },
                },
                {"Amount": total, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}},
            ],
            LinkedTxn=[],
            EmailStatus="EmailSent" if customer.get("PrimaryEmailAddr") else "NotSet",
            PrintStatus="NotSet",
            AllowOnlineCreditCardPayment=True,
            AllowOnlineACHPayment=True,
        )
        if customer.get("PrimaryEmailAddr"):
            invoice["BillEmail"] = {"Address": customer["PrimaryEmailAddr"]["Address"].split(",")[0].strip()}
        self.records["Invoice"][invoice["Id"]] = invoice
        return invoice

    def _credit_memo(self, customer_id: str, total: Decimal, day: date, now: datetime) -> dict[str, Any]:
        credit = self._transaction(customer_id, total, day, now)
        credit.update(
            DocNumber=f"CM{self._number()}",
            RemainingCredit=total,
            Balance=total,
            Line=[{"Id": "1", "LineNum": 1, "Description": "Credit for damaged goods", "Amount": total,
                   "DetailType": "SalesItemLineDetail"}],
        )  # fmt: skip
        self.records["CreditMemo"][credit["Id"]] = credit
        return credit

    def _payment(
        self,
        customer_id: str,
        total: Decimal,
        day: date,
        lines: list[tuple[str, str, Decimal]],
        reference: str | None,
        note: str | None,
        now: datetime,
    ) -> dict[str, Any]:
        """A Payment of ``total`` applied to the lines' invoices (and credit memos), their balances lowered."""
        for txn_id, kind, amount in lines:
            target = self.records[kind].get(txn_id)
            if target is None or target["CustomerRef"]["value"] != customer_id:
                raise Refusal("Invalid Reference Id", f"Invalid Reference Id : {kind} {txn_id} not found", "2500")
            if amount <= 0 or amount > target["Balance"]:
                detail = f"Business Validation Error: {amount} is more than the open balance of {kind} {txn_id}"
                raise Refusal("A business validation error has occurred while processing your request", detail)
        applied = sum((amount for _, kind, amount in lines if kind == "Invoice"), Decimal(0))
        credited = sum((amount for _, kind, amount in lines if kind == "CreditMemo"), Decimal(0))
        if applied > total + credited:
            detail = "Business Validation Error: the amounts applied are more than the payment and its credits"
            raise Refusal("A business validation error has occurred while processing your request", detail)
        payment = self._transaction(customer_id, total, day, now)
        payment.update(
            UnappliedAmt=total + credited - applied,
            ProcessPayment=False,
            Line=[
                {"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": kind}], "LineEx": {"any": []}}
                for txn_id, kind, amount in lines
            ],
        )
        if reference:
            payment["PaymentRefNum"] = reference
        if note:
            payment["PrivateNote"] = note
        for txn_id, kind, amount in lines:
            target = self.records[kind][txn_id]
            target["Balance"] -= amount
            if kind == "CreditMemo":
                target["RemainingCredit"] = target["Balance"]
            else:
                target["LinkedTxn"].append({"TxnId": payment["Id"], "TxnType": "Payment"})
            if not self._seeding:
                self._touch(target)
        self.records["Payment"][payment["Id"]] = payment
        return payment

    def _refund(self, customer_id: str, total: Decimal, day: date, what: str, now: datetime) -> dict[str, Any]:
        refund = self._transaction(customer_id, total, day, now)
        refund.update(
            DocNumber=f"R{self._number()}",
            Balance=Decimal(0),
            PaymentMethodRef={"value": "1", "name": "Check"},
            Line=[{"Id": "1", "LineNum": 1, "Description": what, "Amount": total, "DetailType": "SalesItemLineDetail"}],
        )
        self.records["RefundReceipt"][refund["Id"]] = refund
        return refund

    def _void(self, invoice: dict[str, Any]) -> None:
        """What QuickBooks does to a voided invoice: kept, amounts zero, its note saying so."""
        invoice.update(TotalAmt=Decimal(0), Balance=Decimal(0), PrivateNote="Voided")
        for line in invoice["Line"]:
            line["Amount"] = Decimal(0)

    # ------------------------------------------------------------ changes at the source
    def _open_invoices(self) -> list[dict[str, Any]]:
        return [invoice for invoice in self.records["Invoice"].values() if invoice["Balance"] > 0]

    def new_invoice(
        self, customer_id: str = "2", total: str = "1480.00", terms: int = 30, notify: bool = True
    ) -> dict[str, Any]:
        """A new invoice, issued today."""
        with self._lock:
            now = clock.now()
            invoice = self._invoice(customer_id, Decimal(total), now.date(), terms, now)
        self._announce([("Invoice", invoice["Id"], "created")], notify)
        return invoice

    def receive_payment(
        self, invoice_id: str | None = None, amount: str | None = None, notify: bool = True
    ) -> dict[str, Any]:
        """The customer pays an invoice (the oldest open one unless told), in full unless told."""
        with self._lock:
            open_invoices = self._open_invoices()
            invoice = self.records["Invoice"][invoice_id] if invoice_id else open_invoices[0]
            paid = Decimal(amount) if amount else invoice["Balance"]
            now = clock.now()
            reference = f"CHK {30001 + len(self.records['Payment'])}"
            lines = [(invoice["Id"], "Invoice", paid)]
            payment = self._payment(invoice["CustomerRef"]["value"], paid, now.date(), lines, reference, None, now)
        self._announce([("Payment", payment["Id"], "created"), ("Invoice", invoice["Id"], "updated")], notify)
        return payment

    def delete_customer(self, customer_id: str | None = None, notify: bool = True) -> dict[str, Any]:
        """QuickBooks' "delete" of a customer: made inactive (the last active one unless told)."""
        with self._lock:
            active = [c for c in self.records["Customer"].values() if c["Active"]]
            customer = self.records["Customer"][customer_id] if customer_id else active[-1]
            customer["Active"] = False
            customer["DisplayName"] = f"{customer['DisplayName']} (deleted)"
            self._touch(customer)
        self._announce([("Customer", customer["Id"], "deleted")], notify)
        return customer

    def void_invoice(self, invoice_id: str | None = None, notify: bool = True) -> dict[str, Any]:
        """Void an invoice (the newest open one unless told)."""
        with self._lock:
            invoice = self.records["Invoice"][invoice_id] if invoice_id else self._open_invoices()[-1]
            self._void(invoice)
            self._touch(invoice)
        self._announce([("Invoice", invoice["Id"], "voided")], notify)
        return invoice

    def delete_invoice(self, invoice_id: str | None = None, notify: bool = True) -> dict[str, Any]:
        """Delete an invoice outright (the newest open one unless told)."""
        with self._lock:
            invoice = self.records["Invoice"].pop(invoice_id) if invoice_id else None
            if invoice is None:
                invoice = self.records["Invoice"].pop(self._open_invoices()[-1]["Id"])
            stamp = _stamp(clock.now())
            self._deleted.append({"entity": "Invoice", "Id": invoice["Id"], "at": stamp})
        self._announce([("Invoice", invoice["Id"], "deleted")], notify)
        return invoice

    def malformed_invoice(self, notify: bool = True) -> dict[str, Any]:
        """An invoice Relance cannot take as it is: half a yen (JPY has no decimals)."""
        with self._lock:
            now = clock.now()
            invoice = self._invoice("8", Decimal("1500.5"), now.date(), 30, now)
        self._announce([("Invoice", invoice["Id"], "created")], notify)
        return invoice

    # ------------------------------------------------------------ webhooks
    def _announce(self, changes: list[tuple[str, str, str]], notify: bool) -> None:
        if notify and self.webhook_url:
            self.deliver(self.notification(changes))

    def notification(self, changes: list[tuple[str, str, str]]) -> str:
        """The webhook body announcing ``(entity, id, created|updated|deleted|voided)`` changes."""
        now = _stamp(clock.now())
        if self.webhook_format == "legacy":
            operations = {"created": "Create", "updated": "Update", "deleted": "Delete", "voided": "Void"}
            entities = [
                {"name": entity, "id": entity_id, "operation": operations[verb], "lastUpdated": now}
                for entity, entity_id, verb in changes
            ]
            return json.dumps(
                {"eventNotifications": [{"realmId": self.realm_id, "dataChangeEvent": {"entities": entities}}]}
            )
        source = hashlib.sha256(self.client_id.encode()).hexdigest()[:43]
        with self._lock:
            count = len(self.deliveries)
        return json.dumps(
            [
                {
                    "specversion": "1.0",
                    "id": f"{count:08x}-0000-4000-8000-{index:012x}-{entity}-{entity_id}",
                    "source": f"intuit.{source}",
                    "type": f"qbo.{entity.lower()}.{verb}.v1",
                    "datacontenttype": "application/json",
                    "time": now,
                    "intuitentityid": entity_id,
                    "intuitaccountid": self.realm_id,
                }
                for index, (entity, entity_id, verb) in enumerate(changes)
            ]
        )

    def deliver(self, body: str, url: str | None = None) -> dict[str, Any]:
        """POST one notification, signed with the verifier token; the delivery as listed."""
        target = url or self.webhook_url
        if target is None:
            raise ValueError("no webhook endpoint: subscribe() first")
        headers = {
            "Content-Type": "application/json",
            "intuit-signature": signature(body.encode(), self.verifier_token),
            "User-Agent": "Intuit-Webhooks/1.0",
        }
        status, text = webhook_delivery.post(target, body.encode(), headers, timeout=60)
        delivery = {"body": json.loads(body), "status": status, "response": text}
        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    # ------------------------------------------------------------ HTTP
    def handle(self, request: Request) -> Response | None:
        path = request.path.rstrip("/")
        if not path.startswith(self.PREFIX):
            return None
        rest = path.removeprefix(self.PREFIX)
        if rest == "/.well-known/openid_configuration" and request.method == "GET":
            return _json(self._discovery())
        if rest == "/oauth2/v1/tokens/bearer" and request.method == "POST":
            return self._token(request)
        if rest.startswith("/v3/company/"):
            return self._api(request, rest.removeprefix("/v3/company/"))
        if rest.startswith("/invoice-link/") and request.method == "GET":
            return self._shared_invoice(rest.removeprefix("/invoice-link/"))
        return self._dev(request, rest)

    def _discovery(self) -> dict[str, str]:
        base = f"{self.base_url}{self.PREFIX}"
        return {
            "issuer": f"{base}/op/v1",
            "authorization_endpoint": f"{base}/connect/oauth2",
            "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
            "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
            "revocation_endpoint": f"{base}/oauth2/v1/tokens/revoke",
            "jwks_uri": f"{base}/oauth2/v1/keys",
        }

    def _token(self, request: Request) -> Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return _json({"error": "invalid_client"}, 401)
        if request.form.get("grant_type") != "refresh_token":
            return _json({"error": "unsupported_grant_type"}, 400)
        with self._lock:
            given = request.form.get("refresh_token")
            if given not in {self.refresh_token, self._previous_refresh}:
                return _json({"error": "invalid_grant"}, 400)
            self._issued += 1
            self._previous_refresh = self.refresh_token
            self.refresh_token = f"RT1-{_digest(self.client_secret, 'refresh', self._issued)[:40]}"
            access = f"eyJlbmMiOi{_digest(self.client_secret, 'access', self._issued)}"
            self._access_tokens.add(access)
            answer = {
                "token_type": "bearer",
                "access_token": access,
                "refresh_token": self.refresh_token,
                "expires_in": 3600,
                "x_refresh_token_expires_in": 8726400,
            }
        return _json(answer)

    def _api(self, request: Request, rest: str) -> Response:
        realm, _, route = rest.partition("/")
        with self._lock:
            self.calls.append(f"{request.method} {route}")
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in self._access_tokens:
                return fault("message=AuthenticationFailed; errorCode=003200; statusCode=401", "", "3200",
                             "AUTHENTICATION", 401)  # fmt: skip
            if realm != self.realm_id:
                return fault("message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403", "", "3100",
                             "AUTHENTICATION", 403)  # fmt: skip
            if self._refusals:
                status, retry_after = self._refusals.pop(0)
                return self._refused(status, retry_after)
            try:
                return self._route(request, route)
            except QueryError as error:
                return fault("Error parsing query", f"QueryParserError: {error}", "4000")
            except Refusal as error:
                return fault(str(error), error.detail, error.code, status=error.status)

    @staticmethod
    def _refused(status: int, retry_after: int) -> Response:
        if status != 429:
            return Response("Service Unavailable", status)
        error = {
            "message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
            "detail": "The request limit was reached.",
            "code": "3001",
        }
        body = {"fault": {"error": [error], "type": "SERVICE"}, "time": _stamp(clock.now())}
        return _json(body, 429, headers={"Retry-After": str(retry_after)})

    def _route(self, request: Request, route: str) -> Response:
        if route == "query" and request.method == "POST":
            query = Query.parse(request.get_data(as_text=True))
            return self._query(query, request.args.get("include") == "invoiceLink")
        if route == "cdc" and request.method == "GET":
            return self._cdc(request.args.get("entities", ""), request.args.get("changedSince", ""))
        if route == "payment" and request.method == "POST":
            return self._create_payment(request)
        match = re.fullmatch(r"(\w+)/(\d+)(/pdf)?", route)
        if match and request.method == "GET":
            entity = next((name for name in ENTITIES if name.lower() == match[1]), None)
            record = self.records[entity].get(match[2]) if entity else None
            if record is None:
                raise Refusal("Object Not Found", f"Object Not Found : {entity or match[1]} {match[2]}", "610")
            if match[3]:
                return Response(self.pdf(record), content_type="application/pdf")
            return _json({entity: record, "time": _stamp(clock.now())})
        raise Refusal("Unsupported Operation", f"Operation {request.method} {route} is not supported.", "500")

    def _query(self, query: Query, invoice_link: bool) -> Response:
        chosen = query.select(list(self.records[query.entity].values()))
        now = _stamp(clock.now())
        if query.count:
            return _json({"QueryResponse": {"totalCount": len(chosen)}, "time": now})
        page = chosen[query.start - 1 : query.start - 1 + query.max_results]
        if query.entity == "Invoice" and invoice_link:
            page = [{**invoice, "InvoiceLink": self.invoice_link(invoice["Id"])} for invoice in page]
        if not page:
            return _json({"QueryResponse": {}, "time": now})
        return _json(
            {"QueryResponse": {query.entity: page, "startPosition": query.start, "maxResults": len(page)}, "time": now}
        )

    def _cdc(self, entities: str, changed_since: str) -> Response:
        try:
            since = datetime.fromisoformat(changed_since)
        except ValueError as error:
            raise Refusal("Invalid Date", f"changedSince '{changed_since}' is not a date and time", "2040") from error
        now = clock.now()
        if since.tzinfo is None or now - since > CDC_WINDOW:
            raise Refusal("Invalid Date", "changedSince must be within the last 30 days", "2040")
        responses = []
        for name in entities.split(","):
            entity = next((known for known in ENTITIES if known.lower() == name.strip().lower()), None)
            if entity is None:
                continue
            changed: list[dict[str, Any]] = [
                record
                for record in self.records[entity].values()
                if datetime.fromisoformat(record["MetaData"]["LastUpdatedTime"]) >= since
            ]
            changed += [
                {"domain": "QBO", "status": "Deleted", "Id": gone["Id"], "MetaData": {"LastUpdatedTime": gone["at"]}}
                for gone in self._deleted
                if gone["entity"] == entity and datetime.fromisoformat(gone["at"]) >= since
            ]
            if changed:
                responses.append({entity: changed, "startPosition": 1, "maxResults": len(changed)})
        return _json({"CDCResponse": [{"QueryResponse": responses}], "time": _stamp(now)})

    def _create_payment(self, request: Request) -> Response:
        request_id = request.args.get("requestid")
        if request_id and request_id in self._requests:
            return _json(self._requests[request_id])
        try:
            body = json.loads(request.get_data(as_text=True))
            customer_id = str(body["CustomerRef"]["value"])
            total = Decimal(str(body["TotalAmt"]))
            lines = [
                (str(linked["TxnId"]), str(linked["TxnType"]), Decimal(str(line["Amount"])))
                for line in body.get("Line") or []
                for linked in line.get("LinkedTxn") or []
            ]
            day = date.fromisoformat(body.get("TxnDate") or clock.now().date().isoformat())
        except (ValueError, KeyError, TypeError, InvalidOperation) as error:
            raise Refusal("Request has invalid or unsupported property", f"Property: {error}", "2010") from error
        currency = (body.get("CurrencyRef") or {}).get("value")
        if currency and currency != self._customer(customer_id)["CurrencyRef"]["value"]:
            raise Refusal("Currency Error", "The currency must be the customer's currency", "6190")
        payment = self._payment(
            customer_id, total, day, lines, body.get("PaymentRefNum"), body.get("PrivateNote"), clock.now()
        )
        answer = {"Payment": payment, "time": _stamp(clock.now())}
        if request_id:
            self._requests[request_id] = answer
        changes = [("Payment", payment["Id"], "created")] + [
            ("Invoice", txn_id, "updated") for txn_id, kind, _ in lines if kind == "Invoice"
        ]
        self._later(lambda: self._announce(changes, True))
        return _json(answer)

    def _later(self, target: Callable[[], object]) -> None:
        """QuickBooks sends the webhooks of an API call after answering it."""
        if self._spawn is not None:
            self._spawn(target, "quickbooks-webhook")
        else:
            threading.Thread(target=target, name="quickbooks-webhook", daemon=True).start()

    # ------------------------------------------------------------ invoice PDFs
    def invoice_link(self, invoice_id: str) -> str:
        """The invoice's customer-facing page (QuickBooks' ``InvoiceLink``): public, so unguessable."""
        token = hashlib.sha256(f"{self.client_secret}:{invoice_id}".encode()).hexdigest()[:32]
        return f"{self.base_url}{self.PREFIX}/invoice-link/{invoice_id}-{token}"

    def _shared_invoice(self, name: str) -> Response:
        invoice_id = name.partition("-")[0]
        invoice = self.records["Invoice"].get(invoice_id)
        if invoice is None or self.invoice_link(invoice_id).rsplit("/", 1)[1] != name:
            return Response("Not found", 404)
        return Response(self.pdf(invoice), content_type="application/pdf")

    def pdf(self, record: dict[str, Any]) -> bytes:
        """The invoice as QuickBooks would print it (its number, customer, dates and amounts)."""
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=LETTER)
        canvas.setTitle(f"Invoice {record.get('DocNumber', record['Id'])}")
        lines = [
            "Relance Demo Co. (QuickBooks Online stand-in)",
            f"Invoice {record.get('DocNumber', record['Id'])}",
            f"Bill to: {record['CustomerRef']['name']}",
            f"Date: {record['TxnDate']}   Due: {record.get('DueDate', record['TxnDate'])}",
            f"Total: {record['TotalAmt']} {record['CurrencyRef']['value']}",
            f"Balance due: {record.get('Balance', 0)} {record['CurrencyRef']['value']}",
        ]
        for index, text in enumerate(lines):
            canvas.drawString(72, 720 - 20 * index, text)
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    # ------------------------------------------------------------ the dev page's buttons
    def _dev(self, request: Request, rest: str) -> Response:
        changes: dict[str, Callable[[], dict[str, Any]]] = {
            "/changes/new-invoice": self.new_invoice,
            "/changes/payment": self.receive_payment,
            "/changes/delete-customer": self.delete_customer,
            "/changes/void-invoice": self.void_invoice,
            "/changes/delete-invoice": self.delete_invoice,
            "/changes/malformed-invoice": self.malformed_invoice,
        }
        if request.method == "GET" and rest == "":
            return _json({**self.connection(), "webhookUrl": self.webhook_url, "deliveries": len(self.deliveries)})
        if request.method == "GET" and rest == "/webhooks":
            return _json(self.deliveries)
        if request.method == "POST" and rest == "/refuse":
            body = request.get_json(silent=True) or {}
            self.refuse_next(int(body.get("times", 1)), int(body.get("retryAfter", 1)), int(body.get("status", 429)))
            return _json({"refusing": len(self._refusals)})
        change = changes.get(rest) if request.method == "POST" else None
        if change is None:
            return _json({"error": {"code": "not_found", "message": "no such QuickBooks stand-in endpoint"}}, 404)
        try:
            record = change()
        except IndexError:  # no open invoice to pay or void, no active customer left
            return _json({"error": {"code": "conflict", "message": "nothing in the company to change that way"}}, 409)
        if "text/html" in request.headers.get("Accept", ""):  # the dev page's button
            return Response(status=303, headers={"Location": "/dev"})
        return _json(record)
