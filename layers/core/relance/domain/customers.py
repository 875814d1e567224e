"""Customers, their contacts, and the positions contacts hold."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, EmailStr, Field, PrivateAttr, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from relance.domain.base import OneLine, Record, RelanceModel
from relance.domain.money import MAX_AMOUNT, CurrencyCode
from relance.domain.rating import Contribution, RatingBasis

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine]
ExternalId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^#]+$"), OneLine
]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), OneLine]
Part = Annotated[str, StringConstraints(max_length=100), OneLine]
"""A contact's first or last name, or job title."""
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]


def _bounded_number(value: str | int | bool | None) -> str | int | bool | None:
    if isinstance(value, int) and not isinstance(value, bool) and not -MAX_AMOUNT <= value <= MAX_AMOUNT:
        raise PydanticCustomError("number_too_large", f"a whole number from -{MAX_AMOUNT} to {MAX_AMOUNT}")
    return value


CustomValue = Annotated[
    str | int | bool | None,
    AfterValidator(_bounded_number),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "integer", "minimum": -MAX_AMOUNT, "maximum": MAX_AMOUNT},
                {"type": "boolean"},
                {"type": "null"},
            ]
        }
    ),
]
"""A custom field's value (checked against its definition by ``services.custom_fields``)."""

DEFAULT_POSITIONS = ("Accountant", "Payer", "Purchaser", "Sales")


class PaymentMethods(RelanceModel):
    """Which ways to pay the portal offers this customer (names as in docs/api.md)."""

    card: bool = True
    bank_transfer: bool = Field(default=True, alias="bank_transfer")
    ach_debit: bool = Field(default=False, alias="ach_debit")
    sepa_debit: bool = Field(default=False, alias="sepa_debit")

    @classmethod
    def of(cls, customer: dict[str, Any]) -> PaymentMethods:
        """The customer's, as stored on its item (the defaults when it has none)."""
        return cls.model_validate(customer.get("paymentMethods") or {})


class CustomerFields(RelanceModel):
    """What a client may set on a customer."""

    external_id: ExternalId | None = None
    name: Name
    currency: CurrencyCode | None = None
    language: Language | None = None
    timezone: str | None = Field(default=None, description="IANA time zone: reminders go out in its send window")
    dunning_plan_id: str | None = None
    account_manager_ids: list[str] = Field(default_factory=list, max_length=20)
    custom_fields: dict[str, CustomValue] = Field(default_factory=dict)
    payment_methods: PaymentMethods = Field(default_factory=PaymentMethods)
    tags: list[Tag] = Field(default_factory=list, max_length=50)


class CustomerPatch(RelanceModel):
    """A partial update: only the fields sent change (``model_dump(exclude_unset=True)``)."""

    external_id: ExternalId | None = None
    name: Name | None = None
    currency: CurrencyCode | None = None
    language: Language | None = None
    timezone: str | None = None
    dunning_plan_id: str | None = None
    # Lists and maps are cleared with [] or {}, never null (only the fields sent are written).
    account_manager_ids: list[str] = Field(default_factory=list, max_length=20)
    custom_fields: dict[str, CustomValue] = Field(default_factory=dict)
    payment_methods: PaymentMethods | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)


class NextAction(RelanceModel):
    """What dunning does next for a customer, and when (the one planned action)."""

    at: AwareDatetime
    type: str


class CustomerRecord(Record):
    """A customer as stored (``CUST#<customer>``, docs/data-model.md): what dunning, replies and templates
    read of it. The API answers :class:`Customer` (with balances and rating); this is the item itself,
    dunning's state included. Times are ISO 8601 strings as stored."""

    id: str
    name: str
    external_id: str | None = None
    currency: str | None = None
    language: str | None = None
    timezone: str | None = None
    dunning_plan_id: str | None = None
    account_manager_ids: list[str] = Field(default_factory=list)
    main_contact_id: str | None = None
    # dunning's state (relance.services.dunning)
    execution: str | None = None
    dunning_cycle: int = 0
    performed_steps: list[str] = Field(default_factory=list)
    postponed_steps: list[str] = Field(default_factory=list)
    last_contact_at: str | None = None
    collection_paused: bool = False
    paused_at: str | None = None
    pause_round: int = 0
    open_manual_action_id: str | None = None
    open_reply_task_id: str | None = None
    planned_action_id: str | None = None
    next_action: NextAction | None = None
    portal_link_generation: int = 0


class Customer(Record):
    id: str
    external_id: str | None
    name: str
    currency: str
    language: str
    timezone: str | None = None
    dunning_plan_id: str | None
    account_manager_ids: list[str]
    custom_fields: dict[str, CustomValue]
    payment_methods: PaymentMethods
    tags: list[str]
    outstanding: dict[str, int]
    overdue: dict[str, int]
    rating: str | None
    average_payment_delay_days: int | None
    overdue_aware_delay_days: int | None
    rating_basis: RatingBasis
    rating_drivers: list[Contribution]
    last_reminder_at: AwareDatetime | None
    collection_paused: bool
    main_contact_id: str | None
    next_action: NextAction | None = Field(default=None, description="what dunning does next, and when")
    synced_from: str | None = Field(default=None, description="the source system that manages it (integrations)")
    synced_fields: list[str] = Field(default_factory=list, description="its fields the source sets: read-only here")
    deleted_at_source: AwareDatetime | None = Field(
        default=None, description="when its source deleted it: kept with its ledger, out of dunning"
    )
    created_at: AwareDatetime
    updated_at: AwareDatetime
    _aging: frozenset[tuple[str, str]] = PrivateAttr(default=frozenset())
    """(currency, aging bucket) of each open invoice, as listed: what the aging filter reads."""

    def with_aging(self, buckets: frozenset[tuple[str, str]]) -> Customer:
        self._aging = buckets
        return self

    def owes_in(self, bucket: str, currency: str | None) -> bool:
        """Whether an open invoice (in ``currency``, if given) is in ``bucket`` (see :func:`aging`)."""
        return any(b == bucket and currency in (None, c) for c, b in self._aging)


class ContactFields(RelanceModel):
    email: EmailStr
    first_name: Part | None = None
    last_name: Part | None = None
    phone: Annotated[str, StringConstraints(max_length=40, pattern=r"^[0-9+() .-]*$")] | None = None
    job_title: Part | None = None
    position_id: str | None = None
    is_main: bool = False


class ContactPatch(RelanceModel):
    email: EmailStr | None = None
    first_name: Part | None = None
    last_name: Part | None = None
    phone: Annotated[str, StringConstraints(max_length=40, pattern=r"^[0-9+() .-]*$")] | None = None
    job_title: Part | None = None
    position_id: str | None = None
    is_main: bool | None = None


class Contact(Record):
    id: str
    customer_id: str
    email: str
    first_name: str | None
    last_name: str | None
    phone: str | None
    job_title: str | None
    position_id: str | None
    is_main: bool
    invalid: bool
    invalid_since: AwareDatetime | None
    invalid_reason: str | None = None
    synced_from: str | None = Field(default=None, description="the source system that lists it (integrations)")
    synced_fields: list[str] = Field(default_factory=list, description="its fields the source sets: read-only here")
    created_at: AwareDatetime


class PositionFields(RelanceModel):
    name: Name


class Position(Record):
    id: str
    name: str


class AgingBuckets(RelanceModel):
    """Open amounts by how late they are, in one currency."""

    currency: str
    not_due: int = 0
    days_1_to_30: int = 0
    days_31_to_60: int = 0
    days_61_to_90: int = 0
    over_90: int = 0


def aging(due_at: date, today: date) -> str:
    """The aging bucket field of an open item due on ``due_at``."""
    late = (today - due_at).days
    if late <= 0:
        return "not_due"
    if late <= 30:
        return "days_1_to_30"
    if late <= 60:
        return "days_31_to_60"
    if late <= 90:
        return "days_61_to_90"
    return "over_90"
