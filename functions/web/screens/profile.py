"""The signed-in person's own profile: name, initials, how they are told (in the app, by email, on
Slack through a webhook), the signature closing their replies to customers and whether they get the
weekly digest by email.

The form posts to ``/profile``: 303 back on success, the form again with the fields at fault (422).
"""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import ValidationError

from relance.domain.users import Channel, UserPatch
from relance.errors import Invalid, NotFound, validation_fields
from relance.services import users
from relance.web.session import SignedIn
from screens.base import check_csrf, first, form, page, redirect, signed_in

router = Router()
CHANNELS = {
    Channel.IN_APP.value: "In the app (the bell)",
    Channel.EMAIL.value: "By email",
    Channel.SLACK.value: "On Slack (through the webhook below)",
}


def _me(person: SignedIn) -> str:
    if not person.principal.user_id:
        raise NotFound("no profile")
    return person.principal.user_id


def _show(
    person: SignedIn, *, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None, status: int = 200
) -> Response[str]:
    me = users.get_user(person.principal, _me(person))
    shown = {**me.model_dump(mode="json", by_alias=True), **(values or {})}
    saved = router.current_event.get_query_string_value("saved") == "1"
    return page(
        router,
        person,
        "profile.html",
        status=status,
        nav="profile",
        me=me,
        u=shown,
        channels=CHANNELS,
        errors=errors or {},
        saved=saved and not errors,
    )


@router.get("/profile")
def profile_page() -> Response[str]:
    return _show(signed_in(router))


@router.post("/profile")
def profile_form() -> Response[str]:
    person = signed_in(router)
    fields = form(router.current_event)
    check_csrf(router, person, fields)
    values: dict[str, Any] = {
        "name": first(fields, "name"),
        "initials": first(fields, "initials").upper(),
        "notificationChannels": fields.get("notificationChannels", []),
        "slackWebhookUrl": first(fields, "slackWebhookUrl").strip() or None,
        "signature": first(fields, "signature"),
        "weeklyDigest": first(fields, "weeklyDigest") == "on",
    }
    try:
        try:
            patch = UserPatch.model_validate(values)
        except ValidationError as error:
            raise Invalid("please check the highlighted fields", validation_fields(error.errors())) from error
        if Channel.SLACK in (patch.notification_channels or []) and not patch.slack_webhook_url:
            raise Invalid("Slack needs its webhook", {"slackWebhookUrl": "the webhook Slack gave you, or untick Slack"})
        users.update_user(person.principal, _me(person), patch)
    except Invalid as refused:
        errors = {"message": refused.message, **{k.split("[")[0]: v for k, v in refused.fields.items()}}
        return _show(person, errors=errors, values=values, status=refused.status)
    return redirect("/profile?saved=1", person)
