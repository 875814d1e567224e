"""Positions and custom fields (admins): the positions contacts hold (add, rename, delete moving their
contacts to another position or leaving them without one) and the custom fields of customers (add,
change the label or options, delete).

Forms post to ``/settings/fields`` with ``do``; success answers 303 back with what was done, a refusal
shows the page again with its reason and the field at fault (4xx).
"""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import ValidationError

from relance.domain.custom_fields import CustomFieldDefinition, FieldType
from relance.domain.customers import PositionFields
from relance.errors import Conflict, Invalid, NotFound, validation_fields
from relance.services import contacts, custom_fields, workspace
from relance.services.access import require_admin
from relance.web.session import SignedIn
from screens.base import check_csrf, first, form, page, redirect, signed_in

router = Router()
HERE = "/settings/fields"
TYPES = {FieldType.TEXT.value: "Text", FieldType.NUMBER.value: "Whole number", FieldType.DATE.value: "Date",
         FieldType.SELECT.value: "One of a list"}  # fmt: skip
DONE = {
    "position-added": "Position added.",
    "position-renamed": "Position renamed.",
    "field-saved": "Custom field saved.",
    "field-deleted": "Custom field deleted.",
}


def _show(
    person: SignedIn,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response[str]:
    require_admin(person.principal)
    known = workspace.directory(person.principal)  # positions and custom fields: one Query
    return page(
        router,
        person,
        "fields.html",
        status=status,
        nav="settings",
        tab="fields",
        positions=known.positions,
        fields=known.custom_fields,
        types=TYPES,
        errors=errors or {},
        v=values or {},
        done=done,
    )


@router.get(HERE)
def fields_page() -> Response[str]:
    person = signed_in(router)
    done = router.current_event.get_query_string_value("done") or ""
    moved = router.current_event.get_query_string_value("moved")
    said = DONE.get(done) or (f"Position deleted; {moved} contact(s) moved or left without one." if moved else None)
    return _show(person, done=said)


def _validated(model: Any, values: dict[str, Any]) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise Invalid("please check the highlighted fields", validation_fields(error.errors())) from error


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _do(person: SignedIn, fields: dict[str, list[str]]) -> str:
    """The query string of the page to go back to, saying what was done."""
    principal = person.principal
    intent = first(fields, "do")
    if intent == "add-position":
        contacts.create_position(principal, _validated(PositionFields, {"name": first(fields, "positionName")}))
        return "done=position-added"
    if intent == "rename-position":
        renamed = _validated(PositionFields, {"name": first(fields, "positionName")})
        contacts.rename_position(principal, first(fields, "position"), renamed)
        return "done=position-renamed"
    if intent == "delete-position":
        moved = contacts.delete_position(principal, first(fields, "position"), first(fields, "moveTo") or None)
        return f"moved={moved}"
    if intent == "save-field":
        chosen = first(fields, "type")
        definition = {
            "key": first(fields, "key"),
            "label": first(fields, "label"),
            "type": chosen,
            "options": _lines(first(fields, "options")) if chosen == FieldType.SELECT.value else [],
        }
        custom_fields.save_definition(principal, _validated(CustomFieldDefinition, definition))
        return "done=field-saved"
    if intent == "delete-field":
        custom_fields.delete_definition(principal, first(fields, "key"))
        return "done=field-deleted"
    raise Invalid("unknown action", {"do": "not something this page does"})


@router.post(HERE)
def fields_form() -> Response[str]:
    person = signed_in(router)
    fields = form(router.current_event)
    check_csrf(router, person, fields)
    require_admin(person.principal)
    try:
        back = _do(person, fields)
    except (Invalid, Conflict, NotFound) as refused:
        values = {k: first(fields, k) for k in ("do", "position", "positionName", "key", "label", "type", "options")}
        errors = {"message": refused.message, **refused.fields}
        return _show(person, errors=errors, values=values, status=refused.status)
    return redirect(f"{HERE}?{back}", person)
