"""The team (admins): people — invite, change a role, send an invitation again, remove — and API keys
(created with their secret shown once, revoked).

Forms post to ``/settings/team`` with ``do``; success answers 303 back (a new key's page is the
answer itself: its secret is never in a URL), a refusal shows the page again with its reason (4xx).
"""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import ValidationError

from relance.concurrency import together
from relance.domain.users import ApiKey, ApiKeyFields, Role, UserFields, UserPatch
from relance.errors import Conflict, Invalid, NotFound, validation_fields
from relance.services import users
from relance.services.access import require_admin
from relance.web.session import SignedIn
from screens.base import check_csrf, first, form, page, redirect, signed_in

router = Router()
ROLES = {Role.ADMIN.value: "Administrator", Role.ACCOUNT_MANAGER.value: "Account manager"}
HERE = "/settings/team"


def _show(
    person: SignedIn,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    created: ApiKey | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response[str]:
    require_admin(person.principal)
    people, api_keys, waiting = together(
        lambda: users.list_users(person.principal),
        lambda: users.list_api_keys(person.principal),
        lambda: users.not_signed_in_yet(person.principal),
    )
    return page(
        router,
        person,
        "team.html",
        status=status,
        nav="settings",
        tab="team",
        people=sorted(people, key=lambda u: u.name.lower()),
        api_keys=sorted(api_keys, key=lambda k: k.created_at, reverse=True),
        roles=ROLES,
        waiting=waiting,
        errors=errors or {},
        v=values or {},
        created=created,
        done=done,
    )


@router.get(HERE)
def team_page() -> Response[str]:
    person = signed_in(router)
    return _show(person, done=router.current_event.get_query_string_value("done") or None)


def _validated(model: Any, values: dict[str, Any]) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise Invalid("please check the highlighted fields", validation_fields(error.errors())) from error


def _do(person: SignedIn, fields: dict[str, list[str]]) -> tuple[str, ApiKey | None]:
    """What was done (for the line shown after the redirect), and a new API key when one was made."""
    principal = person.principal
    intent = first(fields, "do")
    user_id = first(fields, "user")
    if intent == "invite":
        invited = {"email": first(fields, "email"), "name": first(fields, "name"), "role": first(fields, "role")}
        users.create_user(principal, _validated(UserFields, invited))
        return "invited", None
    if intent == "role":
        users.update_user(principal, user_id, _validated(UserPatch, {"role": first(fields, "role")}))
        return "role", None
    if intent == "resend":
        users.resend_invitation(principal, user_id)
        return "resent", None
    if intent == "remove":
        if user_id == principal.user_id:
            raise Invalid("you cannot remove yourself", {"user": "another administrator can"})
        users.delete_user(principal, user_id)
        return "removed", None
    if intent == "create-key":
        return "key", users.create_api_key(principal, _validated(ApiKeyFields, {"name": first(fields, "keyName")}))
    if intent == "revoke-key":
        users.revoke_api_key(principal, first(fields, "key"))
        return "revoked", None
    raise Invalid("unknown action", {"do": "not something this page does"})


@router.post(HERE)
def team_form() -> Response[str]:
    person = signed_in(router)
    fields = form(router.current_event)
    check_csrf(router, person, fields)
    require_admin(person.principal)
    try:
        done, created = _do(person, fields)
    except (Invalid, Conflict, NotFound) as refused:
        values = {k: first(fields, k) for k in ("email", "name", "role", "keyName", "do", "user")}
        errors = {"message": refused.message, **refused.fields}
        return _show(person, errors=errors, values=values, status=refused.status)
    if created is not None:  # shown once, in this answer (no-store), never in a URL
        return _show(person, created=created, done="key")
    return redirect(f"{HERE}?done={done}", person)
