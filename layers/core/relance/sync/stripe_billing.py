"""Stripe Billing: the organization's own Stripe account as the source of its customers, invoices,
payments, credit notes and refunds (docs/integrations.md, "Stripe Billing").

Read with the ``stripe`` library and a restricted key of that account (read: customers, invoices, credit
notes, refunds, events, payment records; write: invoices, payment records), on ``STRIPE_BILLING_API_BASE``
when set (the local runtime's stand-in). A first run lists everything, a page of 100 at a time: customers,
invoices with their payments, credit notes, refunds. From then on the Events API says what changed: the
events after the last one applied, oldest first. Each event only names an object, whose current state is
read again, so an event seen twice, late or out of order (webhooks are all three) changes nothing. Stripe
lists events for 30 days: a connection that has not read them for longer (disabled for a month) lists
everything again.

How Stripe's records become Relance's (amounts by ``relance.domain.stripe_amounts``, Stripe's units to
our minor units; dates are UTC days):

- a customer is a customer; its email, name and phone are its main contact; a deleted one is a Removal;
- an invoice is an invoice of its ``total`` (a draft is not one yet; void is voided; uncollectible is
  still owed; a total of zero is nothing to collect);
- each paid invoice payment (a card, a bank debit, a payment recorded outside Stripe) is a payment
  allocated to its invoice; what Stripe counts as paid beyond them (the invoice marked paid out of band)
  is one payment named by the invoice's id, and the customer's credit balance Stripe applied to it one
  named ``<invoice id>:balance``;
- a credit note counts what it took off its invoice (allocated to it) and what it refunded (its refunds
  then give that back); what it credited to the customer's Stripe balance counts when Stripe applies the
  balance to an invoice (above), and what it credited outside Stripe was given back outside Stripe;
- a succeeded refund is a refund, of its credit note when it has one.

A payment Relance records (the portal) is written back: ``POST /v1/invoices/{id}/pay`` with
``paid_out_of_band`` when it pays what the invoice still owes, else a payment record attached to the
invoice; the Relance payment's id is the idempotency key, so a retried write-back records nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, EmailStr, Field, StringConstraints, TypeAdapter, ValidationError

from relance import clock
from relance.domain import stripe_amounts
from relance.domain.base import RelanceModel
from relance.domain.sync import (
    Batch,
    CustomerLink,
    PaymentWriteBack,
    RecordError,
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
from relance.observability import logger
from relance.settings import get_settings
from relance.sync import SourceRefused, SourceUnavailable, WebhookRefused

if TYPE_CHECKING:
    from stripe import StripeClient

T = TypeVar("T")

PAGE = 100
"""Objects per list request: Stripe's maximum."""
EVENTS_KEPT = timedelta(days=30)
"""How far back Stripe lists events (https://docs.stripe.com/api/events)."""
EVENTS_MARGIN = timedelta(days=1)
SIGNATURE_TOLERANCE = 300
"""Seconds a webhook's signed timestamp may be old: Stripe's default."""
RATE_LIMIT_RETRIES = 3
RETRY_AFTER_MAX = 30
"""Seconds a 429's ``Retry-After`` is honoured up to before each retry (longer: the run stops, resumes later)."""

EVENT_TYPES = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "invoice.finalized",
    "invoice.updated",
    "invoice.paid",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "invoice_payment.paid",
    "credit_note.created",
    "credit_note.updated",
    "credit_note.voided",
    "charge.refunded",
    "refund.created",
    "refund.updated",
    "refund.failed",
)
"""The events read (and the webhook endpoint's events in Stripe): at most 20, the Events API's limit."""

PERMISSIONS = (
    "a restricted key with Read on Customers, Invoices, Credit notes, Refunds, Events and Payment records, "
    "and Write on Invoices and Payment records"
)

_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)
_PHONE = StringConstraints(max_length=40, pattern=r"^[0-9+() .-]*$")
_PHONE_CHECK: TypeAdapter[str] = TypeAdapter(Annotated[str, _PHONE])
_KIND_ORDER = {"customer": 0, "invoice": 1, "payment": 2, "credit_note": 3, "refund": 4}

Item = SourceRecord | Removal | RecordError


class Settings(RelanceModel):
    """What the app shows of the connection."""

    account_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = Field(
        default=None, description="the Stripe account's name, as the AR team knows it"
    )


class Secret(RelanceModel):
    """The Stripe account's keys (Secrets Manager)."""

    api_key: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=r"^(rk|sk)_(live|test)_[A-Za-z0-9_]+$")
    ] = Field(description=f"a secret key or, better, {PERMISSIONS}")
    webhook_secret: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^whsec_[A-Za-z0-9_]+$")] | None
    ) = Field(default=None, description="the signing secret of the webhook endpoint pointing at Relance")


def connect(settings: Mapping[str, Any], secret: Mapping[str, str]) -> StripeBilling:
    return StripeBilling(Settings.model_validate(dict(settings)), Secret.model_validate(dict(secret)))


# ---------------------------------------------------------------- the client


def _client(api_key: str) -> StripeClient:
    """The Stripe client of one account: Stripe's own retries (network, 409, 5xx) and, since it retries
    no rate-limited request, urllib3's on its requests session for 429, honouring ``Retry-After``."""
    import requests
    import stripe  # heavy: only the functions that sync import it
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=RATE_LIMIT_RETRIES,
        connect=0,
        read=0,
        other=0,
        redirect=0,
        status_forcelist=[429],
        allowed_methods=None,  # every POST carries an idempotency key: a 429 was not processed
        backoff_factor=1.0,
        backoff_jitter=0.5,
        respect_retry_after_header=True,
        retry_after_max=RETRY_AFTER_MAX,
        raise_on_status=False,  # the last 429 reaches stripe, which raises RateLimitError with its headers
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    base = get_settings().stripe_billing_api_base
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": base} if base else None,
        max_network_retries=2,
        http_client=stripe.RequestsClient(session=session, timeout=30),
    )


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    value = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@contextmanager
def _stripe_errors() -> Iterator[None]:
    """Stripe's exceptions as the connector's: refused (the key) or unavailable (Stripe, for now)."""
    import stripe

    try:
        yield
    except stripe.AuthenticationError as error:
        raise SourceRefused(
            "Stripe refused the API key: paste a current secret or restricted key of the account "
            "(Stripe Dashboard, Developers, API keys)"
        ) from error
    except stripe.PermissionError as error:
        raise SourceRefused(f"the Stripe key lacks a permission ({error.user_message}): use {PERMISSIONS}") from error
    except stripe.RateLimitError as error:
        raise SourceUnavailable(
            "Stripe is rate-limiting this account: the next run goes on", _retry_after(error.headers)
        ) from error
    except (stripe.APIConnectionError, stripe.APIError) as error:
        raise SourceUnavailable(f"Stripe did not answer: {error.user_message or error}") from error
    except stripe.InvalidRequestError as error:
        logger.error("Stripe refused a request of the connector", stripe_message=error.user_message)
        raise SourceUnavailable(f"Stripe refused the request: {error.user_message or error}") from error


def _missing(error: Exception) -> bool:
    import stripe

    return isinstance(error, stripe.InvalidRequestError) and error.http_status == 404


# ---------------------------------------------------------------- mapping (no I/O)


def _id(value: Any) -> str | None:
    """An expandable field's id, whether Stripe answered the id or the object."""
    if isinstance(value, Mapping):
        return str(value["id"])
    return str(value) if value else None


def _day(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, UTC).date()


def _currency(obj: Mapping[str, Any]) -> str:
    return str(obj["currency"]).upper()


def _amount(stripe_amount: int, currency: str) -> int:
    """Stripe's units of ``currency`` in ours, exactly (``NotRepresentable`` otherwise)."""
    return stripe_amounts.from_stripe(int(stripe_amount), currency)


def _split_name(name: str | None) -> tuple[str | None, str | None]:
    parts = (name or "").strip().rsplit(" ", 1)
    if not parts[0]:
        return None, None
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


def customer_items(customer: Mapping[str, Any]) -> list[Item]:
    """A Stripe customer: its record (with its main contact), or its Removal once deleted."""
    if customer.get("deleted"):
        return [Removal(kind="customer", external_id=str(customer["id"]))]
    external_id = str(customer["id"])
    email = str(customer.get("email") or "").strip()
    name = next(
        (str(customer[f]).strip() for f in ("name", "business_name", "individual_name") if customer.get(f)), email
    )
    if not name:
        return [RecordError(kind="customer", external_id=external_id, message="a customer with no name and no email")]
    items: list[Item] = []
    contacts = []
    if email:
        try:
            contacts.append(_main_contact(customer, _EMAIL.validate_python(email)))
        except ValidationError:
            message = f"the customer's email {email!r} is not an address: no contact made of it"
            items.append(RecordError(kind="contact", external_id=external_id, message=message))
    locales = customer.get("preferred_locales") or []
    language = str(locales[0])[:2].lower() if locales and str(locales[0])[:2].isalpha() else None
    currency = str(customer["currency"]).upper() if customer.get("currency") else None
    record = SourceCustomer(external_id=external_id, name=name, currency=currency, language=language, contacts=contacts)
    return [record, *items]


def _main_contact(customer: Mapping[str, Any], email: str) -> SourceContact:
    """The person behind the customer's email: its individual name, or its name when that is not the
    business's; its phone when it is one Relance can dial."""
    person = customer.get("individual_name") or (
        customer.get("name") if customer.get("name") != customer.get("business_name") else None
    )
    first, last = _split_name(person)
    phone = customer.get("phone")
    try:
        phone = _PHONE_CHECK.validate_python(phone) if phone else None
    except ValidationError:
        phone = None
    return SourceContact(email=email, first_name=first, last_name=last, phone=phone, is_main=True)


def invoice_items(invoice: Mapping[str, Any], payments: list[Mapping[str, Any]]) -> list[Item]:
    """A Stripe invoice and the payments that settled it (``payments``: its invoice payments)."""
    external_id = str(invoice["id"])
    if invoice.get("status") in (None, "draft"):
        return []  # not issued yet: it arrives when finalized
    try:
        return _invoice_items(invoice, payments)
    except (stripe_amounts.NotRepresentable, ValueError, KeyError, TypeError) as error:
        return [RecordError(kind="invoice", external_id=external_id, message=f"not mapped: {error}")]


def _invoice_items(invoice: Mapping[str, Any], payments: list[Mapping[str, Any]]) -> list[Item]:
    external_id, currency = str(invoice["id"]), _currency(invoice)
    customer = _id(invoice.get("customer"))
    if not customer:
        raise ValueError("an invoice with no customer")
    if int(invoice["total"]) < 0:
        raise ValueError(f"a negative total ({invoice['total']}) is not a receivable")
    total = _amount(invoice["total"], currency)
    if total == 0:
        return []  # nothing to collect (a trial's invoice)
    transitions = invoice.get("status_transitions") or {}
    issued = _day(transitions.get("finalized_at") or invoice.get("effective_at") or invoice["created"])
    due = max(_day(invoice["due_date"]), issued) if invoice.get("due_date") else issued
    pdf = invoice.get("invoice_pdf")
    voided = invoice["status"] == "void"
    record = SourceInvoice(
        external_id=external_id,
        customer_external_id=customer,
        number=str(invoice.get("number") or external_id),
        currency=currency,
        amount=total,
        issued_at=issued,
        due_at=due,
        pdf_url=pdf if isinstance(pdf, str) and pdf.startswith("https://") else None,
        voided=voided,
    )
    return [record] if voided else [record, *_settlements(invoice, payments, customer, total)]


def _settlements(
    invoice: Mapping[str, Any], payments: list[Mapping[str, Any]], customer: str, total: int
) -> list[SourcePayment]:
    """What settled the invoice in Stripe, as payments allocated to it, each counted up to what the
    invoice still owed (Stripe puts an overpayment on the customer's balance, which counts when applied):
    the customer's balance applied when it was finalized, its invoice payments, then what Stripe counts as
    paid beyond them (marked paid out of band)."""
    currency, external_id = _currency(invoice), str(invoice["id"])
    transitions = invoice.get("status_transitions") or {}
    finalized = _day(transitions.get("finalized_at") or invoice["created"])
    owed = total - _amount(invoice.get("pre_payment_credit_notes_amount") or 0, currency)
    settled: list[SourcePayment] = []

    def settle(payment_id: str, amount: int, received: date, reference: str | None) -> None:
        nonlocal owed
        part = min(amount, owed)
        if part > 0:
            allocation = SourceAllocation(invoice_external_id=external_id, amount=part)
            settled.append(
                SourcePayment(
                    external_id=payment_id,
                    customer_external_id=customer,
                    currency=currency,
                    amount=part,
                    received_at=received,
                    allocations=[allocation],
                    reference=reference,
                )
            )
            owed -= part

    settle(
        f"{external_id}:balance",
        owed - _amount(invoice.get("amount_due") or 0, currency),
        finalized,
        "customer balance",
    )
    paid = [p for p in payments if p.get("status") == "paid" and p.get("amount_paid")]
    for payment in paid:
        when = (payment.get("status_transitions") or {}).get("paid_at") or payment["created"]
        source = payment.get("payment") or {}
        settle(
            str(payment["id"]),
            _amount(payment["amount_paid"], currency),
            _day(when),
            _id(source.get(source.get("type"))),
        )
    beyond = int(invoice.get("amount_paid") or 0) - sum(int(p["amount_paid"]) for p in paid)
    if beyond > 0:
        settle(
            external_id,
            _amount(beyond, currency),
            _day(transitions.get("paid_at") or invoice["created"]),
            "paid out of band",
        )
    return settled


def credit_note_items(note: Mapping[str, Any]) -> list[Item]:
    """A Stripe credit note: what it took off its invoice, allocated to it, and what it refunded."""
    external_id = str(note["id"])
    try:
        currency = _currency(note)
        refunded = sum(int(r.get("amount_refunded") or 0) for r in note.get("refunds") or [])
        before = int(note.get("pre_payment_amount") or 0)
        amount = _amount(before + refunded, currency)
        if amount == 0:
            return []  # all of it to the customer's balance, or outside Stripe (see the module's docstring)
        customer, invoice = _id(note.get("customer")), _id(note.get("invoice"))
        if not customer:
            raise ValueError("a credit note with no customer")
        allocated = _amount(before, currency)
        record = SourceCreditNote(
            external_id=external_id,
            customer_external_id=customer,
            number=note.get("number"),
            currency=currency,
            amount=amount,
            issued_at=_day(note.get("effective_at") or note["created"]),
            allocations=[SourceAllocation(invoice_external_id=invoice, amount=allocated)]
            if invoice and allocated
            else [],
            voided=note.get("status") == "void",
        )
    except (stripe_amounts.NotRepresentable, ValueError, KeyError, TypeError) as error:
        return [RecordError(kind="credit_note", external_id=external_id, message=f"not mapped: {error}")]
    return [record]


def refund_items(refund: Mapping[str, Any], credit_note: str | None) -> list[Item]:
    """A Stripe refund once it succeeded (failed or canceled: voided); of ``credit_note`` when it has one."""
    external_id = str(refund["id"])
    status = refund.get("status")
    if status not in ("succeeded", "failed", "canceled"):
        return []  # pending: it counts once it succeeded
    charge = refund.get("charge")
    customer = _id(refund.get("customer")) or (_id(charge.get("customer")) if isinstance(charge, Mapping) else None)
    if not customer:
        return []  # a refund of a payment made by no customer of the account: no receivable
    try:
        currency = _currency(refund)
        record = SourceRefund(
            external_id=external_id,
            customer_external_id=customer,
            currency=currency,
            amount=_amount(refund["amount"], currency),
            refunded_at=_day(refund["created"]),
            credit_note_external_id=credit_note,
            reference=_id(refund.get("charge")) or _id(refund.get("payment_intent")),
            voided=status != "succeeded",
        )
    except (stripe_amounts.NotRepresentable, ValueError, KeyError, TypeError) as error:
        return [RecordError(kind="refund", external_id=external_id, message=f"not mapped: {error}")]
    return [record]


def batch(items: list[Item], cursor: str | None = None, more: bool = False) -> Batch:
    """The items as a batch: records in the order they depend on each other (customers, invoices,
    payments, credit notes, refunds), then removals and errors."""
    records = [i for i in items if not isinstance(i, Removal | RecordError)]
    records.sort(key=lambda r: _KIND_ORDER.get(r.kind, 9))
    return Batch(
        records=records,
        removals=[i for i in items if isinstance(i, Removal)],
        errors=[i for i in items if isinstance(i, RecordError)],
        cursor=cursor,
        more=more,
    )


Ref = tuple[Literal["customer", "customer_deleted", "invoice", "credit_note", "refund", "charge"], str]


def event_refs(event: Mapping[str, Any]) -> list[Ref]:
    """The objects an event says changed (read again before mapping)."""
    kind, obj = str(event["type"]), event["data"]["object"]
    if kind == "customer.deleted":
        return [("customer_deleted", str(obj["id"]))]
    prefix = kind.split(".", 1)[0]
    if prefix == "invoice_payment":
        invoice = _id(obj.get("invoice"))
        return [("invoice", invoice)] if invoice else []
    if prefix in ("customer", "invoice", "credit_note", "refund", "charge"):
        return [(prefix, str(obj["id"]))]  # type: ignore[list-item]  # narrowed by the test above
    return []


def _dependencies(event: Mapping[str, Any]) -> list[Ref]:
    """What a webhook's object needs applied first, since webhooks come in any order: its customer, and
    a credit note's invoice."""
    obj = event["data"]["object"]
    refs: list[Ref] = []
    customer = _id(obj.get("customer"))
    if customer and not str(event["type"]).startswith("customer."):
        refs.append(("customer", customer))
    invoice = _id(obj.get("invoice"))
    if invoice and str(event["type"]).startswith("credit_note."):
        refs.append(("invoice", invoice))
    return refs


# ---------------------------------------------------------------- the cursor


class _Cursor(BaseModel):
    """Where a connection is: a backfill's phase and last object, then the last event applied."""

    phase: Literal["customers", "invoices", "credit_notes", "refunds", "events"]
    after: str | None = None
    event: str | None = None
    """The last event applied; during a backfill, the newest event before it started."""
    at: int
    """That event's time (or the backfill's start, when there was none)."""
    checked: int
    """When events were last read."""

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)


_PHASES: tuple[Literal["customers", "invoices", "credit_notes", "refunds", "events"], ...] = (
    "customers",
    "invoices",
    "credit_notes",
    "refunds",
    "events",
)


def _parse(cursor: str | None) -> _Cursor | None:
    if not cursor:
        return None
    try:
        return _Cursor.model_validate_json(cursor)
    except ValidationError:
        logger.warning("unreadable Stripe cursor: listing everything again")
        return None


def _page(lister: Callable[..., Any], after: str | None, **params: Any) -> Any:
    """One page of a Stripe list, after the object ``after`` (the first page without it)."""
    if after:
        params["starting_after"] = after
    return lister(params={"limit": PAGE, **params})


def _timestamp(moment: datetime) -> int:
    return int(moment.timestamp())


def _stale(timestamp: int) -> bool:
    """Older than the events Stripe still lists (with a day to spare)."""
    return clock.now() - datetime.fromtimestamp(timestamp, UTC) > EVENTS_KEPT - EVENTS_MARGIN


# ---------------------------------------------------------------- the connector


class StripeBilling:
    """One organization's Stripe account (relance.sync.Connector)."""

    def __init__(self, settings: Settings, secret: Secret, client: StripeClient | None = None) -> None:
        self.settings = settings
        self.secret = secret
        self._stripe = client

    @property
    def client(self) -> StripeClient:
        if self._stripe is None:
            self._stripe = _client(self.secret.api_key)
        return self._stripe

    # ------------------------------------------------------------ changes

    def changes(self, cursor: str | None) -> Batch:
        state = _parse(cursor)
        with _stripe_errors():
            if state is not None and state.phase == "events" and _stale(state.checked):
                logger.warning("Stripe events not read for 30 days: listing everything again")
                state = None
            if state is None:
                state = self._start()
            if state.phase == "events":
                return self._events(state)
            return self._backfill(state)

    def _start(self) -> _Cursor:
        """A backfill's start: the newest event now, after which events are read once it is done."""
        newest = self.client.v1.events.list(params={"types": list(EVENT_TYPES), "limit": 1}).data
        now = _timestamp(clock.now())
        if newest:
            return _Cursor(phase="customers", event=newest[0].id, at=newest[0].created, checked=now)
        return _Cursor(phase="customers", at=now, checked=now)

    def _backfill(self, state: _Cursor) -> Batch:
        """One page of one kind of object, oldest phase first; the next phase once it is listed."""
        v1 = self.client.v1
        items: list[Item]
        if state.phase == "customers":
            page = _page(v1.customers.list, state.after)
            items = [i for c in page.data for i in customer_items(c.to_dict())]
        elif state.phase == "invoices":
            page = _page(v1.invoices.list, state.after, expand=["data.payments"])
            items = [i for invoice in page.data for i in invoice_items(*self._with_payments(invoice.to_dict()))]
        elif state.phase == "credit_notes":
            page = _page(v1.credit_notes.list, state.after)
            items = [i for note in page.data for i in credit_note_items(note.to_dict())]
        else:
            page = _page(v1.refunds.list, state.after)
            items = self._refunds([r.to_dict() for r in page.data])
        if page.has_more and page.data:
            following = state.model_copy(update={"after": page.data[-1].id})
        else:
            following = state.model_copy(update={"phase": _PHASES[_PHASES.index(state.phase) + 1], "after": None})
        return batch(items, following.dump(), more=True)

    def _events(self, state: _Cursor) -> Batch:
        """The next events after the last one applied, oldest first: by ``ending_before`` that event, or,
        when there is none or it may be gone from Stripe's 30 days, by time (all of them since)."""
        types = list(EVENT_TYPES)
        events: list[dict[str, Any]]
        if state.event and not _stale(state.at):
            page = self.client.v1.events.list(params={"types": types, "limit": PAGE, "ending_before": state.event})
            events, more = [e.to_dict() for e in reversed(page.data)], page.has_more
        else:
            listed = self.client.v1.events.list(params={"types": types, "limit": PAGE, "created": {"gte": state.at}})
            since = [e.to_dict() for e in reversed(list(listed.auto_paging_iter()))]
            ids = [e["id"] for e in since]
            if state.event in ids:
                since = since[ids.index(state.event) + 1 :]
            events, more = since[:PAGE], len(since) > PAGE
        refs = [ref for event in events for ref in event_refs(event)]
        items = self._changed(refs)
        last = events[-1] if events else None
        following = _Cursor(
            phase="events",
            event=last["id"] if last else state.event,
            at=int(last["created"]) if last else state.at,
            checked=_timestamp(clock.now()),
        )
        return batch(items, following.dump(), more=more)

    def _changed(self, refs: list[Ref]) -> list[Item]:
        """The current state of each object named (once each), mapped."""
        items: list[Item] = []
        refunds: dict[str, dict[str, Any]] = {}
        for kind, object_id in dict.fromkeys(refs):
            if kind in ("refund", "charge"):
                refunds.update((r["id"], r) for r in self._refunds_of(kind, object_id))
            else:
                items += self._current(kind, object_id)
        return items + self._refunds(list(refunds.values()))

    def _current(self, kind: str, object_id: str) -> list[Item]:
        """A customer, invoice or credit note as it is now (a customer gone: removed)."""
        v1 = self.client.v1
        if kind == "customer_deleted":
            return [Removal(kind="customer", external_id=object_id)]
        if kind == "customer":
            customer = self._retrieve(lambda: v1.customers.retrieve(object_id))
            return customer_items(customer) if customer else [Removal(kind="customer", external_id=object_id)]
        if kind == "invoice":
            invoice = self._retrieve(lambda: v1.invoices.retrieve(object_id, params={"expand": ["payments"]}))
            return invoice_items(*self._with_payments(invoice)) if invoice else []  # a draft deleted
        note = self._retrieve(lambda: v1.credit_notes.retrieve(object_id))
        return credit_note_items(note) if note else []

    def _refunds_of(self, kind: str, object_id: str) -> list[dict[str, Any]]:
        """A refund as it is now, or a refunded charge's refunds."""
        if kind == "refund":
            refund = self._retrieve(lambda: self.client.v1.refunds.retrieve(object_id))
            return [refund] if refund else []
        listed = self.client.v1.refunds.list(params={"charge": object_id, "limit": PAGE})
        return [r.to_dict() for r in listed.auto_paging_iter()]

    def _retrieve(self, request: Callable[[], Any]) -> dict[str, Any] | None:
        """The object, or None when Stripe has no such object (a draft deleted)."""
        import stripe

        try:
            found: dict[str, Any] = request().to_dict()
        except stripe.InvalidRequestError as error:
            if _missing(error):
                return None
            raise
        return found

    def _with_payments(self, invoice: dict[str, Any]) -> tuple[dict[str, Any], list[Mapping[str, Any]]]:
        """The invoice and all its invoice payments (the expanded list holds the first ten)."""
        listed = invoice.get("payments") or {}
        payments: list[Mapping[str, Any]] = list(listed.get("data") or [])
        if listed.get("has_more"):
            more = self.client.v1.invoice_payments.list(params={"invoice": invoice["id"], "limit": PAGE})
            payments = [p.to_dict() for p in more.auto_paging_iter()]
        return invoice, payments

    def _refunds(self, refunds: list[dict[str, Any]]) -> list[Item]:
        """Refunds mapped with their credit note: Stripe names a credit note's refunds on the credit note
        only, so the credit notes of each refund's customer are read once."""
        notes_of: dict[str, dict[str, str]] = {}
        items: list[Item] = []
        for refund in refunds:
            customer = _id(refund.get("customer"))
            if customer and customer not in notes_of:
                listed = self.client.v1.credit_notes.list(params={"customer": customer, "limit": PAGE})
                notes_of[customer] = {
                    str(_id(r.get("refund"))): str(note["id"])
                    for note in (n.to_dict() for n in listed.auto_paging_iter())
                    for r in note.get("refunds") or []
                }
            items += refund_items(refund, notes_of.get(customer or "", {}).get(str(refund["id"])))
        return items

    # ------------------------------------------------------------ webhooks

    def webhook(self, body: bytes, headers: Mapping[str, str]) -> Batch:
        """A webhook's event, once its ``Stripe-Signature`` checks out: what it names, read again, after
        what that needs (its customer, a credit note's invoice)."""
        import stripe

        signature = next((v for k, v in headers.items() if k.lower() == "stripe-signature"), None)
        if not self.secret.webhook_secret:
            raise WebhookRefused("no webhook signing secret is set for this Stripe connection")
        if not signature:
            raise WebhookRefused("no Stripe-Signature header")
        try:
            event = stripe.Webhook.construct_event(body, signature, self.secret.webhook_secret, SIGNATURE_TOLERANCE)
        except stripe.SignatureVerificationError as error:
            raise WebhookRefused("the Stripe signature does not match (or is older than 5 minutes)") from error
        except ValueError as error:
            raise WebhookRefused("the body is not a Stripe event") from error
        payload = event.to_dict()
        if payload.get("type") not in EVENT_TYPES:
            return Batch()
        with _stripe_errors():
            return batch(self._changed([*_dependencies(payload), *event_refs(payload)]))

    # ------------------------------------------------------------ write-back

    def write_back_payment(self, payment: PaymentWriteBack) -> str | None:
        """Record a Relance payment on its Stripe invoice: paid out of band when it pays what the invoice
        still owes, else a payment record attached to it; the id the sync will know it by (the invoice's
        for the former, the invoice payment's for the latter). None when the invoice cannot take it (void,
        or paid in Stripe by something else: logged, the sync brings that payment)."""
        with _stripe_errors():
            found = self._retrieve(
                lambda: self.client.v1.invoices.retrieve(payment.invoice_external_id, params={"expand": ["payments"]})
            )
            if found is None:
                logger.warning("write-back: no such Stripe invoice", invoice=payment.invoice_external_id)
                return None
            invoice, payments = self._with_payments(found)
            recorded = self._recorded(payments, payment.payment_id)
            if recorded:
                return recorded
            amount = stripe_amounts.to_stripe(payment.amount, payment.currency)
            if invoice.get("status") == "void":
                logger.warning("write-back: the Stripe invoice is void", invoice=invoice["id"])
                return None
            if invoice.get("status") == "paid":
                return self._paid_already(invoice, payments, amount)
            if amount >= int(invoice.get("amount_remaining") or 0):
                return self._paid_out_of_band(invoice, payments, payment)
            return self._record_payment(invoice, payment, amount)

    def _recorded(self, payments: list[Mapping[str, Any]], payment_id: str) -> str | None:
        """The invoice payment of a payment record this payment made already (a retried write-back)."""
        for paid in payments:
            source = paid.get("payment") or {}
            record_id = _id(source.get("payment_record")) if source.get("type") == "payment_record" else None
            if record_id:
                record = self.client.v1.payment_records.retrieve(record_id).to_dict()
                if (record.get("metadata") or {}).get("relance_payment_id") == payment_id:
                    return str(paid["id"])
        return None

    @staticmethod
    def _paid_already(invoice: Mapping[str, Any], payments: list[Mapping[str, Any]], amount: int) -> str | None:
        """An invoice paid in Stripe: by this write-back, retried (marked paid out of band for at most its
        amount), or by something else (logged: the sync brings that payment)."""
        on_stripe = sum(int(p.get("amount_paid") or 0) for p in payments if p.get("status") == "paid")
        if 0 < int(invoice.get("amount_paid") or 0) - on_stripe <= amount:
            return str(invoice["id"])
        logger.warning("write-back: the Stripe invoice was paid by something else", invoice=invoice["id"])
        return None

    def _paid_out_of_band(
        self, invoice: Mapping[str, Any], payments: list[Mapping[str, Any]], payment: PaymentWriteBack
    ) -> str | None:
        import stripe

        before = {str(p["id"]) for p in payments}
        try:
            paid = self.client.v1.invoices.pay(
                str(invoice["id"]),
                params={"paid_out_of_band": True, "expand": ["payments"]},
                options={"idempotency_key": payment.payment_id},
            ).to_dict()
        except stripe.InvalidRequestError as error:  # paid meanwhile, by something else
            logger.warning("write-back: Stripe would not mark the invoice paid", stripe_message=error.user_message)
            return None
        new = [p for p in (paid.get("payments") or {}).get("data") or [] if str(p["id"]) not in before]
        return str(new[0]["id"]) if new else str(invoice["id"])

    def _record_payment(self, invoice: Mapping[str, Any], payment: PaymentWriteBack, amount: int) -> str | None:
        """A payment made outside Stripe for part of the invoice: a payment record, attached to it."""
        received = datetime.combine(payment.received_at, datetime.min.time(), UTC)
        record = self.client.v1.payment_records.report_payment(
            params={
                "amount_requested": {"currency": payment.currency.lower(), "value": amount},
                "initiated_at": _timestamp(received),
                "outcome": "guaranteed",
                "guaranteed": {"guaranteed_at": _timestamp(received)},
                "customer_details": {"customer": _id(invoice.get("customer")) or payment.customer_external_id},
                "payment_method_details": {"type": "custom", "custom": {"display_name": "Relance portal"}},
                "processor_details": {"type": "custom", "custom": {"payment_reference": payment.payment_id}},
                "metadata": {"relance_payment_id": payment.payment_id},
            },
            options={"idempotency_key": f"{payment.payment_id}-record"},
        )
        attached = self.client.v1.invoices.attach_payment(
            str(invoice["id"]),
            params={"payment_record": record.id, "expand": ["payments"]},
            options={"idempotency_key": f"{payment.payment_id}-attach"},
        ).to_dict()
        for paid in (attached.get("payments") or {}).get("data") or []:
            if _id((paid.get("payment") or {}).get("payment_record")) == record.id:
                return str(paid["id"])
        return None

    def write_back_link(self, link: CustomerLink) -> bool:
        return False  # a Stripe customer has no field for it

    def rotated_secret(self) -> dict[str, str] | None:
        return None  # API keys do not rotate by themselves
