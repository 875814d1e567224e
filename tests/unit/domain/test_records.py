"""The stored records services read and write through models: an action and a timeline entry are stored
with the same attributes as the dicts they replace, and read back whole."""

import pytest
from pydantic import ValidationError

from relance.domain.actions import Action, ActionStatus
from relance.domain.timeline import EntryKind, TimelineEntry
from relance.domain.workflows import ActionType

PLANNED = {
    "id": "act_1",
    "customerId": "cus_1",
    "workflowId": "wf_1",
    "workflowVersion": 3,
    "stepId": "overdue-1",
    "type": "email",
    "status": "planned",
    "scheduledAt": "2026-03-02T09:00:00+01:00",
    "invoiceIds": ["inv_1", "inv_2"],
    "carryingInvoiceId": None,
    "cycle": 0,
    "createdAt": "2026-03-01T10:00:00+00:00",
}


def test_action_statuses_are_the_stored_strings():
    assert {s.value for s in ActionStatus} == {
        "planned",
        "sending",
        "sent",
        "to_post",
        "open",
        "done",
        "skipped",
        "postponed",
        "replanned",
        "failed",
    }
    assert ActionStatus.SENT == "sent" and f"{ActionStatus.TO_POST}" == "to_post"


def test_an_action_is_final_unless_planned_being_sent_or_open_for_a_person():
    final = {s for s in ActionStatus if s.is_final}
    assert final == {"sent", "skipped", "done", "failed", "postponed", "replanned", "to_post"}


def test_an_action_built_is_stored_with_the_attributes_it_was_given_and_no_others():
    action = Action(
        id="act_1",
        customer_id="cus_1",
        workflow_id="wf_1",
        workflow_version=3,
        step_id="overdue-1",
        type=ActionType.EMAIL,
        status=ActionStatus.PLANNED,
        scheduled_at="2026-03-02T09:00:00+01:00",
        invoice_ids=["inv_1", "inv_2"],
        carrying_invoice_id=None,  # given, though None: stored (as before, a null attribute)
        cycle=0,
        created_at="2026-03-01T10:00:00+00:00",
    )

    assert action.stored() == PLANNED
    assert all(type(v) is not ActionStatus and type(v) is not ActionType for v in action.stored().values())


def test_an_action_changed_by_copy_stores_the_changes_too():
    skipped = Action.model_validate(PLANNED).model_copy(
        update={"status": ActionStatus.SKIPPED, "reason": "superseded", "performed_at": "2026-03-02T09:00:00+00:00"}
    )

    assert skipped.stored() == {
        **PLANNED,
        "status": "skipped",
        "reason": "superseded",
        "performedAt": "2026-03-02T09:00:00+00:00",
    }


def test_an_action_read_from_storage_leaves_out_what_it_does_not_name():
    item = {**PLANNED, "status": "sent", "deliveryStatusRank": 2, "recipientStatus": {"a@b.example": "delivered"}}

    action = Action.model_validate(item)

    assert action.status is ActionStatus.SENT and action.type is ActionType.EMAIL
    assert action.stored() == {**PLANNED, "status": "sent"}
    assert (action.manual, action.to, action.subject) == (False, [], None)


def test_an_unknown_status_is_refused():
    with pytest.raises(ValidationError):
        Action.model_validate({**PLANNED, "status": "lost"})


def test_a_timeline_entry_is_stored_as_its_attributes_then_its_data():
    entry = TimelineEntry(
        id="act_1",
        kind=EntryKind.ACTION,
        at="2026-03-02T09:00:00+00:00",
        customer_id="cus_1",
        invoice_ids=["inv_1"],
        data={"type": "email", "status": ActionStatus.SENT, "to": ["ap@example.com"]},
    )

    assert entry.stored() == {
        "id": "act_1",
        "kind": "action",
        "at": "2026-03-02T09:00:00+00:00",
        "customerId": "cus_1",
        "invoiceIds": ["inv_1"],
        "type": "email",
        "status": "sent",
        "to": ["ap@example.com"],
    }
    assert TimelineEntry.model_validate(entry.stored()) == entry  # read back whole: its data beside


def test_a_timeline_entry_of_an_unknown_kind_is_refused():
    with pytest.raises(ValidationError):
        TimelineEntry(id="e", kind="gossip", at="2026-03-02T09:00:00+00:00", customer_id="cus_1", invoice_ids=[])
