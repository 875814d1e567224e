"""An organization (tenant) and the settings every capability reads from it."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AwareDatetime, EmailStr, Field, StringConstraints, field_validator

from relance.domain.base import OneLine, Record, RelanceModel
from relance.domain.money import MAX_AMOUNT, CurrencyCode
from relance.domain.rating import RatingBasis

DEFAULT_DISPUTE_REASONS = (
    "Goods or services not received",
    "Wrong amount",
    "Already paid",
    "Quality issue",
    "Other",
)


class OrganizationSettings(RelanceModel):
    default_currency: CurrencyCode = "USD"
    language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    timezone: str = "UTC"
    portal_link_validity_days: int = Field(default=7, ge=1, le=1000)
    rating_basis: RatingBasis = RatingBasis.PAID
    send_time: str = Field(default="08:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    business_days: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4], max_length=7, description="Monday = 0"
    )
    holidays: list[date] = Field(default_factory=list, max_length=400)
    sender_name: Annotated[str, StringConstraints(max_length=100), OneLine] | None = None
    sender_email: EmailStr | None = Field(
        default=None,
        description="the address reminders come from: setting it registers it to the organization (one organization "
        "per address) and starts its verification by SES, which emails it a link (see sender in GET /v1/organization)",
    )
    handle_replies: bool = Field(
        default=False, description="each customer reply creates a Reply task that holds dunning until answered"
    )
    automatic_actions: bool = Field(
        default=True,
        description="false: nothing automatic leaves (no workflow step is performed: each one falling due is held "
        "and stays due); manual actions still go. Back to true, every workflow is planned again from where it "
        "stood (one action each, the latest step due, after the minimum contact delay)",
    )
    match_replies_by_sender_domain: bool = Field(
        default=False, description="a reply from an unknown address of a customer's mail domain goes to that customer"
    )
    ar_email: EmailStr | None = Field(
        default=None, description="where portal messages are sent (the accounts-receivable mailbox)"
    )
    logo_url: Annotated[str, StringConstraints(max_length=2000, pattern=r"^https://")] | None = Field(
        default=None, description="the organization's logo on the portal (an https URL)"
    )
    card_payment_limit: int | None = Field(
        default=1_000_000,
        ge=0,
        le=MAX_AMOUNT,
        description="card is not offered above this amount (minor units of the payment's currency); null: no limit",
    )
    payment_in_flight_days: int = Field(
        default=14,
        ge=7,
        le=60,
        description="days a portal payment on its way (ACH, SEPA debit, bank transfer) holds its invoices out of "
        "dunning; after them the nightly run gives the invoices back to dunning and tells the account managers",
    )
    bank_transfer_country: str = Field(
        default="FR", pattern=r"^(AT|BE|DE|ES|FR|IE|IT|NL)$", description="where EUR bank transfers are received"
    )
    dispute_reasons: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]] = (
        Field(default_factory=lambda: list(DEFAULT_DISPUTE_REASONS), min_length=1, max_length=30)
    )
    sign_up_domains: list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$", max_length=253)]] = (
        Field(
            default_factory=list,
            max_length=20,
            description="mail domains whose people may sign in with Google without an invitation: they join the "
            "organization as account managers (everyone else signs in only as an existing user)",
        )
    )

    @field_validator("business_days")
    @classmethod
    def _weekdays(cls, days: list[int]) -> list[int]:
        if not days or any(d not in range(7) for d in days):
            raise ValueError("at least one day, each from 0 (Monday) to 6 (Sunday)")
        return sorted(set(days))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"'{value}' is not an IANA time zone")
        return value


class Organization(Record):
    id: str
    name: str = Field(min_length=1, max_length=200)
    created_at: AwareDatetime
    settings: OrganizationSettings = Field(default_factory=OrganizationSettings)  # its validator: on first use


class Principal(RelanceModel):
    """Who is calling: the organization, the role and the identity behind it."""

    organization_id: str
    role: str = Field(pattern=r"^(admin|account_manager)$")
    principal_id: str
    user_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


SEND_WINDOW_FIELDS = ("timezone", "send_time", "business_days", "holidays")


def send_window_changed(before: OrganizationSettings, after: OrganizationSettings) -> bool:
    """Whether the organization's send window (time zone, send time, business days, holidays) changed."""
    return any(
        sorted(getattr(before, name)) != sorted(getattr(after, name))
        if isinstance(getattr(before, name), list)
        else getattr(before, name) != getattr(after, name)
        for name in SEND_WINDOW_FIELDS
    )


def automatic_actions_back_on(before: OrganizationSettings, after: OrganizationSettings) -> bool:
    """Whether automatic actions were switched back on: the workflows they held go on."""
    return not before.automatic_actions and after.automatic_actions
