"""Email templates saved, checked, previewed and deleted (services.templates on the table)."""

from __future__ import annotations

import pytest

from relance.domain.workflows import ActionType, Step, Tone, WorkflowFields
from relance.errors import Conflict, Forbidden, Invalid, NotFound
from relance.services import templates, workflows
from relance.services.templates import TemplateFields
from relance.storage import templates as store

REMINDER = TemplateFields(
    name="Friendly reminder",
    language="en",
    tone=Tone.INFORMAL,
    subject="Hello {{ customer.name }}",
    text="Pay here: {{ portal_link }}",
    html="<p>Pay <a href='{{ portal_link }}'>here</a></p>",
)


def test_a_saved_template_is_stored_and_listed_after_the_shipped_ones(organization, admin):
    saved = templates.save_template(admin, REMINDER)

    assert (saved.name, saved.shipped) == ("Friendly reminder", False)
    assert store.get_template(organization.id, saved.id) is not None
    listed = templates.list_templates(admin)
    assert [t.id for t in listed] == ["default.before_due", "default.overdue", "default.final_notice", saved.id]
    assert templates.exists(organization.id, saved.id) and templates.exists(organization.id, "default.overdue")
    assert not templates.exists(organization.id, "default.nagging")


def test_a_template_that_does_not_compile_is_refused_naming_the_field(organization, admin):
    with pytest.raises(Invalid) as refused:
        templates.save_template(admin, REMINDER.model_copy(update={"text": "Pay {{ portal_link"}))

    assert list(refused.value.fields) == ["text"]
    assert store.list_templates(organization.id) == []


def test_an_account_manager_saves_no_template(organization, manager):
    with pytest.raises(Forbidden):
        templates.save_template(manager, REMINDER)

    assert store.list_templates(organization.id) == []


def test_saving_over_a_template_replaces_it_and_over_a_missing_one_is_not_found(organization, admin):
    saved = templates.save_template(admin, REMINDER)

    replaced = templates.save_template(admin, REMINDER.model_copy(update={"subject": "Hi"}), saved.id)

    assert templates.get_template(organization.id, saved.id) == replaced
    with pytest.raises(NotFound):
        templates.save_template(admin, REMINDER, "tpl_missing")


def test_a_template_a_workflow_uses_is_kept_naming_the_workflow(organization, admin):
    saved = templates.save_template(admin, REMINDER)
    steps = [Step(id="one", offset_days=5, action=ActionType.EMAIL, template_id=saved.id)]
    workflows.create_workflow(admin, WorkflowFields(name="Friendly", steps=steps))

    with pytest.raises(Conflict) as refused:
        templates.delete_template(admin, saved.id)

    assert refused.value.fields == {"workflows": "Friendly"}
    assert store.get_template(organization.id, saved.id) is not None


def test_a_template_no_workflow_uses_is_deleted(organization, admin):
    saved = templates.save_template(admin, REMINDER)

    templates.delete_template(admin, saved.id)

    assert store.get_template(organization.id, saved.id) is None


def test_a_preview_renders_for_the_customer_with_a_stand_in_portal_link(admin, customer):
    saved = templates.save_template(admin, REMINDER)

    shown = templates.preview(admin, saved.id, customer.id, None)

    assert shown.subject == "Hello Acme Trading"
    assert shown.text == f"Pay here: {templates.PREVIEW_PORTAL_LINK}"
    assert templates.PREVIEW_PORTAL_LINK in shown.html
