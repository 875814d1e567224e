"""QuickBooks Online: customers, invoices, payments, credit memos and refund receipts (docs/integrations.md).

Reads go through ``python-quickbooks`` (queries, Change Data Capture, one payment created) with an
``intuitlib`` OAuth 2 client: each connector refreshes the access token once, and QuickBooks may rotate
the refresh token on that call, so :meth:`QuickBooksConnector.rotated_secret` hands the new one back to
be stored. ``QUICKBOOKS_API_BASE`` and ``QUICKBOOKS_DISCOVERY_URL`` point both libraries elsewhere (the
local runtime's stand-in, ``local/quickbooks.py``); unset, they talk to Intuit for the connection's
environment.

- **Backfill** (no cursor): every Customer (inactive ones too), Invoice, CreditMemo, Payment and
  RefundReceipt, a page at a time (``STARTPOSITION``/``MAXRESULTS``, ordered by Id). The cursor then
  holds QuickBooks' own time of the first page, and later runs ask **Change Data Capture** for what
  changed since (``status: Deleted`` → a :class:`Removal`). CDC looks back 30 days at most and answers
  1,000 records at most: a longer gap, or a larger change, starts a backfill again.
- **Webhooks** (``intuit-signature``: base64 of the HMAC-SHA256 of the body with the verifier token),
  in Intuit's CloudEvents format or the older ``eventNotifications`` one: the entities named are read
  again (a delete is a removal, an entity QuickBooks no longer finds too).
- **Amounts**: QuickBooks' decimals → integer minor units by the currency's ISO 4217 exponent, as
  ``Decimal``; a currency Relance does not know, or more decimals than it has, is a
  :class:`RecordError`, and the rest of the page goes on.
- **Credits**: QuickBooks applies a credit memo to invoices through a Payment whose lines link both;
  within a payment the credit lines pay its invoice lines first, in line order, and the money the
  rest. A credit memo's allocations are read from its customer's payments. A RefundReceipt (goods
  taken back and paid back at once, outside accounts receivable) is a credit note and its refund.
- **Voided** (QuickBooks keeps a voided transaction, its amounts zeroed, its note "Voided"): a removal.
  An inactive customer (QuickBooks' "delete") comes back voided.
- **Write-back**: a Relance payment becomes a QuickBooks Payment linked to its invoice, its
  ``PrivateNote`` naming the Relance payment; a retry finds that payment (the customer's payments of
  that day) before creating one, and sends the same ``requestid``.
- **429** (500 requests a minute per company): retried by urllib3 with backoff, honouring
  ``Retry-After``; still throttled after that → :class:`SourceUnavailable`. 401/403 and a refused
  refresh token or client → :class:`SourceRefused`, saying what to fix.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import requests
from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError
from pydantic import BaseModel, ConfigDict, EmailStr, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_pascal
from quickbooks import QuickBooks
from quickbooks.exceptions import AuthorizationException, QuickbooksException
from quickbooks.objects.base import LinkedTxn, Ref
from quickbooks.objects.payment import Payment, PaymentLine
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from relance import clock
from relance.domain.base import RelanceModel
from relance.domain.money import Money
from relance.domain.sync import (
    Batch,
    CustomerLink,
    PaymentWriteBack,
    RecordError,
    RecordKind,
    Removal,
    SourceAllocation,
    SourceContact,
    SourceCreditNote,
    SourceCustomer,
    SourceInvoice,
    SourcePayment,
    SourceRecord,
    SourceRefund,
)
from relance.settings import get_settings
from relance.sync import Connector, SourceRefused, SourceUnavailable, WebhookRefused

PAGE_SIZE = 100
"""Records per backfill query (QuickBooks answers at most 1,000)."""
CDC_WINDOW = timedelta(days=30)
"""How far back Change Data Capture looks; a cursor older than this (less a margin) backfills again."""
CDC_MARGIN = timedelta(hours=1)
CDC_LIMIT = 1000
"""Change Data Capture answers at most this many records: a change that large backfills again."""
TIMEOUT = (5, 60)
"""Seconds to connect and to read: the libraries set none."""
RETRIES = Retry(
    total=4,
    status_forcelist=(429,),
    allowed_methods=None,  # a 429 was not processed: a query (POST) or a create is safe to send again
    backoff_factor=2,
    respect_retry_after_header=True,
    raise_on_status=False,  # the last 429 comes back, and becomes SourceUnavailable with its Retry-After
)

ENTITIES: tuple[tuple[str, RecordKind], ...] = (
    ("Customer", "customer"),
    ("Invoice", "invoice"),
    ("CreditMemo", "credit_note"),
    ("Payment", "payment"),
    ("RefundReceipt", "refund"),
)
"""What Relance reads, in the order a page applies them (a record's references come first)."""
KINDS: dict[str, RecordKind] = dict(ENTITIES)
_BY_LOWER = {name.lower(): name for name, _ in ENTITIES}
_OPERATIONS = {"created": "Create", "updated": "Update", "deleted": "Delete", "merged": "Merge", "voided": "Void"}


class Settings(RelanceModel):
    """The QuickBooks company this connection reads, and how."""

    realm_id: str = Field(
        pattern=r"^\d{1,32}$",
        description="the company's id (Realm ID, or Company ID: QuickBooks' Settings → Account and settings)",
    )
    environment: Literal["production", "sandbox"] = Field(
        default="production", description="a real company, or one of the Intuit developer account's sandboxes"
    )
    minor_version: int = Field(default=75, ge=75, le=999, description="the Accounting API's minor version")


class Secret(RelanceModel):
    """The Intuit app's keys and the company's OAuth refresh token (rotated: Relance stores the new one)."""

    client_id: str = Field(min_length=1, description="the Intuit app's Client ID (its Keys & credentials)")
    client_secret: str = Field(min_length=1, description="the Intuit app's Client Secret")
    refresh_token: str = Field(min_length=1, description="the company's OAuth 2 refresh token")
    webhook_verifier_token: str | None = Field(
        default=None, description="the app's webhook Verifier Token; without it webhooks are refused"
    )


def connect(settings: Mapping[str, Any], secret: Mapping[str, str]) -> Connector:
    """A connector to the company ``settings`` names; nothing is sent to QuickBooks until it is used."""
    return QuickBooksConnector(Settings.model_validate(settings), Secret.model_validate(secret))


# ---------------------------------------------------------------- QuickBooks' records, as read


class _Qbo(BaseModel):
    """The fields of a QuickBooks record that Relance reads (QuickBooks names them in PascalCase)."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="ignore")


class _Ref(BaseModel):
    model_config = ConfigDict(extra="ignore")

    value: str = Field(min_length=1)


class _Email(_Qbo):
    address: str | None = None


class _Phone(_Qbo):
    free_form_number: str | None = None


class _Customer(_Qbo):
    id: str
    display_name: str | None = None
    company_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    primary_email_addr: _Email | None = None
    primary_phone: _Phone | None = None
    mobile: _Phone | None = None
    currency_ref: _Ref | None = None
    active: bool = True


class _Transaction(_Qbo):
    id: str
    customer_ref: _Ref | None = None
    currency_ref: _Ref
    total_amt: Decimal
    txn_date: date
    doc_number: str | None = None
    private_note: str | None = None

    @property
    def voided(self) -> bool:
        """QuickBooks keeps a voided transaction, its amounts zero and its note starting "Voided"."""
        return self.total_amt == 0 and (self.private_note or "").startswith("Voided")

    @property
    def customer(self) -> str:
        if self.customer_ref is None:
            raise _Unmappable("no customer (CustomerRef)")
        return self.customer_ref.value


class _Invoice(_Transaction):
    due_date: date | None = None
    invoice_link: str | None = None


class _LinkedTxn(_Qbo):
    txn_id: str
    txn_type: str


class _PaymentLine(_Qbo):
    amount: Decimal
    linked_txn: list[_LinkedTxn] = Field(default_factory=list)


class _Payment(_Transaction):
    payment_ref_num: str | None = None
    line: list[_PaymentLine] = Field(default_factory=list)


class _Unmappable(ValueError):
    """A QuickBooks record that has no faithful Relance equivalent: reported, never guessed."""


class PaymentNotRecorded(ValueError):
    """QuickBooks refused the payment written back (the invoice gone, paid meanwhile, another currency):
    that payment only; it is kept for review and the run goes on."""


_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)


def _explain(error: ValidationError) -> str:
    parts = []
    for problem in error.errors()[:3]:
        where = ".".join(str(part) for part in problem["loc"])
        parts.append(f"{where}: {problem['msg']}" if where else str(problem["msg"]))
    return "; ".join(parts)


def minor_units(amount: Decimal, currency: str) -> int:
    """A QuickBooks amount (``12.5`` USD) in Relance's minor units (1250), exactly, by the ISO 4217 exponent."""
    try:
        digits = Money.zero(currency).minor_digits
    except ValidationError as error:
        raise _Unmappable(f"'{currency}' is not a currency Relance knows (ISO 4217)") from error
    if not amount.is_finite():
        raise _Unmappable(f"{amount} is not an amount")
    scaled = amount.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise _Unmappable(f"{amount} {currency} has more decimals than {currency}'s {digits}")
    return int(scaled)


def _major(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-Money.zero(currency).minor_digits)


def _currency(ref: _Ref) -> str:
    code = ref.value.upper()
    minor_units(Decimal(0), code)  # refuses a currency Relance does not know
    return code


def _contacts(customer: _Customer) -> tuple[list[SourceContact], list[str]]:
    """``PrimaryEmailAddr`` may hold several addresses, comma-separated: one contact each, the first the
    main one (with the customer's name and phone); an address that is not one is reported."""
    text = customer.primary_email_addr.address if customer.primary_email_addr else None
    contacts: list[SourceContact] = []
    refused: list[str] = []
    seen: set[str] = set()
    for piece in (text or "").replace(";", ",").split(","):
        address = piece.strip()
        if not address:
            continue
        try:
            email = _EMAIL.validate_python(address)
        except ValidationError:
            refused.append(address)
            continue
        if email.lower() in seen:
            continue
        seen.add(email.lower())
        if contacts:
            contacts.append(SourceContact(email=email))
            continue
        phone = customer.primary_phone or customer.mobile
        contacts.append(
            SourceContact(
                email=email,
                first_name=customer.given_name or None,
                last_name=customer.family_name or None,
                phone=(phone.free_form_number or None) if phone else None,
                is_main=True,
            )
        )
    return contacts, refused


def customer_record(raw: Mapping[str, Any]) -> tuple[SourceCustomer, list[RecordError]]:
    """A QuickBooks Customer; an inactive one (QuickBooks' "delete") is voided. The errors are the
    addresses of ``PrimaryEmailAddr`` that are not e-mail addresses (the customer and its other contacts
    are still synced)."""
    customer = _Customer.model_validate(raw)
    name = (customer.display_name or customer.company_name or "").strip()
    if not name:
        raise _Unmappable("no DisplayName or CompanyName")
    contacts, refused = _contacts(customer)
    errors = [  # the customer's, so the error goes once the address is corrected in QuickBooks
        RecordError(kind="customer", external_id=customer.id, message=f"'{address}' is not an e-mail address")
        for address in refused
    ]
    currency = _currency(customer.currency_ref) if customer.currency_ref else None
    record = SourceCustomer(
        external_id=customer.id, name=name, currency=currency, contacts=contacts, voided=not customer.active
    )
    return record, errors


def invoice_record(raw: Mapping[str, Any]) -> SourceInvoice:
    """A QuickBooks Invoice. ``pdf_url`` is its ``InvoiceLink`` (QuickBooks' customer-facing page, with
    the PDF, public) when QuickBooks has one: the API's ``/invoice/{id}/pdf`` needs the company's
    OAuth token, so no one else could follow it."""
    invoice = _Invoice.model_validate(raw)
    currency = _currency(invoice.currency_ref)
    return SourceInvoice(
        external_id=invoice.id,
        customer_external_id=invoice.customer,
        number=invoice.doc_number or invoice.id,
        currency=currency,
        amount=minor_units(invoice.total_amt, currency),
        issued_at=invoice.txn_date,
        due_at=invoice.due_date or invoice.txn_date,
        pdf_url=invoice.invoice_link or None,
        voided=invoice.voided,
    )


def _lines(payment: _Payment, kind: str, currency: str) -> list[tuple[str, int]]:
    """The (linked transaction, amount) of the payment's lines linked to a ``kind`` (Invoice, CreditMemo)."""
    return [
        (txn.txn_id, minor_units(line.amount, currency))
        for line in payment.line
        for txn in line.linked_txn
        if txn.txn_type == kind
    ]


def _split(payment: _Payment, currency: str) -> tuple[list[SourceAllocation], dict[str, list[SourceAllocation]]]:
    """The invoices a payment pays with money, and those its credit-memo lines pay with each credit.

    The credit lines pay the invoice lines first, in line order; the money pays what is left.
    """
    invoices = _lines(payment, "Invoice", currency)
    credits = _lines(payment, "CreditMemo", currency)
    by_credit: dict[str, list[SourceAllocation]] = {}
    paid: list[SourceAllocation] = []
    for invoice_id, amount in invoices:
        left = amount
        while left and credits:
            credit_id, available = credits[0]
            used = min(left, available)
            by_credit.setdefault(credit_id, []).append(SourceAllocation(invoice_external_id=invoice_id, amount=used))
            left -= used
            credits[0] = (credit_id, available - used)
            if credits[0][1] == 0:
                credits.pop(0)
        if left:
            paid.append(SourceAllocation(invoice_external_id=invoice_id, amount=left))
    return paid, by_credit


def payment_record(raw: Mapping[str, Any]) -> SourcePayment | None:
    """A QuickBooks Payment: the money it received and the invoices it paid with it (``Line[].LinkedTxn``
    of type Invoice). None for a payment of no money that only applies credits (see :func:`credit_allocations`)."""
    payment = _Payment.model_validate(raw)
    currency = _currency(payment.currency_ref)
    amount = minor_units(payment.total_amt, currency)
    if payment.voided:
        allocations: list[SourceAllocation] = []
    else:
        allocations, _ = _split(payment, currency)
        if amount == 0:
            return None
        if sum(allocation.amount for allocation in allocations) > amount:
            raise _Unmappable("it pays invoices with credits other than credit memos (e.g. a journal entry)")
    return SourcePayment(
        external_id=payment.id,
        customer_external_id=payment.customer,
        currency=currency,
        amount=amount,
        received_at=payment.txn_date,
        allocations=allocations,
        reference=payment.payment_ref_num or None,
        voided=payment.voided,
    )


def credit_allocations(payments: Sequence[Mapping[str, Any]]) -> dict[str, list[SourceAllocation]]:
    """Where each credit memo was applied, from the payments (of its customer) that apply it."""
    found: dict[str, list[SourceAllocation]] = {}
    for raw in payments:
        try:
            payment = _Payment.model_validate(raw)
            if payment.voided:
                continue
            _, by_credit = _split(payment, _currency(payment.currency_ref))
        except (ValidationError, _Unmappable):
            continue  # reported as the payment's own error
        for credit_id, allocations in by_credit.items():
            found.setdefault(credit_id, []).extend(allocations)
    return found


def credit_note_record(raw: Mapping[str, Any], allocations: list[SourceAllocation]) -> SourceCreditNote:
    """A QuickBooks CreditMemo, with the allocations its customer's payments give it."""
    credit = _Transaction.model_validate(raw)
    currency = _currency(credit.currency_ref)
    return SourceCreditNote(
        external_id=credit.id,
        customer_external_id=credit.customer,
        number=credit.doc_number or None,
        currency=currency,
        amount=minor_units(credit.total_amt, currency),
        issued_at=credit.txn_date,
        allocations=[] if credit.voided else _merged(allocations),
        voided=credit.voided,
    )


def _merged(allocations: list[SourceAllocation]) -> list[SourceAllocation]:
    totals: dict[str, int] = {}
    for allocation in allocations:
        totals[allocation.invoice_external_id] = totals.get(allocation.invoice_external_id, 0) + allocation.amount
    return [SourceAllocation(invoice_external_id=invoice, amount=amount) for invoice, amount in totals.items()]


def refund_credit_id(refund_id: str) -> str:
    """The external id of the credit a RefundReceipt gives before paying it back."""
    return f"RefundReceipt-{refund_id}"


def refund_records(raw: Mapping[str, Any]) -> tuple[SourceCreditNote, SourceRefund]:
    """A QuickBooks RefundReceipt: goods taken back and the money paid back at once, outside accounts
    receivable. In Relance a refund pays back a credit, so it is both: a credit note of the amount and
    its refund (the customer's balance does not move, as in QuickBooks)."""
    refund = _Transaction.model_validate(raw)
    currency = _currency(refund.currency_ref)
    amount = minor_units(refund.total_amt, currency)
    credit = SourceCreditNote(
        external_id=refund_credit_id(refund.id),
        customer_external_id=refund.customer,
        number=refund.doc_number or None,
        currency=currency,
        amount=amount,
        issued_at=refund.txn_date,
        voided=refund.voided,
    )
    paid_back = SourceRefund(
        external_id=refund.id,
        customer_external_id=refund.customer,
        currency=currency,
        amount=amount,
        refunded_at=refund.txn_date,
        credit_note_external_id=credit.external_id,
        reference=refund.doc_number or None,
        voided=refund.voided,
    )
    return credit, paid_back


# ---------------------------------------------------------------- webhooks


def signature(body: bytes, verifier_token: str) -> str:
    """The ``intuit-signature`` QuickBooks puts on a webhook: base64 of HMAC-SHA256(verifier token, body)."""
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)


def check_signature(body: bytes, headers: Mapping[str, str], verifier_token: str | None) -> None:
    """WebhookRefused unless ``intuit-signature`` is the body's, in constant time (python-quickbooks'
    ``validate_webhook_signature`` compares with ``==`` and fails on a malformed header)."""
    if not verifier_token:
        raise WebhookRefused("the QuickBooks connection has no webhook verifier token")
    given = _header(headers, "intuit-signature")
    if not given or not hmac.compare_digest(given.strip().encode(), signature(body, verifier_token).encode()):
        raise WebhookRefused("the intuit-signature header does not match the body")


class Notice(BaseModel):
    """One entity a webhook says changed."""

    entity: str
    id: str
    operation: str
    deleted_id: str | None = None


def notices(payload: Any, realm_id: str) -> list[Notice]:
    """The entities of ``realm_id`` a webhook names, in either of Intuit's formats: CloudEvents (a list
    of ``{"type": "qbo.invoice.updated.v1", "intuitentityid", "intuitaccountid"}``) or the older
    ``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [...]}}]}``."""
    found: list[Notice] = []
    if isinstance(payload, list):
        for event in payload:
            kind = str(event.get("type", "")).split(".") if isinstance(event, dict) else []
            if len(kind) < 3 or kind[0] != "qbo" or str(event.get("intuitaccountid")) != realm_id:
                continue
            data = event.get("data") if isinstance(event.get("data"), dict) else {}
            found.append(
                Notice(
                    entity=_BY_LOWER.get(kind[1], kind[1]),
                    id=str(event.get("intuitentityid", "")),
                    operation=_OPERATIONS.get(kind[2], kind[2]),
                    deleted_id=data.get("deletedid"),
                )
            )
        return found
    if not isinstance(payload, dict):
        raise WebhookRefused("not a QuickBooks webhook payload")
    for notification in payload.get("eventNotifications") or []:
        if str(notification.get("realmId")) != realm_id:
            continue
        for entity in (notification.get("dataChangeEvent") or {}).get("entities") or []:
            found.append(
                Notice(
                    entity=str(entity.get("name", "")),
                    id=str(entity.get("id", "")),
                    operation=str(entity.get("operation", "")),
                    deleted_id=entity.get("deletedId"),
                )
            )
    return found


# ---------------------------------------------------------------- the connection


class _Cursor(BaseModel):
    """Where a run stands: a backfill's entity and position, or the time Change Data Capture starts from."""

    phase: Literal["backfill", "cdc"] = "backfill"
    entity: int = 0
    start: int = 1
    since: str | None = None

    @classmethod
    def read(cls, text: str | None) -> _Cursor:
        if not text:
            return cls()
        try:
            return cls.model_validate_json(text)
        except ValidationError:
            return cls()  # not one of ours: reading everything again is always right

    def text(self) -> str:
        return self.model_dump_json()

    def expired(self) -> bool:
        if self.since is None:
            return True
        try:
            since = datetime.fromisoformat(self.since)
        except ValueError:
            return True
        return since.tzinfo is None or clock.now() - since > CDC_WINDOW - CDC_MARGIN


class _Client(QuickBooks):  # type: ignore[misc]  # python-quickbooks is untyped
    """python-quickbooks' client, its API address taken from ``QUICKBOOKS_API_BASE`` when set (the library
    hard-codes Intuit's production and sandbox addresses)."""

    api_base: str | None = None

    @property
    def api_url(self) -> str:
        return self.api_base.rstrip("/") if self.api_base else str(super().api_url)


class _Adapter(HTTPAdapter):
    """Every request with a timeout (neither library sets one) and 429s retried (urllib3's Retry)."""

    def __init__(self) -> None:
        super().__init__(max_retries=RETRIES)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        return super().send(request, stream, timeout or TIMEOUT, verify, cert, proxies)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(Retry().parse_retry_after(value))
    except Exception:
        return None


def _prepare(session: requests.Session, check: Callable[[requests.Response], None]) -> None:
    adapter = _Adapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.hooks["response"].append(lambda response, *_, **__: check(response))


class QuickBooksConnector:
    """One QuickBooks company, read and written for one organization (see the module's docstring)."""

    def __init__(self, settings: Settings, secret: Secret, page_size: int = PAGE_SIZE) -> None:
        self.settings = settings
        self.secret = secret
        self.page_size = page_size
        self._auth: Any = None
        self._qb: Any = None

    # ------------------------------------------------------------ Connector
    def changes(self, cursor: str | None) -> Batch:
        state = _Cursor.read(cursor)
        if state.phase == "cdc" and not state.expired():
            batch = self._changed_since(state)
            if batch is not None:
                return batch
        if state.phase == "cdc":
            state = _Cursor()  # CDC cannot look that far back (or that much changed): read everything again
        return self._backfill(state)

    def webhook(self, body: bytes, headers: Mapping[str, str]) -> Batch:
        check_signature(body, headers, self.secret.webhook_verifier_token)
        try:
            payload = json.loads(body)
        except ValueError as error:
            raise WebhookRefused("the body is not JSON") from error
        named = [notice for notice in notices(payload, self.settings.realm_id) if notice.entity in KINDS]
        batch = Batch()
        wanted: dict[str, list[str]] = {}
        for notice in named:
            if notice.deleted_id:  # a merge: the merged-away record is gone
                batch.removals.append(Removal(kind=KINDS[notice.entity], external_id=notice.deleted_id))
            if notice.operation == "Delete":
                batch.removals.append(Removal(kind=KINDS[notice.entity], external_id=notice.id))
            elif notice.operation != "Emailed":
                wanted.setdefault(notice.entity, []).append(notice.id)
        found = {entity: self._read_ids(entity, ids) for entity, ids in wanted.items()}
        for entity, ids in wanted.items():
            known = {str(row.get("Id")) for row in found[entity]}
            batch.removals.extend(Removal(kind=KINDS[entity], external_id=i) for i in ids if i not in known)
        self._map_into(batch, found, credits_from_payments=True)
        return batch

    def write_back_payment(self, payment: PaymentWriteBack) -> str | None:
        """A QuickBooks Payment paying the invoice, named in its ``PrivateNote``; the one already there when
        a first attempt created it (looked up among the customer's payments of that day)."""
        marker = f"Relance payment {payment.payment_id}"
        if not (payment.customer_external_id.isdigit() and payment.invoice_external_id.isdigit()):
            raise SourceRefused(f"payment {payment.payment_id}: its invoice is not a QuickBooks invoice")
        where = f"CustomerRef = '{payment.customer_external_id}' AND TxnDate = '{payment.received_at.isoformat()}'"
        for row in self._query_all("Payment", where):
            if marker in str(row.get("PrivateNote") or ""):
                return str(row["Id"])
        created = Payment()
        created.CustomerRef = _ref(payment.customer_external_id)
        created.CurrencyRef = _ref(payment.currency)
        created.TotalAmt = _major(payment.amount, payment.currency)
        created.TxnDate = payment.received_at.isoformat()
        reference = f" ({payment.reference})" if payment.reference not in (None, payment.payment_id) else ""
        created.PrivateNote = f"{marker}, recorded in Relance{reference}"
        if payment.reference:
            created.PaymentRefNum = payment.reference[:21]  # QuickBooks keeps 21 characters
        line = PaymentLine()
        line.Amount = created.TotalAmt
        linked = LinkedTxn()
        linked.TxnId, linked.TxnType, linked.TxnLineId = payment.invoice_external_id, "Invoice", None
        line.LinkedTxn = [linked]
        created.Line = [line]
        client = self._client()
        with self._talking(f"recording payment {payment.payment_id}"):
            try:
                saved = created.save(qb=client, request_id=payment.payment_id)
            except QuickbooksException as error:
                if isinstance(error, AuthorizationException):
                    raise
                detail = f"{error.message} {error.detail}".strip()
                raise PaymentNotRecorded(f"QuickBooks refused payment {payment.payment_id}: {detail}") from error
        return str(saved.Id)

    def write_back_link(self, link: CustomerLink) -> bool:
        return False  # a QuickBooks customer has no field for it

    def rotated_secret(self) -> dict[str, str] | None:
        rotated = self._auth.refresh_token if self._auth is not None else None
        if not rotated or rotated == self.secret.refresh_token:
            return None
        stored = self.secret.model_copy(update={"refresh_token": rotated})
        return {key: value for key, value in stored.model_dump(by_alias=True).items() if value is not None}

    # ------------------------------------------------------------ backfill and Change Data Capture
    def _backfill(self, state: _Cursor) -> Batch:
        entity, _ = ENTITIES[state.entity]
        rows, answered_at = self._query(entity, self._everything(entity), state.start, self.page_size)
        since = state.since or answered_at
        batch = Batch()
        self._map_into(batch, {entity: rows}, credits_from_payments=False)
        if len(rows) >= self.page_size:
            following = _Cursor(entity=state.entity, start=state.start + len(rows), since=since)
        elif state.entity + 1 < len(ENTITIES):
            following = _Cursor(entity=state.entity + 1, since=since)
        else:
            following = _Cursor(phase="cdc", since=since)
        batch.cursor = following.text()
        batch.more = following.phase == "backfill"
        return batch

    def _changed_since(self, state: _Cursor) -> Batch | None:
        names = ",".join(name for name, _ in ENTITIES)
        with self._talking("reading its changes"):
            answer = self._client().change_data_capture(names, state.since)
        rows: dict[str, list[dict[str, Any]]] = {}
        for response in (answer.get("CDCResponse") or [{}])[0].get("QueryResponse") or []:
            for name, _ in ENTITIES:
                rows.setdefault(name, []).extend(response.get(name) or [])
        if sum(len(found) for found in rows.values()) >= CDC_LIMIT:
            return None
        batch = Batch()
        present: dict[str, list[dict[str, Any]]] = {}
        for name, found in rows.items():
            for row in found:
                if str(row.get("status", "")).lower() == "deleted":  # what CDC says of a deleted record
                    batch.removals.append(Removal(kind=KINDS[name], external_id=str(row.get("Id"))))
                else:
                    present.setdefault(name, []).append(row)
        self._map_into(batch, present, credits_from_payments=True)
        batch.cursor = _Cursor(phase="cdc", since=str(answer.get("time") or state.since)).text()
        return batch

    # ------------------------------------------------------------ mapping
    def _map_into(self, batch: Batch, rows: Mapping[str, list[dict[str, Any]]], *, credits_from_payments: bool) -> None:
        """Map each entity's rows in ``ENTITIES`` order; a credit memo gets its allocations from its
        customer's payments, and (``credits_from_payments``) a changed payment that applies credit memos
        brings them along again."""
        credits = list(rows.get("CreditMemo", []))
        if credits_from_payments:
            named = {str(row.get("Id")) for row in credits}
            applied = {t["TxnId"] for row in rows.get("Payment", []) for t in _linked(row, "CreditMemo")}
            credits.extend(self._read_ids("CreditMemo", sorted(applied - named)))
        allocations = self._allocations_of(credits) if credits else {}
        for entity, kind in ENTITIES:
            for raw in credits if entity == "CreditMemo" else rows.get(entity, []):
                self._map_one(batch, kind, raw, allocations)

    @staticmethod
    def _map_one(batch: Batch, kind: RecordKind, raw: dict[str, Any], allocations: dict[str, Any]) -> None:
        external_id = str(raw.get("Id", ""))
        try:
            record: SourceRecord | tuple[SourceRecord, ...] | None
            if kind == "customer":
                record, errors = customer_record(raw)
                batch.errors.extend(errors)
            elif kind == "invoice":
                record = invoice_record(raw)
            elif kind == "credit_note":
                record = credit_note_record(raw, allocations.get(external_id, []))
            elif kind == "payment":
                record = payment_record(raw)
            else:
                record = refund_records(raw)
        except ValidationError as error:
            batch.errors.append(RecordError(kind=kind, external_id=external_id, message=_explain(error)))
            return
        except _Unmappable as error:
            batch.errors.append(RecordError(kind=kind, external_id=external_id, message=str(error)))
            return
        for one in record if isinstance(record, tuple) else (record,) if record is not None else ():
            if one.kind != "customer" and getattr(one, "voided", False):
                # QuickBooks zeroes a voided transaction's amounts: what Relance holds is voided (a removal),
                # and one it never saw has nothing left to keep
                batch.removals.append(Removal(kind=one.kind, external_id=one.external_id))
            else:
                batch.records.append(one)

    def _allocations_of(self, credits: list[dict[str, Any]]) -> dict[str, list[SourceAllocation]]:
        customers = sorted({str((row.get("CustomerRef") or {}).get("value", "")) for row in credits} - {""})
        payments: list[dict[str, Any]] = []
        for customer in customers:
            if customer.isdigit():
                payments.extend(self._query_all("Payment", f"CustomerRef = '{customer}'"))
        return credit_allocations(payments)

    # ------------------------------------------------------------ queries
    @staticmethod
    def _everything(entity: str) -> str:
        return "Active IN (true, false)" if entity == "Customer" else ""  # a query reads active customers only

    def _read_ids(self, entity: str, ids: list[str]) -> list[dict[str, Any]]:
        """The records of ``entity`` with these ids (those QuickBooks still has)."""
        ids = [i for i in dict.fromkeys(ids) if i.isdigit()]
        found: list[dict[str, Any]] = []
        for first in range(0, len(ids), self.page_size):
            chosen = ", ".join(f"'{i}'" for i in ids[first : first + self.page_size])
            where = " AND ".join(part for part in (f"Id IN ({chosen})", self._everything(entity)) if part)
            found.extend(self._query(entity, where, 1, self.page_size)[0])
        return found

    def _query_all(self, entity: str, where: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            rows, _ = self._query(entity, where, len(found) + 1, CDC_LIMIT)
            found.extend(rows)
            if len(rows) < CDC_LIMIT:
                return found

    def _query(self, entity: str, where: str, start: int, size: int) -> tuple[list[dict[str, Any]], str]:
        """One page of ``SELECT * FROM entity``, and QuickBooks' time of the answer."""
        condition = f" WHERE {where}" if where else ""
        # QuickBooks' query language, not SQL; what goes in is an entity name, digits and ISO dates
        select = f"SELECT * FROM {entity}{condition} ORDERBY Id STARTPOSITION {start} MAXRESULTS {size}"  # noqa: S608
        params = {"include": "invoiceLink"} if entity == "Invoice" else None
        with self._talking(f"reading its {entity} records"):
            answer = self._client().query(select, params=params)
        rows = list(answer.get("QueryResponse", {}).get(entity) or [])
        return rows, str(answer.get("time") or clock.now().isoformat())

    # ------------------------------------------------------------ the session
    def _client(self) -> Any:
        """python-quickbooks' client, its access token refreshed on first use."""
        if self._qb is None:
            configured = get_settings()
            with self._talking("connecting"):
                auth = AuthClient(
                    self.secret.client_id,
                    self.secret.client_secret,
                    configured.public_base_url,  # a redirect URI: used by the consent flow only, not by refresh
                    configured.quickbooks_discovery_url or self.settings.environment,
                )
                _prepare(auth, self._check_token_answer)
                client = _Client(
                    auth_client=auth,
                    refresh_token=self.secret.refresh_token,
                    company_id=self.settings.realm_id,
                    minorversion=self.settings.minor_version,
                    use_decimal=True,
                )
            client.api_base = configured.quickbooks_api_base
            _prepare(client.session, self._check_api_answer)
            self._auth, self._qb = auth, client
        return self._qb

    def _check_token_answer(self, response: requests.Response) -> None:
        _unavailable_or_throttled(response)
        if response.status_code == 401:
            raise SourceRefused("QuickBooks refused the client ID and secret: copy them again from the Intuit app")
        if response.status_code == 400:
            raise SourceRefused(
                "QuickBooks refused the refresh token (expired, revoked or already replaced): connect QuickBooks "
                "again and save the new refresh token"
            )

    def _check_api_answer(self, response: requests.Response) -> None:
        _unavailable_or_throttled(response)
        realm = self.settings.realm_id
        if response.status_code == 401:
            raise SourceRefused(f"QuickBooks refused the access token for company {realm}: connect QuickBooks again")
        if response.status_code == 403:
            raise SourceRefused(
                f"QuickBooks refused access to company {realm}: check the Realm ID and that this app is "
                "connected to that company with the Accounting scope"
            )

    @contextmanager
    def _talking(self, doing: str) -> Iterator[None]:
        """Failures of the libraries as Relance's: refused (fix the settings) or unavailable (try later)."""
        try:
            yield
        except (SourceRefused, SourceUnavailable, PaymentNotRecorded):
            raise
        except AuthClientError as error:
            raise SourceUnavailable(f"QuickBooks' sign-in answered {error.status_code} while {doing}") from error
        except AuthorizationException as error:
            raise SourceRefused(f"QuickBooks refused {doing}: {error.message}") from error
        except QuickbooksException as error:
            raise SourceUnavailable(f"QuickBooks failed {doing}: {error.message} {error.detail}".strip()) from error
        except requests.RequestException as error:
            raise SourceUnavailable(f"QuickBooks did not answer {doing}: {error}") from error


def _unavailable_or_throttled(response: requests.Response) -> None:
    if response.status_code == 429:
        raise SourceUnavailable(
            "QuickBooks is throttling this company's requests (500 a minute)", retry_after=_retry_after(response)
        )
    if response.status_code >= 500:
        raise SourceUnavailable(f"QuickBooks answered {response.status_code}")


def _linked(row: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    return [t for line in row.get("Line") or [] for t in line.get("LinkedTxn") or [] if t.get("TxnType") == kind]


def _ref(value: str) -> Any:
    ref = Ref()
    ref.value, ref.name, ref.type = value, None, None
    return ref
