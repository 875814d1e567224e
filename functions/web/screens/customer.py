"""The customer page: balances, rating and why, invoices and money, contacts, actions, portal, settings.

Every form on the page posts to the page's own URL with ``do`` naming what to do; success answers
303 back to the page, a refusal shows the page again with the fields at fault (422).
"""

import base64
import re
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import ValidationError

from relance import clock
from relance.domain.custom_fields import FieldType
from relance.domain.customers import ContactFields, ContactPatch, CustomerPatch, PaymentMethods
from relance.errors import Invalid, NotFound, PayloadTooLarge, validation_fields
from relance.services import (
    actions,
    contacts,
    customers,
    documents,
    dunning,
    notes,
    replies,
    team_portal_links,
    templates,
    workspace,
)
from relance.services.access import require_admin
from relance.services.actions import ManualAction, ManualType
from relance.services.notes import FileDeclaration, NoteFields, NotePatch
from relance.services.replies import ReplyFields
from relance.services.team_portal_links import PortalLinkRequest
from relance.web.session import SignedIn
from screens import uploads
from screens.base import check_csrf, first, is_htmx, page, redirect, signed_in
from screens.customers import ACTIONS, METHODS
from screens.uploads import FormFile

router = Router()
INVOICE_PAGE = re.compile(r"/invoices/[A-Za-z0-9_-]{1,64}")
STATUS = {
    "sent": "Sent",
    "skipped": "Skipped",
    "postponed": "Postponed",
    "replanned": "Replanned",
    "failed": "Failed",
    "open": "To do",
    "done": "Done",
    "to_post": "To post",
    "sending": "Sending",
}


def _show(
    person: SignedIn,
    customer_id: str,
    *,
    errors: dict[str, str] | None = None,
    link: Any = None,
    status: int = 200,
    cursor: str | None = None,
    remind: str | None = None,
    written: dict[str, str] | None = None,
    written_preview: Any = None,
) -> Response[str]:
    shown = workspace.customer_page(person.principal, customer_id, cursor)
    choices = templates.list_templates(person.principal) if remind else None  # read only when asked
    preview = templates.preview(person.principal, remind, customer_id, None) if remind and remind != "choose" else None
    seen = shown.customer.account_manager_ids
    return page(
        router,
        person,
        "customer.html",
        block="portal_link" if link is not None else None,
        status=status,
        nav="customers",
        p=shown,
        c=shown.customer,
        errors=errors or {},
        link=link,
        methods=METHODS,
        actions=ACTIONS,
        statuses=STATUS,
        card_limit=shown.organization.settings.card_payment_limit,
        today=clock.now().date(),
        timeline=shown.timeline,
        base=f"/customers/{customer_id}",
        names=shown.timeline.names,
        mentionable=[u for u in shown.directory.managers if u.role == "admin" or u.id in seen],
        remind=remind,
        choices=choices,
        preview=preview,
        written=written or {},
        written_preview=written_preview,
    )


@router.get("/customers/<customer_id>")
def customer_page(customer_id: str) -> Response[str]:
    """The page; ``?timeline=<cursor>`` from htmx is the timeline's next page alone (scrolling)."""
    person = signed_in(router)
    cursor = router.current_event.get_query_string_value("timeline") or None
    if cursor and is_htmx(router.current_event):
        more = workspace.customer_timeline(person.principal, customer_id, cursor)
        base = f"/customers/{customer_id}"
        return page(router, person, "customer.html", block="timeline_rows", timeline=more, base=base, names=more.names)
    remind = router.current_event.get_query_string_value("remind") or None
    return _show(person, customer_id, cursor=cursor, remind=remind)


@router.get("/customers/<customer_id>/invoices/<invoice_id>/pdf")
def invoice_pdf(customer_id: str, invoice_id: str) -> Response[str]:
    person = signed_in(router)
    download = documents.pdf_download(person.principal, invoice_id)
    return redirect(download.url, person)


def _model(model: Any, values: dict[str, Any], prefix: str = "") -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        fields = {f"{prefix}{k}": v for k, v in validation_fields(error.errors()).items()}
        raise Invalid("please check the highlighted fields", fields) from error


def _contact_of(person: SignedIn, customer_id: str, contact_id: str) -> None:
    if contacts.get_contact(person.principal, contact_id).customer_id != customer_id:
        raise NotFound("contact not found")


def _contact_values(fields: dict[str, list[str]]) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: first(fields, key) or None
        for name, key in (
            ("email", "email"),
            ("firstName", "firstName"),
            ("lastName", "lastName"),
            ("phone", "phone"),
            ("jobTitle", "jobTitle"),
            ("positionId", "positionId"),
        )
    }
    return values


def _custom_values(person: SignedIn, fields: dict[str, list[str]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for definition in workspace.directory(person.principal).custom_fields:
        text = first(fields, f"cf.{definition.key}")
        if definition.type == FieldType.NUMBER and text:
            try:
                values[definition.key] = int(text)
            except ValueError as error:
                raise Invalid("please check the custom fields", {f"cf.{definition.key}": "a whole number"}) from error
        else:
            values[definition.key] = text or None
    return values


def _note(
    person: SignedIn, customer_id: str, intent: str, fields: dict[str, list[str]], files: list[FormFile]
) -> list[dict[str, Any]]:
    """Write a note (its mentions typed as ``@Name`` or chosen from the select, its files), add files to
    one, pin, unpin or delete one of this customer's. The answer: the presigned uploads of files only
    declared (the page's script)."""
    principal = person.principal
    declared, contents = uploads.declared(fields, files)
    if intent == "note":
        body = first(fields, "body")
        if not body:
            raise Invalid("please write the note", {"body": "a note needs some words"})
        people = {u.id: u.name for u in workspace.directory(principal).users.values()}
        body = notes.with_mention_tokens(body, people)  # "@Marc Dubois", typed or picked from the list
        added = [f"@{u}" for u in fields.get("mention", []) if u and f"@{u}" not in body]
        values = {
            "body": " ".join([body, *added]),
            "pinned": first(fields, "pinned") == "yes",
            "attachments": declared,
            "actionId": first(fields, "actionId") or None,  # a note about a pending action
        }
        try:
            created = notes.create(principal, customer_id, _model(NoteFields, values), contents)
        except (Invalid, PayloadTooLarge) as refused:
            raise Invalid(refused.message, {**refused.fields, "draft": body}) from refused
        return list(created.get("uploads", []))
    note = notes.get_note(principal, first(fields, "note"))
    if note["customerId"] != customer_id:
        raise NotFound("note not found")
    if intent == "note-files":
        if not declared:
            raise Invalid("choose the files to add", {"attachments": "no file chosen"})
        try:
            more = [_model(FileDeclaration, one, "attachments.") for one in declared]
            added_files = notes.add_attachments(principal, note["id"], more, contents)
        except PayloadTooLarge as refused:
            raise Invalid(refused.message, refused.fields) from refused
        return [] if contents is not None else [u.model_dump(mode="json", by_alias=True) for _, u in added_files]
    if intent == "note-delete":
        notes.delete(principal, note["id"])
        return []
    if intent in ("note-pin", "note-unpin"):
        notes.update(principal, note["id"], NotePatch(pinned=intent == "note-pin"))
        return []
    raise Invalid("unknown action", {"do": "not something this page does"})


def _addresses(text: str) -> list[str]:
    return [a.strip() for a in text.replace(";", ",").split(",") if a.strip()]


def _reply(person: SignedIn, customer_id: str, fields: dict[str, list[str]], files: list[FormFile]) -> str:
    """Answer an email we sent, or the customer's mail a Reply task is about (the reply service),
    with the files chosen attached."""
    action = workspace.action_of(person.principal, customer_id, first(fields, "action"))
    values = {
        "body": first(fields, "body"),
        "to": _addresses(first(fields, "to")),
        "cc": _addresses(first(fields, "cc")),
        "attachments": [
            {"filename": f.filename, "contentType": f.content_type, "contentBase64": base64.b64encode(f.data).decode()}
            for f in files
        ],
    }
    answering = first(fields, "reply") or None  # the customer's mail the form is under, if it is one
    replies.reply(person.principal, str(action["id"]), _model(ReplyFields, values), answering=answering)
    return "timeline"


def _timeline_form(
    person: SignedIn, customer_id: str, intent: str, fields: dict[str, list[str]], files: list[FormFile]
) -> str:
    if intent == "remind":  # an email now, from the chosen template (the manual email service)
        chosen = first(fields, "template")
        email = ManualAction(customer_id=customer_id, type=ManualType.EMAIL, template_id=chosen)
        actions.create_manual(person.principal, email)
        return "timeline"
    if intent == "write":  # an email written for this customer, sent now (the manual email service)
        values: dict[str, str | None] = {
            "customerId": customer_id,
            "type": "email",
            "subject": first(fields, "subject"),
            "text": first(fields, "text"),
        }
        actions.create_manual(person.principal, _model(ManualAction, values))
        return "timeline"
    if intent == "to-do":  # a task or a call out of the blue, for someone who sees the customer
        if first(fields, "type") not in (ManualType.TASK.value, ManualType.CALL.value):
            raise Invalid("choose a task or a call", {"type": "task or call"})
        values = {
            "customerId": customer_id,
            "type": first(fields, "type"),
            "note": first(fields, "note") or None,
            "owner": first(fields, "owner") or None,
        }
        actions.create_manual(person.principal, _model(ManualAction, values))
        return "timeline"
    if intent == "reply":
        return _reply(person, customer_id, fields, files)
    raise Invalid("unknown action", {"do": "not something this page does"})


def _do(person: SignedIn, customer_id: str, fields: dict[str, list[str]], files: list[FormFile]) -> str:
    """Carry out the form's ``do``; the page's anchor to go back to."""
    principal = person.principal
    intent = first(fields, "do")
    contact_id = first(fields, "contact")
    if intent in ("pause", "resume"):
        (dunning.pause if intent == "pause" else dunning.resume)(principal, customer_id)
        return "top"
    if intent == "assign":
        require_admin(principal)
        patch = _model(
            CustomerPatch,
            {
                "dunningPlanId": first(fields, "dunningPlanId") or None,
                "accountManagerIds": fields.get("accountManagerIds", []),
            },
        )
        customers.update_customer(principal, customer_id, patch)
        return "assignment"
    if intent == "methods":
        require_admin(principal)
        chosen = set(fields.get("method", []))
        methods = PaymentMethods(**{m: m in chosen for m in METHODS})
        customers.update_customer(principal, customer_id, CustomerPatch(payment_methods=methods))
        return "payment-methods"
    if intent == "fields":
        require_admin(principal)
        customers.update_customer(principal, customer_id, CustomerPatch(custom_fields=_custom_values(person, fields)))
        return "custom-fields"
    if intent in {"reply", "remind", "write", "to-do"}:  # the timeline's forms (notes: see customer_form)
        return _timeline_form(person, customer_id, intent, fields, files)
    if intent == "contact-add":
        values = {**_contact_values(fields), "isMain": first(fields, "isMain") == "yes"}
        contacts.create_contact(principal, customer_id, _model(ContactFields, values, "contact."))
        return "contacts"
    if intent.startswith("contact-"):
        _contact_of(person, customer_id, contact_id)
        if intent == "contact-edit":
            contacts.update_contact(principal, contact_id, _model(ContactPatch, _contact_values(fields), "contact."))
        elif intent == "contact-main":
            contacts.update_contact(principal, contact_id, ContactPatch(is_main=True))
        elif intent == "contact-valid":
            contacts.mark_valid(principal, contact_id)
        elif intent == "contact-delete":
            contacts.delete_contact(principal, contact_id)
        else:
            raise Invalid("unknown action", {"do": "not something this page does"})
        return "contacts"
    raise Invalid("unknown action", {"do": "not something this page does"})


@router.post("/customers/<customer_id>")
def customer_form(customer_id: str) -> Response[str]:
    person = signed_in(router)
    event = router.current_event
    presigned = bool(event.headers.get(uploads.PRESIGNED))  # the page's script uploads the files itself
    try:
        fields, files = uploads.read(event)
    except Invalid as refused:
        return _show(
            person, customer_id, errors={"form": "note", "message": refused.message, **refused.fields}, status=422
        )
    check_csrf(router, person, fields)
    intent = first(fields, "do")
    if intent == "write-preview":  # an email written for this customer, rendered: nothing is written
        written = {"subject": first(fields, "subject"), "text": first(fields, "text")}
        try:
            shown = templates.preview_free_text(person.principal, written["subject"], written["text"], customer_id)
        except Invalid as refused:
            errors = {"form": "write", "message": refused.message, **refused.fields}
            return _show(person, customer_id, errors=errors, written=written, status=422)
        return _show(person, customer_id, written=written, written_preview=shown)
    if intent in ("portal-link", "portal-preview"):
        link = team_portal_links.create(
            person.principal, customer_id, PortalLinkRequest(preview=intent == "portal-preview")
        )
        if intent == "portal-preview":
            return redirect(link.url, person)
        return _show(person, customer_id, link=link)
    to_upload: list[dict[str, Any]] = []
    try:
        if intent == "note" or intent.startswith("note-"):
            to_upload, anchor = _note(person, customer_id, intent, fields, files), "timeline"
        else:
            anchor = _do(person, customer_id, fields, files)
    except Invalid as refused:
        errors = {"form": intent, "message": refused.message, **refused.fields}
        if intent == "note" and "draft" not in errors:
            errors["draft"] = first(fields, "body")
        if presigned:
            return uploads.json_answer({"message": refused.message, "fields": refused.fields}, 422)
        email = {"subject": first(fields, "subject"), "text": first(fields, "text")} if intent == "write" else None
        return _show(person, customer_id, errors=errors, status=422, written=email)
    back = first(fields, "back")  # the invoice page whose timeline posted here, else this page
    after = f"{back}#timeline" if INVOICE_PAGE.fullmatch(back) else f"/customers/{customer_id}#{anchor}"
    if presigned:
        return uploads.json_answer({"uploads": to_upload, "next": after})
    return redirect(after, person)
