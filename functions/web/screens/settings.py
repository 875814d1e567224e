"""The organization's settings (admins): sender (with where its verification by SES stands, and
"send the verification email again"), sending window, replies, portal, disputes, sign-up domains.

The form posts to ``/settings``: 303 back on success, the form again with the fields at fault (422).
"""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from babel.numbers import get_currency_precision
from pydantic import ValidationError

from relance.domain.organizations import OrganizationSettings
from relance.domain.rating import RatingBasis
from relance.errors import Conflict, Invalid, TooManyRequests, validation_fields
from relance.services import organization_admin, organizations
from relance.services.access import require_admin
from relance.services.organization_admin import OrganizationName
from relance.web.customer_list import to_major, to_minor
from relance.web.session import SignedIn
from screens.base import check_csrf, first, form, page, redirect, signed_in

router = Router()
RATING_BASES = {
    "paid": "Paid invoices only: how late they were paid",
    "overdue_aware": "Paid and open invoices: an invoice still unpaid counts as late as it is now",
}
TRANSFER_COUNTRIES = {
    "AT": "Austria",
    "BE": "Belgium",
    "DE": "Germany",
    "ES": "Spain",
    "FR": "France",
    "IE": "Ireland",
    "IT": "Italy",
    "NL": "Netherlands",
}
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SENDER = {
    "not_started": ("Not verified", "text-bg-danger"),
    "pending": ("Verification email sent: waiting for its link to be clicked", "text-bg-warning"),
    "verified": ("Verified: reminders go out from it", "text-bg-success"),
    "failed": ("Verification failed or expired: send it again", "text-bg-danger"),
}


def _show(
    person: SignedIn, *, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None, status: int = 200
) -> Response[str]:
    require_admin(person.principal)
    shown = organization_admin.organization_view(person.principal.organization_id)
    current = shown.settings.model_dump(mode="json", by_alias=True)
    limit = shown.settings.card_payment_limit
    digits = int(get_currency_precision(shown.settings.default_currency))
    current["cardPaymentLimit"] = "" if limit is None else to_major(limit, digits)
    current["holidays"] = "\n".join(current["holidays"])
    return page(
        router,
        person,
        "settings.html",
        status=status,
        nav="settings",
        tab="organization",
        org=shown,
        s={**current, **(values or {})},
        days=DAYS,
        sender_states=SENDER,
        rating_bases={b.value: RATING_BASES[b.value] for b in RatingBasis},
        countries=TRANSFER_COUNTRIES,
        errors=errors or {},
    )


@router.get("/settings")
def settings_page() -> Response[str]:
    return _show(signed_in(router))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _by_field(fields: dict[str, str]) -> dict[str, str]:
    """``holidays[1]`` (a line of a list typed one a line) as ``holidays``, naming the line."""
    named: dict[str, str] = {}
    for path, message in fields.items():
        name, _, index = path.partition("[")
        named.setdefault(name, f"line {int(index.split(']')[0]) + 1}: {message}" if index else message)
    return named


def _card_limit(text: str, currency: str) -> int | None:
    """The card limit typed in the default currency's units, in minor units; empty: no limit."""
    return to_minor(text, currency or None, "cardPaymentLimit") if text.strip() else None


def _values(fields: dict[str, list[str]]) -> dict[str, Any]:
    """The form's fields as the settings' (the card limit still as typed: ``_card_limit``)."""
    return {
        "senderName": first(fields, "senderName") or None,
        "senderEmail": first(fields, "senderEmail") or None,
        "arEmail": first(fields, "arEmail") or None,
        "language": first(fields, "language"),
        "defaultCurrency": first(fields, "defaultCurrency").upper(),
        "timezone": first(fields, "timezone"),
        "sendTime": first(fields, "sendTime"),
        "businessDays": [int(d) for d in fields.get("businessDays", []) if d.isdigit()],
        "portalLinkValidityDays": first(fields, "portalLinkValidityDays"),
        "automaticActions": first(fields, "automaticActions") == "yes",
        "handleReplies": first(fields, "handleReplies") == "yes",
        "matchRepliesBySenderDomain": first(fields, "matchRepliesBySenderDomain") == "yes",
        "disputeReasons": _lines(first(fields, "disputeReasons")),
        "signUpDomains": [d.lower() for d in _lines(first(fields, "signUpDomains"))],
        "holidays": _lines(first(fields, "holidays")),
        "logoUrl": first(fields, "logoUrl").strip() or None,
        "ratingBasis": first(fields, "ratingBasis"),
        "bankTransferCountry": first(fields, "bankTransferCountry"),
        "paymentInFlightDays": first(fields, "paymentInFlightDays"),
        "cardPaymentLimit": first(fields, "cardPaymentLimit"),
    }


@router.post("/settings")
def settings_form() -> Response[str]:
    person = signed_in(router)
    fields = form(router.current_event)
    check_csrf(router, person, fields)
    require_admin(person.principal)
    if first(fields, "do") == "rename":
        try:
            try:
                named = OrganizationName.model_validate({"name": first(fields, "name")})
            except ValidationError as error:
                raise Invalid("please give the organization a name", validation_fields(error.errors())) from error
            organization_admin.rename_organization(person.principal, named)
        except Invalid as refused:
            return _show(person, errors={"form": "rename", "message": refused.message, **refused.fields}, status=422)
        return redirect("/settings", person)
    if first(fields, "do") == "send-verification":
        try:
            organization_admin.resend_sender_verification(person.principal)
        except (Invalid, Conflict, TooManyRequests) as refused:
            return _show(person, errors={"form": "sender", "message": refused.message}, status=refused.status)
        return redirect("/settings#sender", person)
    current = organizations.get_organization(person.principal.organization_id).settings
    values = _values(fields)
    try:
        limit = _card_limit(values["cardPaymentLimit"], values["defaultCurrency"])
        try:
            chosen = OrganizationSettings.model_validate(
                {**current.model_dump(mode="json", by_alias=True), **values, "cardPaymentLimit": limit}
            )
        except ValidationError as error:
            raise Invalid("please check the highlighted fields", validation_fields(error.errors())) from error
        organization_admin.update_settings(person.principal, chosen)
    except (Invalid, Conflict) as refused:
        errors = {"form": "settings", "message": refused.message, **_by_field(refused.fields)}
        shown_values = {**values, "holidays": first(fields, "holidays")}
        return _show(person, errors=errors, values=shown_values, status=refused.status)
    return redirect("/settings", person)
