"""Workflows created, checked, versioned and deleted (services.workflows on the table)."""

from __future__ import annotations

import pytest

from relance.domain.customers import CustomerFields
from relance.domain.workflows import ActionType, Step, WorkflowFields
from relance.errors import Conflict, Forbidden, Invalid, NotFound
from relance.services import workflows
from relance.services.customers import create_customer
from relance.storage import contacts as contact_store
from relance.storage import workflows as store

GENTLE = WorkflowFields(
    name="Gentle",
    steps=[
        Step(id="before", offset_days=-3, action=ActionType.EMAIL),
        Step(id="after", offset_days=7, action=ActionType.EMAIL, template_id="default.overdue"),
    ],
)


def _position(organization, name: str) -> str:
    return next(p["id"] for p in contact_store.positions(organization.id) if p["name"] == name)


def test_a_created_workflow_is_stored_at_its_first_version(organization, admin):
    created = workflows.create_workflow(admin, GENTLE)

    assert (created.name, created.version, [s.id for s in created.steps]) == ("Gentle", 0, ["before", "after"])
    assert workflows.get_workflow(organization.id, created.id) == created
    assert created.id in {w.id for w in workflows.list_workflows(admin)}


def test_an_account_manager_creates_no_workflow(organization, manager):
    shipped = store.list_workflows(organization.id)

    with pytest.raises(Forbidden):
        workflows.create_workflow(manager, GENTLE)

    assert store.list_workflows(organization.id) == shipped


def test_a_step_addressed_to_an_unknown_position_is_refused_naming_it(organization, admin):
    purchaser = _position(organization, "Purchaser")
    steps = [Step(id="one", offset_days=1, action=ActionType.EMAIL, to=[purchaser], cc=["pos_unknown"])]
    shipped = store.list_workflows(organization.id)

    with pytest.raises(Invalid) as refused:
        workflows.create_workflow(admin, GENTLE.model_copy(update={"steps": steps}))

    assert refused.value.fields == {"steps[0].cc": "unknown position"}
    assert store.list_workflows(organization.id) == shipped


def test_a_step_naming_a_template_that_does_not_exist_is_refused_naming_it(admin):
    steps = [*GENTLE.steps, Step(id="last", offset_days=30, action=ActionType.EMAIL, template_id="tpl_missing")]

    with pytest.raises(Invalid) as refused:
        workflows.create_workflow(admin, GENTLE.model_copy(update={"steps": steps}))

    assert refused.value.fields == {"steps[2].templateId": "no such template"}


def test_a_replaced_workflow_is_its_next_version(organization, admin):
    created = workflows.create_workflow(admin, GENTLE)

    replaced = workflows.replace_workflow(admin, created.id, GENTLE.model_copy(update={"name": "Firm"}))

    assert (replaced.id, replaced.name, replaced.version) == (created.id, "Firm", 1)
    assert workflows.get_workflow(organization.id, created.id) == replaced
    with pytest.raises(NotFound):
        workflows.replace_workflow(admin, "wf_missing", GENTLE)


def test_a_workflow_customers_follow_is_kept_naming_them(organization, admin):
    created = workflows.create_workflow(admin, GENTLE)
    create_customer(admin, CustomerFields(name="Zeta Supplies", dunning_plan_id=created.id))
    create_customer(admin, CustomerFields(name="acme trading", dunning_plan_id=created.id))

    with pytest.raises(Conflict) as refused:
        workflows.delete_workflow(admin, created.id)

    assert refused.value.fields == {"customers": "acme trading, Zeta Supplies"}
    assert workflows.get_workflow(organization.id, created.id) == created


def test_a_workflow_nobody_follows_is_deleted(organization, admin):
    created = workflows.create_workflow(admin, GENTLE)

    workflows.delete_workflow(admin, created.id)

    assert store.get_workflow(organization.id, created.id) is None
    with pytest.raises(NotFound):
        workflows.delete_workflow(admin, created.id)
