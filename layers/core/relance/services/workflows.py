"""Workflows (dunning plans) of an organization."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from relance import clock
from relance.domain.organizations import Organization, Principal
from relance.domain.planner import CustomerState, OpenInvoice, PlanKind, plan_next, step_day
from relance.domain.workflows import Step, Workflow, WorkflowFields, default_workflows
from relance.errors import Conflict, Invalid, NotFound
from relance.ids import new_id
from relance.services.access import require_admin
from relance.services.nudges import nudge
from relance.storage import contacts as contact_store
from relance.storage import customers as customer_store
from relance.storage import workflows as store


def workflow_item(org_id: str, workflow: Workflow) -> dict[str, Any]:
    return store.workflow_item(org_id, workflow.model_dump(mode="json", by_alias=True))


def default_workflow_items(org_id: str, positions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The shipped workflows, written with a new organization (CC the Purchaser position)."""
    purchaser = next((p["id"] for p in positions if p["name"] == "Purchaser"), None)
    now = clock.now()
    return [
        workflow_item(org_id, Workflow(id=new_id("wf"), updated_at=now, **fields.model_dump()))
        for fields in default_workflows(purchaser)
    ]


def list_workflows(principal: Principal) -> list[Workflow]:
    """The organization's workflows."""
    return [Workflow.model_validate(i) for i in store.list_workflows(principal.organization_id)]


def get_workflow(org_id: str, workflow_id: str) -> Workflow | None:
    item = store.get_workflow(org_id, workflow_id)
    return Workflow.model_validate(item) if item else None


def _check_positions(principal: Principal, fields: WorkflowFields) -> None:
    known = {p["id"] for p in contact_store.positions(principal.organization_id)}
    problems = {
        f"steps[{index}].{name}": "unknown position"
        for index, step in enumerate(fields.steps)
        for name in ("to", "cc")
        if any(p not in known for p in getattr(step, name))
    }
    if problems:
        raise Invalid("unknown positions in the steps", problems)


def _check_templates(principal: Principal, fields: WorkflowFields) -> None:
    from relance.services import templates  # templates reads customers, whose module reads workflows

    problems = {
        f"steps[{index}].templateId": "no such template"
        for index, step in enumerate(fields.steps)
        if step.template_id is not None and not templates.exists(principal.organization_id, step.template_id)
    }
    if problems:
        raise Invalid("unknown templates in the steps", problems)


def create_workflow(principal: Principal, fields: WorkflowFields) -> Workflow:
    require_admin(principal)
    _check_positions(principal, fields)
    _check_templates(principal, fields)
    workflow = Workflow(id=new_id("wf"), updated_at=clock.now(), **fields.model_dump())
    store.put_workflow(principal.organization_id, workflow.model_dump(mode="json", by_alias=True))
    return workflow


def replace_workflow(principal: Principal, workflow_id: str, fields: WorkflowFields) -> Workflow:
    """A new version of the workflow: executions re-plan with it at their next step."""
    require_admin(principal)
    before = get_workflow(principal.organization_id, workflow_id)
    if before is None:
        raise NotFound("workflow not found")
    _check_positions(principal, fields)
    _check_templates(principal, fields)
    after = Workflow(id=workflow_id, version=before.version + 1, updated_at=clock.now(), **fields.model_dump())
    store.put_workflow(principal.organization_id, after.model_dump(mode="json", by_alias=True))
    for customer in customer_store.list_customers(principal.organization_id):
        if customer.get("dunningPlanId") == workflow_id:
            nudge(principal.organization_id, customer["id"])
    return after


def delete_workflow(principal: Principal, workflow_id: str) -> None:
    """Delete a workflow no customer follows."""
    require_admin(principal)
    if get_workflow(principal.organization_id, workflow_id) is None:
        raise NotFound("workflow not found")
    following = sorted(
        (
            c["name"]
            for c in customer_store.list_customers(principal.organization_id)
            if c.get("dunningPlanId") == workflow_id
        ),
        key=str.lower,
    )
    if following:
        named = ", ".join(following[:NAMED]) + (f" and {len(following) - NAMED} more" if len(following) > NAMED else "")
        raise Conflict(
            f"customers follow this workflow: {named}; move them to another workflow first", {"customers": named}
        )
    store.delete_workflow(principal.organization_id, workflow_id)


NAMED = 20  # customers a refused deletion names (then "and N more")
PREVIEW_TERMS_DAYS = 30  # the preview's invoice was issued this long before its due date


@dataclass(frozen=True)
class PreviewEntry:
    """One step of the preview: when it goes (local time), or why it does not."""

    number: int  # the step's place in the workflow, from 1
    step: Step
    at: datetime | None
    note: str = ""


@dataclass(frozen=True)
class Preview:
    issued: date
    due: date
    timezone: str
    entries: list[PreviewEntry]


def preview(organization: Organization, fields: WorkflowFields) -> Preview:
    """When each step would go for an invoice due today (issued 30 days before), in the organization's
    send window, from the dunning planner itself; a task or call is taken as done the day it falls."""
    from relance.services.dunning import window_of  # dunning reads workflows

    window = window_of(organization)
    due = clock.now().astimezone(window.timezone).date()
    invoice = OpenInvoice("preview", "PREVIEW", "USD", 1, due - timedelta(days=PREVIEW_TERMS_DAYS), due)
    workflow = Workflow(id="preview", **fields.model_dump())
    number = {s.id: n for n, s in enumerate(workflow.steps, start=1)}
    found: dict[str, PreviewEntry] = {}
    state = CustomerState()
    moment = datetime.combine(invoice.issued_at, time.min, window.timezone)
    for _ in range(len(workflow.steps)):
        plan = plan_next(workflow, [invoice], state, window, moment)
        if plan.kind != PlanKind.ACT or plan.step is None or plan.at is None:
            break
        step, at = plan.step, plan.at.astimezone(window.timezone)
        for skipped in plan.superseded:
            found[skipped] = PreviewEntry(
                number[skipped],
                workflow.steps[number[skipped] - 1],
                None,
                f"skipped: step {number[step.id]} goes at the same time",
            )
        base = window.on_or_after(step_day(step, invoice))
        note = ""
        if at > window.first_at_or_after(moment) and at > base:
            note = "later: the minimum delay between contacts"
        elif at > base:
            note = "not before the invoice is issued" if not state.performed else "right after the step before"
        elif at.date() != step_day(step, invoice):
            note = "moved to the next send day"
        if step.action.is_manual:
            note = "; ".join(filter(None, [note, "holds the later steps until done (taken as done that day)"]))
        found[step.id] = PreviewEntry(number[step.id], step, at, note)
        contact = plan.at if step.action.reaches_customer else state.last_contact_at
        state = CustomerState(performed=(*state.performed, *plan.superseded, step.id), last_contact_at=contact)
        moment = plan.at
    entries = sorted(found.values(), key=lambda e: (step_day(e.step, invoice), e.number))  # the planner's order
    return Preview(invoice.issued_at, due, str(window.timezone), entries)
