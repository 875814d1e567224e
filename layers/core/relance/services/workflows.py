"""Workflows (dunning plans) of an organization."""

from __future__ import annotations

from typing import Any

from relance import clock
from relance.domain.organizations import Principal
from relance.domain.workflows import Workflow, WorkflowFields, default_workflows
from relance.errors import Conflict, Invalid, NotFound
from relance.ids import new_id
from relance.services.access import require_admin
from relance.services.nudges import nudge
from relance.storage import contacts as contact_store
from relance.storage import customers as customer_store
from relance.storage import keys
from relance.storage.records import delete, get, under_prefix
from relance.storage.table import table


def workflow_item(org_id: str, workflow: Workflow) -> dict[str, Any]:
    key = keys.workflow(org_id, workflow.id)
    return {**key, **keys.in_directory(org_id, key), **workflow.model_dump(mode="json", by_alias=True)}


def default_workflow_items(org_id: str, positions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The shipped workflows, written with a new organization (CC the Purchaser position)."""
    purchaser = next((p["id"] for p in positions if p["name"] == "Purchaser"), None)
    now = clock.now()
    return [
        workflow_item(org_id, Workflow(id=new_id("wf"), updated_at=now, **fields.model_dump()))
        for fields in default_workflows(purchaser)
    ]


def list_workflows(principal: Principal) -> list[Workflow]:
    """Query ``ORG#<org>``, SK begins with ``WF#``."""
    return [Workflow.model_validate(i) for i in under_prefix(keys.workflows_prefix(principal.organization_id))]


def get_workflow(org_id: str, workflow_id: str) -> Workflow | None:
    item = get(keys.workflow(org_id, workflow_id), consistent=True)
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
    table().put_item(Item=workflow_item(principal.organization_id, workflow))
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
    table().put_item(Item=workflow_item(principal.organization_id, after))
    for customer in customer_store.list_customers(principal.organization_id):
        if customer.get("dunningPlanId") == workflow_id:
            nudge(principal.organization_id, customer["id"])
    return after


def delete_workflow(principal: Principal, workflow_id: str) -> None:
    """Delete a workflow no customer follows."""
    require_admin(principal)
    if get_workflow(principal.organization_id, workflow_id) is None:
        raise NotFound("workflow not found")
    if any(c.get("dunningPlanId") == workflow_id for c in customer_store.list_customers(principal.organization_id)):
        raise Conflict("customers follow this workflow: move them to another one first")
    delete(keys.workflow(principal.organization_id, workflow_id))
