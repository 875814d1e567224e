"""The organization's settings (admins): sender (with where its verification by SES stands, and
"send the verification email again"), sending window, replies, portal, disputes, sign-up domains.

The form posts to ``/settings``: 303 back on success, the form again with the fields at fault (422).
"""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import ValidationError

from relance.domain.organizations import OrganizationSettings
from relance.errors import Conflict, Invalid, TooManyRequests, validation_fields
from relance.services import organizations
from relance.services.access import require_admin
from relance.web.session import SignedIn
from screens.base import RENDER, check_csrf, first, form, html, page, redirect, signed_in

router = Router()
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
    shown = organizations.organization_view(person.principal.organization_id)
    current = shown.settings.model_dump(mode="json", by_alias=True)
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
        errors=errors or {},
    )


@router.get("/settings")
def settings_page() -> Response[str]:
    return _show(signed_in(router))


@router.get("/settings/automatic-actions")
def automatic_actions_banner() -> Response[str]:
    """The banner every page shows while automatic actions are off (anyone signed in), loaded by htmx
    once the page is there, like the bell: one read of the organization, not one before each page."""
    person = signed_in(router)
    off = not organizations.get_organization(person.principal.organization_id).settings.automatic_actions
    return html(
        RENDER.block("layout.html", "automatic_actions", automatic_actions_off=off, is_admin=person.principal.is_admin),
        person=person,
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _values(fields: dict[str, list[str]]) -> dict[str, Any]:
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
    }


@router.post("/settings")
def settings_form() -> Response[str]:
    person = signed_in(router)
    fields = form(router.current_event)
    check_csrf(router, person, fields)
    require_admin(person.principal)
    if first(fields, "do") == "send-verification":
        try:
            organizations.resend_sender_verification(person.principal)
        except (Invalid, Conflict, TooManyRequests) as refused:
            return _show(person, errors={"form": "sender", "message": refused.message}, status=refused.status)
        return redirect("/settings#sender", person)
    current = organizations.get_organization(person.principal.organization_id).settings
    values = _values(fields)
    try:
        try:
            chosen = OrganizationSettings.model_validate({**current.model_dump(mode="json", by_alias=True), **values})
        except ValidationError as error:
            raise Invalid("please check the highlighted fields", validation_fields(error.errors())) from error
        organizations.update_settings(person.principal, chosen)
    except (Invalid, Conflict) as refused:
        errors = {"form": "settings", "message": refused.message, **refused.fields}
        return _show(person, errors=errors, values=values, status=refused.status)
    return redirect("/settings", person)
