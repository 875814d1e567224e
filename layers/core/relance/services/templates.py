"""Email templates: the shipped ones and the organization's own; previews on real customers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from html import escape
from typing import Annotated, Any

from pydantic import AwareDatetime, StringConstraints

from relance import clock
from relance.domain.base import Record, RelanceModel
from relance.domain.customers import Contact, CustomerRecord
from relance.domain.money import Money
from relance.domain.organizations import Principal
from relance.domain.workflows import Tone, Workflow
from relance.errors import Conflict, Invalid, NotFound
from relance.ids import new_id
from relance.mail import ses
from relance.mail.rendering import DEFAULT_NAMES, RenderedEmail, check_syntax, render_default, render_strings
from relance.services import users
from relance.services.access import require_admin
from relance.services.contacts import to_contact
from relance.services.customers import customer_record_of
from relance.services.organizations import get_organization
from relance.settings import get_settings
from relance.storage import contacts as contact_store
from relance.storage import ledger as ledger_store
from relance.storage import organizations as org_store
from relance.storage import templates as store
from relance.storage import workflows as workflow_store

LABELS = {
    "en": {
        "invoice": "Invoice",
        "due": "Due",
        "outstanding": "Outstanding",
        "late": "Days late",
        "total": "Total",
        "pay": "View and pay online",
    },
    "fr": {
        "invoice": "Facture",
        "due": "Échéance",
        "outstanding": "Restant dû",
        "late": "Jours de retard",
        "total": "Total",
        "pay": "Consulter et payer en ligne",
    },
}
Source = Annotated[str, StringConstraints(max_length=50_000)]
PREVIEW_PORTAL_LINK = "https://portal.example/preview"


class TemplateFields(RelanceModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
    tone: Tone
    subject: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    text: Source
    html: Source


class EmailTemplate(Record):
    id: str
    name: str
    language: str
    tone: Tone
    subject: str
    text: str
    html: str
    shipped: bool = False
    updated_at: AwareDatetime | None = None


class Preview(RelanceModel):
    subject: str
    text: str
    html: str


def shipped_id(name: str) -> str:
    return f"default.{name}"


def list_templates(principal: Principal) -> list[EmailTemplate]:
    """The shipped templates (by name; language and tone come from the workflow) and the organization's."""
    shipped = [
        EmailTemplate(
            id=shipped_id(n), name=n, language="*", tone=Tone.FORMAL, subject="", text="", html="", shipped=True
        )
        for n in DEFAULT_NAMES
    ]
    own = [EmailTemplate.model_validate(i) for i in store.list_templates(principal.organization_id)]
    return shipped + own


def get_template(org_id: str, template_id: str) -> EmailTemplate:
    item = store.get_template(org_id, template_id)
    if item is None:
        raise NotFound("template not found")
    return EmailTemplate.model_validate(item)


def save_template(principal: Principal, fields: TemplateFields, template_id: str | None = None) -> EmailTemplate:
    require_admin(principal)
    check_syntax({"subject": fields.subject, "text": fields.text, "html": fields.html})
    if template_id is not None:
        get_template(principal.organization_id, template_id)
    saved = EmailTemplate(id=template_id or new_id("tpl"), updated_at=clock.now(), **fields.model_dump())
    store.put_template(principal.organization_id, saved.model_dump(mode="json", by_alias=True))
    return saved


def exists(org_id: str, template_id: str) -> bool:
    """Whether ``template_id`` names a shipped template (``default.<name>``) or one of the organization's."""
    if template_id.startswith("default."):
        return template_id.removeprefix("default.") in DEFAULT_NAMES
    return store.get_template(org_id, template_id) is not None


def delete_template(principal: Principal, template_id: str) -> None:
    """Delete a template no workflow step uses (409 naming the workflows that do)."""
    require_admin(principal)
    org_id = principal.organization_id
    get_template(org_id, template_id)
    workflows = [Workflow.model_validate(i) for i in workflow_store.list_workflows(org_id)]
    users = sorted(w.name for w in workflows if any(s.template_id == template_id for s in w.steps))
    if users:
        raise Conflict(
            f"workflows use this template: {', '.join(users)}; change their steps first",
            {"workflows": ", ".join(users)},
        )
    store.delete_template(org_id, template_id)


def render(org_id: str, template_id: str, language: str, tone: str, context: dict[str, Any]) -> RenderedEmail:
    """Render a shipped template (``default.<name>``) in the language and tone, or one of the organization's."""
    if template_id.startswith("default."):
        if template_id.removeprefix("default.") not in DEFAULT_NAMES:
            raise NotFound("template not found")
        return render_default(template_id.removeprefix("default."), language, tone, context)
    own = get_template(org_id, template_id)
    return render_strings(own.subject, own.text, own.html, {**context, "language": own.language})


def email_context(
    *,
    organization: dict[str, Any],
    customer: CustomerRecord,
    contact: Contact | None,
    invoices: list[dict[str, Any]],
    portal_link: str,
    sender_name: str,
    language: str,
    today: Any,
) -> dict[str, Any]:
    """The documented variables of every template (docs/dunning.md)."""
    locale = language if language in LABELS else "en"

    def money(amount: int, currency: str) -> str:
        return Money(amount=amount, currency=currency).format(locale)

    rows = []
    totals: dict[str, int] = {}
    for invoice in invoices:
        outstanding = int(invoice["amount"]) - int(invoice.get("paidAmount", 0)) - int(invoice.get("creditedAmount", 0))
        totals[invoice["currency"]] = totals.get(invoice["currency"], 0) + outstanding
        rows.append(
            {
                "number": invoice["number"],
                "issued_at": invoice["issuedAt"],
                "due_at": invoice["dueAt"],
                "amount": money(int(invoice["amount"]), invoice["currency"]),
                "outstanding": money(outstanding, invoice["currency"]),
                "days_late": max(0, (today - date.fromisoformat(invoice["dueAt"])).days),
            }
        )
    return {
        "language": locale,
        "organization": {"name": organization.get("name", "")},
        "customer": {"name": customer.name, "external_id": customer.external_id},
        "contact": {
            "first_name": contact.first_name if contact else None,
            "last_name": contact.last_name if contact else None,
            "email": contact.email if contact else None,
        },
        "invoices": rows,
        "totals": [money(amount, currency) for currency, amount in sorted(totals.items())],
        "portal_link": portal_link,
        "sender": {"name": sender_name},
        "labels": LABELS[locale],
    }


def _customer_context(principal: Principal, customer_id: str, sender_name: str = "") -> dict[str, Any]:
    """The variables for a real customer (its open invoices, main contact, organization), with a
    stand-in portal link: a preview or a test issues no link to the customer's portal."""
    org_id = principal.organization_id
    customer = customer_record_of(principal, customer_id)
    invoices = [i for i in ledger_store.records_of(org_id, customer_id, "invoice") if i["status"] == "open"]
    main_item = contact_store.get_contact(org_id, customer.main_contact_id) if customer.main_contact_id else None
    main = to_contact(main_item, customer.main_contact_id) if main_item else None
    return email_context(
        organization=org_store.get(org_id) or {},
        customer=customer,
        contact=main,
        invoices=invoices,
        portal_link=PREVIEW_PORTAL_LINK,
        sender_name=sender_name,
        language=customer.language or "en",
        today=clock.now().date(),
    )


def preview(principal: Principal, template_id: str, customer_id: str, tone: Tone | None) -> Preview:
    """The template rendered for a real customer: its open invoices, main contact, organization."""
    context = _customer_context(principal, customer_id)
    rendered = render(principal.organization_id, template_id, context["language"], (tone or Tone.FORMAL).value, context)
    return Preview(subject=rendered.subject, text=rendered.text, html=rendered.html)


def render_free_text(subject: str, text: str, context: dict[str, Any]) -> RenderedEmail:
    """An email written for one customer, not a template: its subject and text rendered in the bounded
    sandbox with a template's variables (a field that does not compile is a 422 naming it), the HTML
    part the rendered text itself, escaped, its lines kept."""
    check_syntax({"subject": subject, "text": text})
    rendered = render_strings(subject, text, "", context)
    html = f'<div style="white-space: pre-wrap">{escape(rendered.text)}</div>'
    return RenderedEmail(subject=rendered.subject, text=rendered.text, html=html)


def preview_free_text(principal: Principal, subject: str, text: str, customer_id: str) -> Preview:
    """An email written for this customer, rendered as it would go (a stand-in portal link)."""
    rendered = render_free_text(subject, text, _customer_context(principal, customer_id))
    return Preview(subject=rendered.subject, text=rendered.text, html=rendered.html)


class Draft(RelanceModel):
    """A template as the editor holds it, saved or not: what a preview or a test email renders."""

    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] = "en"
    subject: Annotated[str, StringConstraints(max_length=500)]
    text: Source
    html: Source


def preview_draft(principal: Principal, draft: Draft, customer_id: str, sender_name: str = "") -> Preview:
    """Unsaved fields rendered for a real customer, in the bounded sandbox as a saved template is:
    ``Invalid`` (422) naming the field that does not compile, or ``template`` when rendering fails."""
    check_syntax({"subject": draft.subject, "text": draft.text, "html": draft.html})
    context = _customer_context(principal, customer_id, sender_name)
    rendered = render_strings(draft.subject, draft.text, draft.html, {**context, "language": draft.language})
    return Preview(subject=rendered.subject, text=rendered.text, html=rendered.html)


def send_test(principal: Principal, draft: Draft, customer_id: str) -> str:
    """The draft rendered for a customer and sent to the signed-in person alone, "[Test]" before its
    subject, through SES as reminders go: no action, no contact, nothing on the customer's timeline.
    Answers the address it went to."""
    require_admin(principal)
    if not principal.user_id:
        raise Invalid("only a person can receive a test email", {"to": "an API key has no email address"})
    me = users.get_user(principal, principal.user_id)
    organization = get_organization(principal.organization_id)
    if not organization.settings.sender_email:
        raise Invalid("the organization has no sender address", {"senderEmail": "set one in the settings"})
    sender_name = organization.settings.sender_name or organization.name
    shown = preview_draft(principal, draft, customer_id, sender_name)
    envelope = ses.Envelope(
        sender_name=sender_name,
        sender_email=organization.settings.sender_email,
        to=[me.email],
        cc=[],
        reply_to=me.email,
        message_id=f"<{new_id('test')}@{get_settings().reply_domain}>",  # no action in it: replies route nowhere
        tags={"organization": organization.id, "kind": "test"},  # no action tag: its SES events change nothing
    )
    ses.send(envelope, RenderedEmail(subject=f"[Test] {shown.subject}", text=shown.text, html=shown.html))
    return me.email


class Variable(RelanceModel):
    """A variable a template may use: as typed, what a click inserts, a sample value."""

    name: str
    insert: str
    example: str
    loop: str | None = None  # the loop it lives in (``invoices``), for the fields of one item


def variables() -> list[Variable]:
    """Every variable of ``email_context``, read off the builder itself with sample values, so the
    editor's list cannot drift from what templates receive."""
    sample = email_context(
        organization={"name": "Demo Trading"},
        customer=CustomerRecord(id="cus_sample", name="Acme Ltd", external_id="ERP-1001"),
        contact=Contact(
            id="con_sample",
            customer_id="cus_sample",
            email="ada@acme.example",
            first_name="Ada",
            last_name="Lovelace",
            phone=None,
            job_title=None,
            position_id=None,
            is_main=True,
            invalid=False,
            invalid_since=None,
            created_at=datetime(2026, 1, 5, tzinfo=UTC),
        ),
        invoices=[
            {"number": "INV-1042", "issuedAt": "2026-01-05", "dueAt": "2026-02-04", "amount": 120000, "currency": "EUR"}
        ],
        portal_link="https://portal.example/…",
        sender_name="Accounts receivable",
        language="en",
        today=date(2026, 2, 14),
    )
    return list(_variables(sample, "", None))


def _variables(values: dict[str, Any], prefix: str, loop: str | None) -> Iterator[Variable]:
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _variables(value, f"{name}.", loop)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            item = key.removesuffix("s")
            yield Variable(
                name=name,
                insert=f"{{% for {item} in {name} %}}\n{{% endfor %}}",
                example="a loop: one pass per open invoice",
            )
            yield from _variables(value[0], f"{item}.", name)
        elif isinstance(value, list):
            joined = ", ".join(str(v) for v in value)
            yield Variable(name=name, insert=f'{{{{ {name}|join(", ") }}}}', example=joined, loop=loop)
        else:
            yield Variable(
                name=name, insert=f"{{{{ {name} }}}}", example="" if value is None else str(value), loop=loop
            )
