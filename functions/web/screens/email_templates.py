"""Email templates: the list (everyone reads it), and for admins the editor — new, duplicate, edit, delete.

The editor's form posts to its own URL with ``do``: ``save`` (303 back to the list), ``preview`` (the
draft rendered for a chosen customer, in the same bounded sandbox as a saved template) or ``test``
(the draft sent to the signed-in person, "[Test]" first; the page comes back with the draft as typed,
since nothing of the template was saved). htmx swaps the preview alone, a refusal included (422);
without JavaScript the page comes back whole.
"""

from __future__ import annotations

from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import ValidationError

from relance.domain.base import RelanceModel
from relance.domain.workflows import Tone
from relance.errors import Conflict, Invalid, NotFound, validation_fields
from relance.services import templates
from relance.services.access import require_admin
from relance.services.customers import CustomerFilter, list_customers
from relance.services.templates import Draft, EmailTemplate, TemplateFields
from relance.web.session import SignedIn
from screens.base import check_csrf, first, form, is_htmx, page, redirect, signed_in
from screens.workflows import LANGUAGES

router = Router()
M = TypeVar("M", bound=RelanceModel)
NEW = "new"
CUSTOMERS_SHOWN = 50
SHIPPED = {"before_due": "Before the due date", "overdue": "Overdue", "final_notice": "Final notice"}
LABELS = {"name": "Name", "language": "Language", "tone": "Tone", "subject": "Subject", "text": "Body"}
LABELS |= {"html": "HTML body", "template": "Body", "customer": "Customer", "senderEmail": "Sender address"}
STARTER = {
    "subject": "Invoices outstanding: {{ totals|join(', ') }}",
    "text": "Dear {{ contact.first_name or customer.name }},\n\n"
    "{% for invoice in invoices %}- {{ invoice.number }}, due {{ invoice.due_at }}: {{ invoice.outstanding }}\n"
    "{% endfor %}\n{{ labels.pay }}: {{ portal_link }}\n\n{{ sender.name }}\n",
    "html": "",
}


def _listed(person: SignedIn, errors: dict[str, str] | None = None, status: int = 200) -> Response[str]:
    found = templates.list_templates(person.principal)
    own = sorted((t for t in found if not t.shipped), key=lambda t: (t.language, t.tone.value, t.name.lower()))
    return page(
        router, person, "templates.html", status=status, nav="workflows", tab="templates", own=own,
        shipped=[t for t in found if t.shipped], shipped_names=SHIPPED, languages=LANGUAGES, errors=errors or {},
    )  # fmt: skip


@router.get("/templates")
def templates_page() -> Response[str]:
    return _listed(signed_in(router))


@router.post("/templates")
def templates_form() -> Response[str]:
    """``do=delete`` of ``template``: refused (409, naming the workflows) while a workflow step uses it."""
    person = signed_in(router)
    fields = form(router.current_event)
    check_csrf(router, person, fields)
    if first(fields, "do") != "delete":
        raise Invalid("unknown action", {"do": "not something this page does"})
    chosen = first(fields, "template")
    try:
        templates.delete_template(person.principal, chosen)
    except Conflict as refused:
        return _listed(person, {"template": chosen, "message": refused.message, **refused.fields}, 409)
    return redirect("/templates", person)


def _draft(template: EmailTemplate) -> dict[str, str]:
    return {k: getattr(template, k) for k in ("name", "language", "subject", "text", "html")} | {
        "tone": template.tone.value
    }


def _posted(fields: dict[str, list[str]]) -> dict[str, str]:
    """The editor's form as sent; the sources keep their whitespace (a template's line breaks matter)."""
    raw = {k: fields.get(k, [""])[0].replace("\r\n", "\n") for k in ("subject", "text", "html")}
    return {"name": first(fields, "name"), "language": first(fields, "language", "en"),
            "tone": first(fields, "tone", "formal"), **raw}  # fmt: skip


def _checked(model: type[M], draft: dict[str, str]) -> M:
    """The draft checked by the template's own model; a blank HTML body is the plain one, kept as typed."""
    html = draft["html"] if draft["html"].strip() else f'<div style="white-space: pre-wrap">{draft["text"]}</div>'
    try:
        return model.model_validate({k: v for k, v in {**draft, "html": html}.items() if k in model.model_fields})
    except ValidationError as error:
        raise Invalid("please check the highlighted fields", validation_fields(error.errors())) from error


def _refusal(refused: Invalid) -> dict[str, str]:
    """The refusal's fields, and a message naming them as the form does."""
    named = "; ".join(f"{LABELS.get(k, k)}: {v}" for k, v in refused.fields.items())
    return {**refused.fields, "message": f"{refused.message} — {named}" if named else refused.message}


def _editor(
    person: SignedIn,
    template_id: str,
    draft: dict[str, str],
    *,
    customer_id: str = "",
    errors: dict[str, str] | None = None,
    shown: templates.Preview | None = None,
    sent_to: str | None = None,
    tried: bool = False,
    status: int = 200,
    block: str | None = None,
) -> Response[str]:
    rows, _ = list_customers(person.principal, CustomerFilter(), "name", CUSTOMERS_SHOWN)
    return page(
        router, person, "template.html", block=block, status=status, nav="workflows", template_id=template_id,
        base="/templates/new" if template_id == NEW else f"/templates/{template_id}", draft=draft,
        customers=rows, customer_id=customer_id, errors=errors or {}, preview=shown, sent_to=sent_to, tried=tried,
        variables=templates.variables(), tones=[t.value for t in Tone], labels=LABELS,
        languages=LANGUAGES | {code: code.upper() for code in [draft["language"]] if code and code not in LANGUAGES},
    )  # fmt: skip


@router.get("/templates/<template_id>")
def template_page(template_id: str) -> Response[str]:
    """The editor; ``/templates/new`` starts a template, ``?from=<id>`` as a copy of one (saved on Save)."""
    person = signed_in(router)
    require_admin(person.principal)
    org_id = person.principal.organization_id
    if template_id != NEW:
        return _editor(person, template_id, _draft(templates.get_template(org_id, template_id)))
    source = router.current_event.get_query_string_value("from") or None
    if source:
        draft = _draft(templates.get_template(org_id, source))
        draft["name"] = f"Copy of {draft['name']}"[:100]
    else:
        draft = {"name": "", "language": "en", "tone": "formal", **STARTER}
    return _editor(person, NEW, draft)


@router.post("/templates/<template_id>")
def template_form(template_id: str) -> Response[str]:
    person = signed_in(router)
    fields = form(router.current_event)
    check_csrf(router, person, fields)
    require_admin(person.principal)
    if template_id != NEW:
        templates.get_template(person.principal.organization_id, template_id)
    draft, customer_id, intent = _posted(fields), first(fields, "customer"), first(fields, "do")
    if intent in ("preview", "test"):
        return _tried(person, template_id, draft, customer_id, intent)
    if intent != "save":
        raise Invalid("unknown action", {"do": "not something this page does"})
    try:
        checked = _checked(TemplateFields, draft)
        templates.save_template(person.principal, checked, None if template_id == NEW else template_id)
    except Invalid as refused:
        return _editor(person, template_id, draft, customer_id=customer_id, errors=_refusal(refused), status=422)
    return redirect("/templates", person)


def _tried(person: SignedIn, template_id: str, draft: dict[str, str], customer_id: str, intent: str) -> Response[str]:
    """The draft previewed (or sent as a test) for the chosen customer; the preview block for htmx."""
    block = "preview" if is_htmx(router.current_event) else None
    state: dict[str, Any] = {"customer_id": customer_id, "block": block, "tried": True}
    if not customer_id:
        refused = Invalid("choose a customer", {"customer": "choose a customer to preview the email for"})
        return _editor(person, template_id, draft, errors=_refusal(refused), status=422, **state)
    try:
        unsaved = _checked(Draft, draft)
        shown = templates.preview_draft(person.principal, unsaved, customer_id)
        sent_to = templates.send_test(person.principal, unsaved, customer_id) if intent == "test" else None
    except NotFound:
        refused = Invalid("no such customer", {"customer": "choose one of the list"})
        return _editor(person, template_id, draft, errors=_refusal(refused), status=422, **state)
    except Invalid as refused:
        return _editor(person, template_id, draft, errors=_refusal(refused), status=422, **state)
    return _editor(person, template_id, draft, shown=shown, sent_to=sent_to, **state)
