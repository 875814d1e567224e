"""Lists of actions, actions out of the blue, and the forecast of what dunning will do."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from relance import clock
from relance.concurrency import together
from relance.domain import planner
from relance.domain.actions import Action, ActionStatus
from relance.domain.base import OneLine, RelanceModel
from relance.domain.customers import Contact, CustomerRecord
from relance.domain.organizations import Principal
from relance.domain.planner import OpenInvoice
from relance.domain.send_window import SendWindow
from relance.domain.timeline import EntryKind
from relance.domain.workflows import ActionType, Step, Workflow
from relance.errors import Invalid, SenderNotVerified
from relance.ids import new_id
from relance.services import dunning, senders, timeline
from relance.services.access import can_see, person_can_see
from relance.services.authorship import author_of
from relance.services.contacts import to_contact
from relance.services.customers import check_can_see_customer, customer_record_of
from relance.services.nudges import nudge
from relance.services.organizations import get_organization
from relance.services.pagination import paginate
from relance.services.workflows import list_workflows
from relance.storage import actions as action_store
from relance.storage import contacts as contact_store
from relance.storage import customers as customer_store
from relance.storage import ledger as ledger_store
from relance.storage import users as user_store


class ActionFilter(RelanceModel):
    status: str | None = None
    type: ActionType | None = None
    owner: str | None = Field(default=None, description="an account manager's user id")
    since: date | None = None
    until: date | None = None


def list_actions(
    principal: Principal, filters: ActionFilter, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Actions of the customers the principal may see, newest scheduled first."""
    rows, _ = matching_actions(principal, filters)
    return paginate(rows, lambda a: (a["scheduledAt"], a["id"]), limit=limit, cursor=cursor, descending=True)


def customer_actions(principal: Principal, customer_id: str) -> list[dict[str, Any]]:
    """A customer's actions (404 unless the principal sees the customer), newest scheduled first, with links."""
    check_can_see_customer(principal, customer_id)
    items = action_store.actions_of(principal.organization_id, customer_id)
    return [timeline.with_links(a) for a in sorted(items, key=lambda a: a["scheduledAt"], reverse=True)]


def matching_actions(
    principal: Principal, filters: ActionFilter
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Every action that passes the filters of the customers the principal may see (with the customer's
    name), and those customers (the list projection, by id): the two Queries made together."""
    org_id = principal.organization_id
    customer_items, action_items = together(
        lambda: customer_store.list_customers(org_id), lambda: action_store.actions_of_organization(org_id)
    )
    customers = {c["id"]: c for c in customer_items if can_see(principal, c)}
    rows = []
    for action in action_items:
        customer = customers.get(action["customerId"])
        if customer is None:
            continue
        day = datetime.fromisoformat(action["scheduledAt"]).date()
        owner_ok = filters.owner is None or filters.owner in (
            [action["owner"]] if action.get("owner") else customer.get("accountManagerIds", [])
        )
        if (
            (filters.status is None or action["status"] == filters.status)
            and (filters.type is None or action["type"] == filters.type)
            and owner_ok
            and (filters.since is None or day >= filters.since)
            and (filters.until is None or day <= filters.until)
        ):
            rows.append({**action, "customerName": customer["name"]})
    return rows, customers


class ManualType(StrEnum):
    EMAIL = "email"
    TASK = "task"
    CALL = "call"


class ManualAction(RelanceModel):
    """An action out of the blue: an email now (it counts as a contact), or a task or call to do."""

    customer_id: str
    type: ManualType
    template_id: str | None = None
    note: Annotated[str, StringConstraints(max_length=5000)] | None = None
    owner: str | None = Field(
        default=None,
        description="who does a task or call: a user who sees the customer (default: the caller); "
        "an email's owner is who sends it",
    )
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), OneLine] | None = (
        Field(default=None, description="an email written for this customer (with text, instead of a template)")
    )
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)] | None = Field(
        default=None, description="its text: a template's variables render in it, e.g. {{ customer.name }}"
    )

    @model_validator(mode="after")
    def _template_or_written(self) -> ManualAction:
        if (self.subject is None) != (self.text is None):
            raise PydanticCustomError("written", "a written email needs its subject and its text")
        if self.subject is not None and (self.type != ManualType.EMAIL or self.template_id):
            raise PydanticCustomError("written", "a written email is an email without a template")
        return self


def _draft(fields: ManualAction) -> dict[str, str] | None:
    """The email written for the customer, if it is one (else its template speaks)."""
    return {"subject": fields.subject, "text": fields.text} if fields.subject and fields.text else None


def create_manual(principal: Principal, fields: ManualAction) -> dict[str, Any]:
    """A manual email is checked before anything is written: something to remind of, and a sender
    SES sends from (else a 422 naming ``senderEmail``); a task or call is opened at once."""
    org_id = principal.organization_id
    customer = customer_record_of(principal, fields.customer_id, consistent=True)
    now = clock.now()
    _check_owner(org_id, customer, fields)
    invoices = [i.id for i in dunning.open_invoices(org_id, customer.id) if i.outstanding > 0 and not i.excluded]
    if fields.type == ManualType.EMAIL:
        if not invoices:
            raise Invalid("nothing to remind this customer of", {"customerId": "no open invoice"})
        dunning.check_manual_email(org_id, customer, fields.template_id, invoices, _draft(fields))  # 422 naming it
        senders.require_verified(get_organization(org_id))
    action = Action(
        id=new_id("act"),
        customer_id=customer.id,
        workflow_id=customer.dunning_plan_id,
        workflow_version=0,
        step_id=f"manual-{fields.type.value}",
        type=fields.type.value,
        status=ActionStatus.PLANNED,
        scheduled_at=now.isoformat(),
        invoice_ids=invoices,
        cycle=-1,
        created_at=now.isoformat(),
        **(author_of(principal) if fields.type == ManualType.EMAIL else {"owner": fields.owner or principal.user_id}),
        note=fields.note,
        manual=True,
        **({"draft": draft} if (draft := _draft(fields)) else {}),
    )
    action_store.create_if_absent(org_id, action.stored())
    if fields.type == ManualType.EMAIL:
        step = Step(id=action.step_id, offset_days=0, action=ActionType.EMAIL, template_id=fields.template_id)
        try:
            outcome = dunning.send_manual_email(org_id, customer, step, action, now)
        except SenderNotVerified as refused:  # SES refused it after the check: nothing went, say why
            action_store.move(org_id, action.id, ActionStatus.SENDING, ActionStatus.FAILED, {"reason": refused.message})
            raise
        nudge(org_id, customer.id)  # the next reminder moves to honour the minimum delay
        return {**action_store.get_action(org_id, action.id), **outcome}  # type: ignore[dict-item]
    action_store.move(org_id, action.id, ActionStatus.PLANNED, ActionStatus.OPEN, {"performedAt": now.isoformat()})
    timeline.record(
        org_id,
        customer.id,
        invoices,
        EntryKind.ACTION,
        now.isoformat(),
        action.id,
        {"type": fields.type.value, "status": ActionStatus.OPEN, "owner": action.owner, "note": fields.note},
    )
    return {**action.stored(), "status": ActionStatus.OPEN}


def _check_owner(org_id: str, customer: CustomerRecord, fields: ManualAction) -> None:
    """A task or call goes to a person who sees its customer; an email's owner is its sender (422 on ``owner``)."""
    if fields.owner is None:
        return
    if fields.type == ManualType.EMAIL:
        raise Invalid("an email's owner is who sends it", {"owner": "only a task or a call is assigned"})
    user = user_store.get_user(org_id, fields.owner)
    if user is None:
        raise Invalid("unknown owner", {"owner": f"no such user: {fields.owner}"})
    if not person_can_see(user, customer):
        raise Invalid("the owner cannot see this customer", {"owner": "cannot see this customer"})


class ForecastEntry(RelanceModel):
    customer_id: str
    customer_name: str
    step_id: str
    type: ActionType
    at: AwareDatetime
    invoice_ids: list[str]
    to: list[str]
    cc: list[str]


def forecast(principal: Principal, days: int) -> list[ForecastEntry]:
    """Every action dunning would take in the next ``days`` days, from the same planner, for the customers
    under a workflow the principal may see: their items, invoices and contacts read in three Queries made
    together, not one read per customer."""
    if not 1 <= days <= 90:
        raise Invalid("days out of range", {"days": "from 1 to 90"})
    org_id = principal.organization_id
    organization = get_organization(org_id)
    workflows = {w.id: w for w in list_workflows(principal)}
    customer_items, invoice_items, contact_items = together(
        lambda: customer_store.customers_of_organization(org_id),
        lambda: ledger_store.invoices_of_organization(org_id),
        lambda: contact_store.contacts_by_customer(org_id),
    )
    invoices: dict[str, list[dict[str, Any]]] = {}
    for invoice in invoice_items:
        invoices.setdefault(invoice["customerId"], []).append(invoice)
    now = clock.now()
    entries = []
    for customer in (CustomerRecord.model_validate(item) for item in customer_items):
        workflow = workflows.get(customer.dunning_plan_id or "")
        if workflow is None or not can_see(principal, customer):
            continue
        entries += plan_ahead(
            customer,
            workflow,
            dunning.open_invoices_among(invoices.get(customer.id, []), now.date()),
            dunning.window_of(organization, customer),
            now,
            now + timedelta(days=days),
            [to_contact(c, customer.main_contact_id) for c in contact_items.get(customer.id, [])],
        )
    return sorted(entries, key=lambda e: (e.at, e.customer_id))


def plan_ahead(
    customer: CustomerRecord,
    workflow: Workflow,
    invoices: list[OpenInvoice],
    window: SendWindow,
    now: datetime,
    horizon: datetime,
    contacts: list[Contact],
) -> list[ForecastEntry]:
    """What dunning would do for one customer until ``horizon`` (``planner.plan_ahead``), and to whom."""
    entries = []
    for action in planner.plan_ahead(workflow, invoices, dunning.state_of(customer), window, now, horizon):
        to, cc = dunning.recipients_among(contacts, action.step)
        entries.append(
            ForecastEntry(
                customer_id=customer.id,
                customer_name=customer.name,
                step_id=action.step.id,
                type=action.step.action,
                at=action.at,
                invoice_ids=list(action.invoice_ids),
                to=to,
                cc=cc,
            )
        )
    return entries


def not_delivered(principal: Principal) -> list[dict[str, Any]]:
    """Every email that bounced or drew a complaint, with its recipients, to handle them all at once."""
    org_id = principal.organization_id
    customers = {c["id"]: c for c in customer_store.list_customers(org_id) if can_see(principal, c)}
    rows = []
    for action in action_store.actions_of_organization(org_id):
        if action.get("deliveryStatus") not in ("bounced", "complained") or action["customerId"] not in customers:
            continue
        failed = {e: s for e, s in action.get("recipientStatus", {}).items() if s in ("bounced", "complained")}
        rows.append(
            {
                "actionId": action["id"],
                "customerId": action["customerId"],
                "customerName": customers[action["customerId"]]["name"],
                "sentAt": action.get("performedAt"),
                "subject": action.get("subject"),
                "status": action["deliveryStatus"],
                "recipients": failed,
            }
        )
    return sorted(rows, key=lambda r: r["sentAt"] or "", reverse=True)
