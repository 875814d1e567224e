"""Carrying out workflows: what the state machine's Plan and Act do, and what restarts it.

One execution per customer (``customer.execution`` names the current one; any other
execution ends at its next step). Plan stores the next action as ``planned``; Act claims it
(``planned`` → ``sending``) before sending, and marks it ``sent`` right after, so a retried
or duplicated Act never sends a second email. An Act interrupted between claim and mark is
recorded as failed, never resent blindly: "never twice" wins over "at least once".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from relance import clock, dunning_runs, sms
from relance.domain import tokens
from relance.domain.actions import Action, ActionStatus
from relance.domain.customers import Contact, CustomerRecord, NextAction
from relance.domain.ledger import InvoiceStatus
from relance.domain.organizations import Organization, Principal
from relance.domain.planner import (
    AUTOMATIC_ACTIONS_OFF,
    CustomerState,
    Decision,
    OpenInvoice,
    Plan,
    PlanKind,
    Verdict,
    decide_at_send,
    plan_next,
)
from relance.domain.portal import under_promise
from relance.domain.send_window import SendWindow
from relance.domain.timeline import EntryKind
from relance.domain.workflows import ActionType, Step, Workflow, default_template
from relance.dunning_runs import unavailable_as_retryable
from relance.errors import Conflict, Invalid, NotFound
from relance.ids import stable_id
from relance.mail import letters, ses
from relance.mail.rendering import RenderedEmail
from relance.observability import logger
from relance.services import notifications, organizations, portal_links, templates, timeline, workflows
from relance.services.access import person_can_see
from relance.services.contacts import to_contact
from relance.services.customers import customer_record_of
from relance.services.nudges import nudge
from relance.services.portal_links import PortalLink
from relance.storage import actions as action_store
from relance.storage import contacts as contact_store
from relance.storage import customers as customer_store
from relance.storage import files
from relance.storage import ledger as ledger_store
from relance.storage import records as record_store
from relance.storage import users as user_store
from relance.storage import workflows as workflow_store
from relance.storage.table import TransactionCancelled, transact

TRANSACTION_ITEMS = 100  # DynamoDB's most per TransactWriteItems

Answer = dict[str, str]
"""What Plan and Act answer the state machine (``next``, ``outcome``…): data it chooses by."""


# ---------------------------------------------------------------- one invocation's reads


@dataclass
class _Reads:
    """What one Plan or Act invocation has read, each read once: the organization and the workflow (one
    BatchGetItem), the customer's contacts and invoices (one Query), and, after a reminder went out, the
    customer as Act left it, which the Plan that follows in the same invocation starts from."""

    organization: Organization | None = None
    workflows: dict[str, Workflow | None] = field(default_factory=dict)
    records: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    customer_after_act: CustomerRecord | None = None


_reads: ContextVar[_Reads | None] = ContextVar("dunning_reads", default=None)


@contextmanager
def _one_invocation() -> Iterator[_Reads]:
    """Reads made within are kept until it ends (an outer one's are kept: they nest)."""
    reads = _reads.get() or _Reads()
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)


def _prefetch(org_id: str, workflow_id: str | None) -> None:
    """Read the organization and the workflow together, unless this invocation has both already."""
    reads = _reads.get()
    if reads is None or not workflow_id:
        return
    has_organization = reads.organization is not None and reads.organization.id == org_id
    if has_organization and workflow_id in reads.workflows:
        return
    organization, workflow = workflow_store.with_organization(org_id, workflow_id)
    if organization is None:
        raise NotFound("organization not found")
    reads.organization = Organization.model_validate(organization)
    reads.workflows[workflow_id] = Workflow.model_validate(workflow) if workflow else None


def get_organization(org_id: str) -> Organization:
    reads = _reads.get()
    if reads is None:
        return organizations.get_organization(org_id)
    if reads.organization is None or reads.organization.id != org_id:
        reads.organization = organizations.get_organization(org_id)
    return reads.organization


def get_workflow(org_id: str, workflow_id: str) -> Workflow | None:
    reads = _reads.get()
    if reads is None:
        return workflows.get_workflow(org_id, workflow_id)
    if workflow_id not in reads.workflows:
        _prefetch(org_id, workflow_id)
    return reads.workflows[workflow_id]


def _customer_records(org_id: str, customer_id: str) -> dict[str, list[dict[str, Any]]] | None:
    """The customer's contacts (``CON``) and invoices (``INV``) in one Query, once per invocation; None
    outside one."""
    reads = _reads.get()
    if reads is None:
        return None
    if customer_id not in reads.records:
        # contacts and invoices, credit notes and the customer's own entry between them (left unread)
        reads.records[customer_id] = record_store.customer_kinds(org_id, customer_id, "CON", "INV")
    return reads.records[customer_id]


def _invoice_items(org_id: str, customer_id: str) -> list[dict[str, Any]]:
    """The customer's invoice items."""
    records = _customer_records(org_id, customer_id)
    return records.get("INV", []) if records is not None else ledger_store.records_of(org_id, customer_id, "invoice")


def _contact_items(org_id: str, customer_id: str) -> list[dict[str, Any]]:
    """The customer's contact items."""
    records = _customer_records(org_id, customer_id)
    return records.get("CON", []) if records is not None else contact_store.contacts_of(org_id, customer_id)


# ---------------------------------------------------------------- inputs of the planner


def window_of(org: Organization, customer: CustomerRecord | None = None) -> SendWindow:
    """The organization's send window, in the customer's time zone when it has one."""
    hour, minute = (int(p) for p in org.settings.send_time.split(":"))
    return SendWindow(
        timezone=ZoneInfo((customer and customer.timezone) or org.settings.timezone),
        send_time=time(hour, minute),
        business_days=frozenset(org.settings.business_days),
        holidays=frozenset(org.settings.holidays),
    )


def open_invoices(org_id: str, customer_id: str) -> list[OpenInvoice]:
    """The customer's open invoices; disputed ones, those promised for today or later and those
    with a portal payment on its way are there but excluded from reminders."""
    return open_invoices_among(_invoice_items(org_id, customer_id), clock.now().date())


def open_invoices_among(items: list[dict[str, Any]], today: date) -> list[OpenInvoice]:
    """The planner's open invoices out of a customer's invoice items (``open_invoices``)."""
    invoices = []
    for item in items:
        if item["status"] != InvoiceStatus.OPEN:
            continue
        outstanding = int(item["amount"]) - int(item.get("paidAmount", 0)) - int(item.get("creditedAmount", 0))
        excluded = bool(item.get("disputed") or under_promise(item, today) or item.get("paymentInFlight"))
        invoices.append(
            OpenInvoice(
                item["id"],
                item["number"],
                item["currency"],
                outstanding,
                datetime.fromisoformat(item["issuedAt"]).date(),
                datetime.fromisoformat(item["dueAt"]).date(),
                excluded,
            )
        )
    return invoices


def state_of(customer: CustomerRecord) -> CustomerState:
    """The planner's view of the customer; while paused, steps already postponed are set aside."""
    last = customer.last_contact_at
    postponed = customer.postponed_steps if customer.collection_paused else []
    return CustomerState(
        performed=(*customer.performed_steps, *postponed),
        last_contact_at=datetime.fromisoformat(last) if last else None,
        paused=customer.collection_paused,
        manual_action_open=bool(customer.open_manual_action_id or customer.open_reply_task_id),
    )


def customer_record(org_id: str, customer_id: str) -> CustomerRecord | None:
    """The customer as stored now (strongly consistent: dunning decides on it), or None."""
    item = customer_store.get_customer(org_id, customer_id, consistent=True)
    return CustomerRecord.model_validate(item) if item is not None else None


def planned_action_id(customer_id: str, cycle: int, step_id: str, pause_round: int = 0) -> str:
    """The same step of the same cycle (and pause round) is always the same action: a retried Plan finds it."""
    return stable_id("act", customer_id, cycle, pause_round, step_id)


# ---------------------------------------------------------------- Plan


@unavailable_as_retryable
def plan(org_id: str, customer_id: str, execution: str) -> Answer:
    """Store the customer's next action and say how long to wait for it (``next``: ``wait``, with
    ``action`` and ``waitUntil``), or why there is none (``end``)."""
    with _one_invocation():
        return _plan(org_id, customer_id, execution)


@unavailable_as_retryable
def plan_and_start(org_id: str, customer_id: str, execution: str) -> Answer:
    """The Plan function, which a nudge invokes: plan, then start the execution ``execution`` at its Wait
    for the planned action. Nothing to wait for (nothing left to chase, no workflow, a newer nudge):
    no execution at all. The execution's Act plans each next action itself (``act_then_plan``)."""
    with _one_invocation():
        answer = _plan(org_id, customer_id, execution)
    if answer["next"] == "wait":
        dunning_runs.start(execution, org_id, customer_id, answer)
    return answer


def _customer_to_plan(org_id: str, customer_id: str) -> CustomerRecord | None:
    """The customer as the Act before this Plan left it (used once: a Plan that plans again reads anew),
    else as stored now."""
    reads = _reads.get()
    known = reads.customer_after_act if reads else None
    if reads is not None:
        reads.customer_after_act = None
    return known if known is not None and known.id == customer_id else customer_record(org_id, customer_id)


def _plan(org_id: str, customer_id: str, execution: str) -> Answer:
    customer = _customer_to_plan(org_id, customer_id)
    if customer is None or customer.execution != execution:
        return {"next": "end", "reason": "superseded"}
    _prefetch(org_id, customer.dunning_plan_id)
    workflow = get_workflow(org_id, customer.dunning_plan_id) if customer.dunning_plan_id else None
    if workflow is None:
        _replace_planned(org_id, customer, None)
        return {"next": "end", "reason": "no workflow"}
    org = get_organization(org_id)
    if not org.settings.automatic_actions:  # held where it stands: planned again when they are back on
        return {"next": "end", "reason": AUTOMATIC_ACTIONS_OFF}
    now = clock.now()
    invoices = open_invoices(org_id, customer_id)
    decided = plan_next(workflow, invoices, state_of(customer), window_of(org, customer), now)
    if decided.kind in (PlanKind.DONE, PlanKind.HOLD):
        _replace_planned(org_id, customer, None)
    if decided.kind == PlanKind.DONE:
        return _nothing_left(org_id, customer, invoices)
    if decided.kind == PlanKind.HOLD:
        return {"next": "end", "reason": "waiting for a task or call"}
    assert decided.step is not None and decided.at is not None
    if decided.kind == PlanKind.ACT:  # while paused, earlier steps are not skipped: they wait for resume
        for step_id in decided.superseded:
            _skip_step(org_id, customer, workflow, step_id, decided, "superseded by a later step", now)
    action = _planned_action(customer, workflow, decided, now)
    try:
        _store_plan(org_id, customer, action, execution)
    except TransactionCancelled as cancelled:
        if cancelled.reasons[1:2] == ["ConditionalCheckFailed"]:  # a nudge started another execution meanwhile
            return {"next": "end", "reason": "superseded"}
        # Already final (a fault struck between finishing the action and marking its step): the step is done.
        logger.warning("planned step already performed", action_id=action.id, step_id=decided.step.id)
        _performed(org_id, customer_id, decided.step.id, None)
        return _plan(org_id, customer_id, execution)
    return {"next": "wait", "action": action.id, "waitUntil": wait_timestamp(decided.at)}


def _nothing_left(org_id: str, customer: CustomerRecord, invoices: list[OpenInvoice]) -> Answer:
    """Nothing left to chase. All paid: the next invoice starts a new cycle. Invoices only set aside
    (disputed, promised, being paid) keep theirs: a broken promise resumes where the reminders stopped."""
    if not any(i.outstanding > 0 for i in invoices) and customer.performed_steps:
        customer_store.update_dunning(
            org_id, customer.id, {"performedSteps": [], "dunningCycle": customer.dunning_cycle + 1}
        )
    return {"next": "end", "reason": "nothing left to chase"}


def _store_plan(org_id: str, customer: CustomerRecord, action: Action, execution: str) -> None:
    """The planned action and the customer's ``plannedActionId`` and ``nextAction``, in one transaction while
    the customer's execution is still ``execution`` (TransactionCancelled: the action is already final, first
    reason, or another execution took over, second); the action planned before it closed as replanned."""
    previous = customer.planned_action_id
    if previous and previous != action.id:
        action_store.move(
            org_id, previous, ActionStatus.PLANNED, ActionStatus.REPLANNED, {"reason": "the plan changed"}
        )
    next_action = {"at": action.scheduled_at, "type": action.type.value}
    transact(
        [
            action_store.plan_entry(org_id, action.stored()),
            customer_store.dunning_entry(
                org_id, customer.id, execution, {"plannedActionId": action.id, "nextAction": next_action}
            ),
        ]
    )


def _replace_planned(org_id: str, customer: CustomerRecord, current: Action | None) -> None:
    """The customer's one planned action is ``current``: the one planned before it (another step,
    cycle or pause round, or nothing left to plan) is closed as replanned, never left planned.
    The customer keeps its ``nextAction`` (when, what) for the customer list."""
    previous, current_id = customer.planned_action_id, current.id if current else None
    next_action = NextAction.model_validate({"at": current.scheduled_at, "type": current.type}) if current else None
    if previous == current_id and customer.next_action == next_action:
        return
    if previous and previous != current_id:
        action_store.move(
            org_id, previous, ActionStatus.PLANNED, ActionStatus.REPLANNED, {"reason": "the plan changed"}
        )
    customer_store.update_dunning(
        org_id,
        customer.id,
        {"plannedActionId": current_id, "nextAction": next_action.model_dump(mode="json") if next_action else None},
    )


def wait_timestamp(moment: datetime) -> str:
    """A Wait state's ``TimestampPath``: UTC, whole seconds rounded up (never a second early)."""
    utc = moment.astimezone(UTC)
    whole = utc.replace(microsecond=0) + (timedelta(seconds=1) if utc.microsecond else timedelta(0))
    return whole.strftime("%Y-%m-%dT%H:%M:%SZ")


def _planned_action(customer: CustomerRecord, workflow: Workflow, decided: Plan, now: datetime) -> Action:
    assert decided.step is not None and decided.at is not None
    return Action(
        id=planned_action_id(customer.id, customer.dunning_cycle, decided.step.id, customer.pause_round),
        customer_id=customer.id,
        workflow_id=workflow.id,
        workflow_version=workflow.version,
        step_id=decided.step.id,
        type=decided.step.action,
        status=ActionStatus.PLANNED,
        scheduled_at=decided.at.isoformat(),
        invoice_ids=list(decided.invoice_ids),
        carrying_invoice_id=decided.carrying_invoice_id,
        cycle=customer.dunning_cycle,
        created_at=now.isoformat(),
    )


def _skip_step(
    org_id: str, customer: CustomerRecord, workflow: Workflow, step_id: str, decided: Plan, reason: str, now: datetime
) -> None:
    step = next(s for s in workflow.steps if s.id == step_id)
    at_once = Plan(PlanKind.ACT, step, now, decided.invoice_ids, decided.carrying_invoice_id)
    skipped = _planned_action(customer, workflow, at_once, now).model_copy(
        update={"status": ActionStatus.SKIPPED, "reason": reason, "performed_at": now.isoformat()}
    )
    if action_store.create_if_absent(org_id, skipped.stored()):
        _performed(org_id, customer.id, step_id, None)
        timeline.record(
            org_id,
            customer.id,
            skipped.invoice_ids,
            EntryKind.EVENT,
            now.isoformat(),
            skipped.id,
            {"event": "skipped", "stepId": step_id, "reason": reason},
        )


def _performed(org_id: str, customer_id: str, step_id: str | None, contact_at: str | None) -> None:
    customer_store.mark_step_performed(org_id, customer_id, step_id, contact_at)


# ---------------------------------------------------------------- Act


def get_action(org_id: str, action_id: str) -> Action | None:
    """The action as stored now (strongly consistent: its status guards the send), or None."""
    item = action_store.get_action(org_id, action_id)
    return Action.model_validate(item) if item is not None else None


@unavailable_as_retryable
def act(org_id: str, customer_id: str, action_id: str, execution: str) -> Answer:
    """Act alone (``act_then_plan`` is what the state machine runs)."""
    with _one_invocation():
        return _act(org_id, customer_id, action_id, execution)


@unavailable_as_retryable
def act_then_plan(org_id: str, customer_id: str, action_id: str, execution: str) -> Answer:
    """The state machine's Act, then the Plan that follows it, in one invocation (one Lambda invocation
    and three state transitions per reminder): what Act did (``outcome``) and the next plan (``next``,
    ``action``, ``waitUntil``). What Act read serves Plan too — after an email, the customer as Act left
    it — and Plan writes only while the customer's execution is still this one, so a payment or any
    other nudge that came meanwhile ends it instead. A retry after a fault in the planning part finds
    the action performed and only plans again."""
    with _one_invocation():
        acted = _act(org_id, customer_id, action_id, execution)
        return {**acted, **_plan(org_id, customer_id, execution)}


def _act(org_id: str, customer_id: str, action_id: str, execution: str) -> Answer:
    """Check everything again, then perform the action exactly once."""
    action = get_action(org_id, action_id)
    if action is None:
        return {"outcome": "missing"}
    if action.status != ActionStatus.PLANNED:
        return _acted_already(org_id, action)
    customer = customer_record(org_id, customer_id)
    if customer is None or customer.execution != execution:
        return {"outcome": "superseded"}
    _prefetch(org_id, action.workflow_id)
    workflow = get_workflow(org_id, action.workflow_id) if action.workflow_id else None
    now = clock.now()
    if workflow is None or customer.dunning_plan_id != workflow.id:
        return _replan(org_id, action, "workflow changed", now)
    step = next((s for s in workflow.steps if s.id == action.step_id), None)
    decision = _decision(org_id, customer, workflow, step, action, now)
    if decision.verdict != Verdict.SEND:
        return _NOT_SENT[decision.verdict](org_id, action, decision.reason, now)
    assert step is not None
    return _perform(org_id, customer, workflow, step, action, now)


def _acted_already(org_id: str, action: Action) -> Answer:
    """A retried, duplicated or late Act: the action is not planned any more, and is never performed twice."""
    if action.status == ActionStatus.SENT:
        after_send(org_id, action)  # a retry after a fault past the send: finish, never resend
        return {"outcome": ActionStatus.SENT}
    if action.status == ActionStatus.SENDING:
        return _fail(org_id, action, "interrupted while sending: not resent, check the outbox", clock.now())
    return {"outcome": action.status}  # final, or a task or call open


def _decision(
    org_id: str, customer: CustomerRecord, workflow: Workflow, step: Step | None, action: Action, now: datetime
) -> Decision:
    """The planner's verdict, at send time, on the action planned earlier."""
    org = get_organization(org_id)
    planned = Plan(PlanKind.ACT, step, datetime.fromisoformat(action.scheduled_at), tuple(action.invoice_ids))
    return decide_at_send(
        planned,
        workflow,
        workflow.version,
        action.workflow_version,
        open_invoices(org_id, customer.id),
        state_of(customer),
        window_of(org, customer),
        now,
        org.settings.automatic_actions,
    )


def _close(
    org_id: str,
    action: Action,
    status: ActionStatus,
    fields: dict[str, Any],
    now: datetime,
    told: dict[str, Any] | None = None,
    *,
    kind: EntryKind = EntryKind.EVENT,
    entry_id: str | None = None,
    then: Callable[[], object] | None = None,
) -> bool:
    """Move the action from where it stands to ``status`` (with ``fields``); only if this call moved it,
    do ``then`` (what the status means for the customer) and put ``told`` on its timelines. False when
    another call moved it first."""
    if not action_store.move(org_id, action.id, action.status, status, fields):
        return False
    if then is not None:
        then()
    if told is not None:
        _on_timeline(org_id, action, kind, now.isoformat(), told, entry_id)
    return True


def _hold(org_id: str, action: Action, reason: str, now: datetime) -> Answer:
    """Automatic actions are off: the action is sent back for replanning (its step not performed, so
    the same action is planned again when they are back on), and the timeline says why."""
    held = {"event": "held", "stepId": action.step_id, "type": action.type, "reason": reason}
    fields = {"reason": reason, "heldAt": now.isoformat()}
    _close(org_id, action, ActionStatus.REPLANNED, fields, now, held, entry_id=f"{action.id}_held")
    return {"outcome": "held"}


def _postpone(org_id: str, action: Action, reason: str, now: datetime) -> Answer:
    """Collection is paused: the step is set aside until the resume, when it is due again."""
    _close(
        org_id,
        action,
        ActionStatus.POSTPONED,
        {"reason": reason, "performedAt": now.isoformat()},
        now,
        {"event": "postponed", "stepId": action.step_id, "reason": reason},
        then=lambda: customer_store.add_postponed_step(org_id, action.customer_id, action.step_id),
    )
    return {"outcome": ActionStatus.POSTPONED}


def _replan(org_id: str, action: Action, reason: str, now: datetime) -> Answer:
    """Something changed since the plan: Plan decides again (nothing on the timeline)."""
    _close(org_id, action, ActionStatus.REPLANNED, {"reason": reason}, now)
    return {"outcome": ActionStatus.REPLANNED}


def _skip(org_id: str, action: Action, reason: str, now: datetime) -> Answer:
    """Nothing left to remind of: the step counts as performed (not as a contact), the timeline says why."""
    _close(
        org_id,
        action,
        ActionStatus.SKIPPED,
        {"reason": reason, "performedAt": now.isoformat()},
        now,
        {"event": "skipped", "stepId": action.step_id, "reason": reason},
        then=lambda: _performed(org_id, action.customer_id, action.step_id, None),
    )
    return {"outcome": ActionStatus.SKIPPED}


_NOT_SENT: dict[Verdict, Callable[[str, Action, str, datetime], Answer]] = {
    Verdict.HOLD: _hold,
    Verdict.POSTPONE: _postpone,
    Verdict.REPLAN: _replan,
    Verdict.SKIP: _skip,
}
"""What Act does, by the planner's verdict, when the verdict is not to send."""


def _fail(org_id: str, action: Action, reason: str, now: datetime) -> Answer:
    """The action failed for ``reason``: recorded, on the timeline, never silently dropped, never
    retried blindly. Its step counts as performed (not as a contact): the workflow goes on to the next."""
    _close(
        org_id,
        action,
        ActionStatus.FAILED,
        {"reason": reason, "performedAt": now.isoformat()},
        now,
        {"type": action.type, "status": ActionStatus.FAILED, "reason": reason},
        kind=EntryKind.ACTION,
        then=lambda: _performed(org_id, action.customer_id, _workflow_step(action), None),
    )
    return {"outcome": ActionStatus.FAILED}


def _on_timeline(
    org_id: str, action: Action, kind: EntryKind, at: str, data: dict[str, Any], entry_id: str | None = None
) -> None:
    """The action's entry on its customer's timeline and on each invoice it names."""
    timeline.record(org_id, action.customer_id, action.invoice_ids, kind, at, entry_id or action.id, data)


def _perform(
    org_id: str, customer: CustomerRecord, workflow: Workflow, step: Step, action: Action, now: datetime
) -> Answer:
    """The verdict is to send: the step's action, by its type."""
    if step.action.is_manual:
        return _open_task(org_id, customer, step, action, now)
    if step.action == ActionType.LETTER:
        return _write_letter(org_id, customer, workflow, step, action, now)
    if step.action == ActionType.SMS:
        return _send_sms(org_id, customer, workflow, step, action, now)
    return _send_email(org_id, customer, workflow, step, action, now)


def _open_task(org_id: str, customer: CustomerRecord, step: Step, action: Action, now: datetime) -> Answer:
    """A task or a call: open for the step's assignee, holding the customer's dunning until it is closed."""
    owner = _assignee(customer, step)
    _close(
        org_id,
        action,
        ActionStatus.OPEN,
        {"owner": owner, "performedAt": now.isoformat()},
        now,
        {"type": step.action.value, "status": ActionStatus.OPEN, "stepId": step.id, "owner": owner},
        kind=EntryKind.ACTION,
        then=lambda: customer_store.update_dunning(org_id, customer.id, {"openManualActionId": action.id}),
    )
    return {"outcome": ActionStatus.OPEN}


def _render(
    org_id: str,
    customer: CustomerRecord,
    workflow: Workflow,
    step: Step,
    action: Action,
    contact: Contact | None,
    now: datetime,
) -> tuple[RenderedEmail, PortalLink, Organization]:
    """The step's template rendered for this customer, with a fresh portal link."""
    org = get_organization(org_id)
    link = portal_links.issue(
        org_id,
        customer.id,
        org.settings.portal_link_validity_days,
        reason=action.id,
        generation=customer.portal_link_generation,
    )
    rendered = _rendered(org, customer, workflow, step, action.invoice_ids, contact, now, link.url, action.draft)
    return rendered, link, org


def _rendered(
    org: Organization,
    customer: CustomerRecord,
    workflow: Workflow,
    step: Step,
    invoice_ids: list[str],
    contact: Contact | None,
    now: datetime,
    portal_link: str,
    draft: dict[str, str] | None = None,
) -> RenderedEmail:
    """The step's template — or the email written for this customer, ``draft`` (subject, text) —
    rendered for this customer and these invoices (NotFound, Invalid when it cannot be)."""
    read = {i["id"]: i for i in _invoice_items(org.id, customer.id)} if _reads.get() else {}
    invoices = [i for i in (read.get(i) or ledger_store.get_invoice(org.id, i) for i in invoice_ids) if i]
    context = templates.email_context(
        organization=org.model_dump(),
        customer=customer,
        contact=contact,
        invoices=invoices,
        portal_link=portal_link,
        sender_name=org.settings.sender_name or org.name,
        language=workflow.language,
        today=now.astimezone(ZoneInfo(org.settings.timezone)).date(),
    )
    if draft is not None:
        return templates.render_free_text(draft["subject"], draft["text"], context)
    template_id = step.template_id or f"default.{default_template(step, workflow.steps)}"
    return templates.render(org.id, template_id, workflow.language, workflow.tone.value, context)


def contacts_of(org_id: str, customer: CustomerRecord) -> list[Contact]:
    """The customer's contacts, its main one marked."""
    return [to_contact(c, customer.main_contact_id) for c in _contact_items(org_id, customer.id)]


def _main_contact(org_id: str, customer: CustomerRecord) -> Contact | None:
    return _main_contact_among(contacts_of(org_id, customer))


def _main_contact_among(contacts: list[Contact]) -> Contact | None:
    """The customer's main contact among ``contacts``, else the first of them; None when there is none."""
    return next((c for c in contacts if c.is_main), contacts[0] if contacts else None)


def _write_letter(
    org_id: str, customer: CustomerRecord, workflow: Workflow, step: Step, action: Action, now: datetime
) -> Answer:
    """A PDF in the documents bucket, on the timeline, marked to be posted."""
    contact = _main_contact(org_id, customer)
    email, _, org = _render(org_id, customer, workflow, step, action, contact, now)
    pdf = letters.render_pdf(
        sender=org.name, recipient=customer.name, day=now.date(), subject=email.subject, body=email.text
    )
    key = files.letter_key(org_id, action.id)
    files.put(key, pdf, "application/pdf")
    _close(
        org_id,
        action,
        ActionStatus.TO_POST,
        {"documentKey": key, "performedAt": now.isoformat(), "subject": email.subject},
        now,
        {"type": "letter", "status": ActionStatus.TO_POST, "documentKey": key, "subject": email.subject},
        kind=EntryKind.ACTION,
        then=lambda: _performed(org_id, customer.id, step.id, now.isoformat()),
    )
    return {"outcome": ActionStatus.TO_POST}


def _send_sms(
    org_id: str, customer: CustomerRecord, workflow: Workflow, step: Step, action: Action, now: datetime
) -> Answer:
    """A short text through SNS to the main contact's phone: the subject and the portal link."""
    contact = _main_contact(org_id, customer)
    phone = contact.phone if contact else None
    if not phone or not phone.startswith("+"):
        return _fail(org_id, action, "no phone number in international format (+...)", now)
    email, link, _ = _render(org_id, customer, workflow, step, action, contact, now)
    if not _claim(org_id, action, now):
        return {"outcome": "claimed elsewhere"}
    message_id = sms.send(phone, f"{email.subject} {link.url}")
    action_store.move(
        org_id,
        action.id,
        ActionStatus.SENDING,
        ActionStatus.SENT,
        {"messageId": message_id, "performedAt": now.isoformat(), "to": [phone]},
    )
    _performed(org_id, customer.id, step.id, now.isoformat())
    sent = {"type": "sms", "status": ActionStatus.SENT, "to": [phone]}
    _on_timeline(org_id, action, EntryKind.ACTION, now.isoformat(), sent)
    return {"outcome": ActionStatus.SENT}


def _claim(org_id: str, action: Action, now: datetime) -> bool:
    """The planned action is this call's to send (``planned`` → ``sending``); False when another took it."""
    return action_store.move(
        org_id, action.id, ActionStatus.PLANNED, ActionStatus.SENDING, {"claimedAt": now.isoformat()}
    )


def _assignee(customer: CustomerRecord, step: Step) -> str | None:
    if step.assignee in (None, "account_manager"):
        managers = customer.account_manager_ids
        return managers[0] if managers else None
    return step.assignee


def recipients_among(contacts: list[Contact], step: Step) -> tuple[list[str], list[str]]:
    """To: valid contacts in the step's positions, else the main contact, else the first valid one.
    CC: valid contacts in its CC positions. Invalid (bounced) addresses are never used."""
    contacts = [c for c in contacts if not c.invalid]
    to = [c.email for c in contacts if step.to and c.position_id in step.to]
    if not to:  # the main contact, else (it bounced) the first valid contact
        main = _main_contact_among(contacts)
        to = [main.email] if main else []
    cc = [c.email for c in contacts if c.position_id in step.cc and c.email not in to]
    return to, cc


def _send_email(
    org_id: str, customer: CustomerRecord, workflow: Workflow, step: Step, action: Action, now: datetime
) -> Answer:
    org = get_organization(org_id)
    contacts = contacts_of(org_id, customer)
    to, cc = recipients_among(contacts, step)
    if not to or not org.settings.sender_email:
        reason = "no valid contact to write to" if not to else "the organization has no sender address"
        return _fail(org_id, action, reason, now)
    main = next((c for c in contacts if c.email == to[0]), None)
    try:
        email, link, _ = _render(org_id, customer, workflow, step, action, main, now)
    except (Invalid, NotFound) as error:  # the template is gone or does not render: failed, saying why
        return _fail(org_id, action, f"the template cannot be rendered: {error.message}", now)
    if not _claim(org_id, action, now):
        return {"outcome": "claimed elsewhere"}
    sending = action.model_copy(update={"status": ActionStatus.SENDING})
    envelope = ses.for_action(
        org_id,
        action.id,
        sender_name=org.settings.sender_name or org.name,
        sender_email=org.settings.sender_email,
        to=to,
        cc=cc,
    )
    try:
        message_id = ses.send(envelope, email)
    except ses.SenderNotVerified as refused:  # SES sent nothing: a failure with its reason, not "interrupted"
        return _fail(org_id, sending, refused.message, now)
    except ses.AwsUnavailable:  # SES took nothing: planned again, so the retried Act sends it
        action_store.move(org_id, action.id, ActionStatus.SENDING, ActionStatus.PLANNED, {})
        raise
    except Exception as error:  # nothing stays `sending`: failed with its reason (a retry finds it final)
        _fail(org_id, sending, f"not sent: {type(error).__name__}: {str(error)[:300]}", now)
        raise
    fields = {
        "messageId": message_id,
        "performedAt": now.isoformat(),
        "subject": email.subject,
        "to": to,
        "cc": cc,
        "portalLinkExpiresAt": link.expires_at.isoformat(),
        "text": tokens.redact(portal_links.PREFIX, email.text),  # kept and shown without the link's token
        "deliveryStatus": "sent",
    }
    sent = action.model_copy(
        update={"status": ActionStatus.SENT, "performed_at": now.isoformat(), "subject": email.subject, "to": to}
    )
    _mark_sent(org_id, customer, sent, fields)
    return {"outcome": ActionStatus.SENT, "messageId": message_id}


def _mark_sent(org_id: str, customer: CustomerRecord, sent: Action, fields: dict[str, Any]) -> None:
    """The email went: the action ``sent`` (with ``fields``), its step performed, the customer's last contact
    and the timeline's entries, in one transaction; the customer as it now stands kept for the Plan that
    follows. Should the transaction not go through (the customer deleted meanwhile), or not fit in one (an
    email naming nearly 100 invoices), the action is marked alone and ``after_send`` finishes what it can, as a
    retried Act would."""
    at = sent.performed_at or clock.now().isoformat()
    step = _workflow_step(sent)
    new_step = step if step is not None and step not in customer.performed_steps else None
    later = customer.last_contact_at is None or customer.last_contact_at < at  # the last contact never goes back
    entries = [
        action_store.move_entry(org_id, sent.id, ActionStatus.SENDING, ActionStatus.SENT, fields),
        *(
            [customer_store.contact_made_entry(org_id, customer.id, new_step, at if later else None)]
            if later or new_step
            else []
        ),
        *timeline.record_entries(
            org_id, sent.customer_id, sent.invoice_ids, EntryKind.ACTION, at, sent.id, _sent_entry(sent)
        ),
    ]
    if len(entries) > TRANSACTION_ITEMS or not _transacted(entries):  # an email naming very many invoices
        action_store.move(org_id, sent.id, ActionStatus.SENDING, ActionStatus.SENT, fields)
        after_send(org_id, sent)
        return
    reads = _reads.get()
    if reads is not None:
        performed = [*customer.performed_steps, *([new_step] if new_step else [])]
        # its planned action is this one, sent: nothing left planned for the Plan that follows to close
        reads.customer_after_act = customer.model_copy(
            update={
                "performed_steps": performed,
                "last_contact_at": at if later else customer.last_contact_at,
                "planned_action_id": None,
            }
        )


def _transacted(entries: list[dict[str, Any]]) -> bool:
    try:
        transact(entries)
    except TransactionCancelled:
        return False
    return True


def send_manual_email(org_id: str, customer: CustomerRecord, step: Step, action: Action, now: datetime) -> Answer:
    """An email out of the blue, with the customer's workflow language and tone (or the organization's)."""
    return _send_email(org_id, customer, _manual_workflow(org_id, customer, step), step, action, now)


def _manual_workflow(org_id: str, customer: CustomerRecord, step: Step) -> Workflow:
    workflow = get_workflow(org_id, customer.dunning_plan_id) if customer.dunning_plan_id else None
    if workflow is not None:
        return workflow
    org = get_organization(org_id)
    return Workflow(
        id="manual",
        name="manual",
        language=customer.language or org.settings.language,
        tone="formal",
        min_contact_delay_days=0,
        steps=[step],
    )


def check_manual_email(
    org_id: str,
    customer: CustomerRecord,
    template_id: str | None,
    invoice_ids: list[str],
    draft: dict[str, str] | None = None,
) -> None:
    """Render the email an action out of the blue would send, with a stand-in portal link: a template
    that does not exist or does not render is a 422 naming ``templateId`` (a written one that does not
    compile names ``subject`` or ``text``), before anything is written."""
    step = Step(id="manual-email", offset_days=0, action=ActionType.EMAIL, template_id=template_id)
    workflow = _manual_workflow(org_id, customer, step)
    try:
        _rendered(
            get_organization(org_id),
            customer,
            workflow,
            step,
            invoice_ids,
            _main_contact(org_id, customer),
            clock.now(),
            "https://portal.invalid/check",
            draft,
        )
    except NotFound as error:
        raise Invalid("no such template", {"templateId": "no such template"}) from error
    except Invalid as error:
        if draft is not None:  # the fields at fault are the written ones
            raise Invalid(
                error.message, {"text" if k == "template" else k: v for k, v in error.fields.items()}
            ) from error
        raise Invalid(error.message, {"templateId": "; ".join(error.fields.values()) or error.message}) from error


def _workflow_step(action: Action) -> str | None:
    """The workflow step an action performs; None for an action out of the blue or a Reply task."""
    return None if action.manual else action.step_id


def after_send(org_id: str, action: Action) -> None:
    """What follows a sent email (idempotent): the step is performed, the contact time kept, the timeline told."""
    sent = action.performed_at or clock.now().isoformat()
    _performed(org_id, action.customer_id, _workflow_step(action), sent)
    _on_timeline(org_id, action, EntryKind.ACTION, sent, _sent_entry(action))


def _sent_entry(action: Action) -> dict[str, Any]:
    """What the timeline says of a sent email."""
    return {
        "type": "email",
        "status": ActionStatus.SENT,
        "stepId": action.step_id,
        "subject": action.subject,
        "to": action.to,
        **_sender(action),
    }


def _sender(action: Action) -> dict[str, str]:
    """Who sent a manual email (``owner``, and an API key's ``ownerName``), as the timeline names them."""
    named = {"owner": action.owner, "ownerName": action.owner_name}
    return {k: v for k, v in named.items() if v}


@unavailable_as_retryable
def record_failure_then_plan(
    org_id: str, customer_id: str, action_id: str, error: dict[str, Any], execution: str
) -> Answer:
    """The state machine's RecordFailure: the failure recorded (``record_failure``), then the next plan,
    as ``act_then_plan`` answers."""
    with _one_invocation():
        recorded = record_failure(org_id, customer_id, action_id, error)
        return {**recorded, **_plan(org_id, customer_id, execution)}


def record_failure(org_id: str, customer_id: str, action_id: str, error: dict[str, Any]) -> Answer:
    """After Act failed: the action is failed, on the timeline, never dropped. A fault after the send
    fails nothing: what follows the send is finished instead (never a second email)."""
    action = get_action(org_id, action_id)
    if action is not None and action.status == ActionStatus.SENT:
        after_send(org_id, action)
        return {"outcome": ActionStatus.SENT}
    if action is None or action.status.is_final:
        return {"outcome": action.status if action else "missing"}
    reason = f"{error.get('Error', 'error')}: {str(error.get('Cause', ''))[:300]}"
    logger.error("dunning action failed", action_id=action_id, reason=reason)
    return _fail(org_id, action, reason, clock.now())


# ---------------------------------------------------------------- restarting


def pause(principal: Principal, customer_id: str) -> CustomerRecord:
    """Pause collection: while paused nothing is sent; due actions are logged as postponed."""
    return _set_paused(principal, customer_id, paused=True)


def resume(principal: Principal, customer_id: str) -> CustomerRecord:
    """Resume collection: the steps postponed meanwhile are due again, as new actions."""
    return _set_paused(principal, customer_id, paused=False)


def _set_paused(principal: Principal, customer_id: str, *, paused: bool) -> CustomerRecord:
    customer = customer_record_of(principal, customer_id)
    now = clock.now().isoformat()
    changes: dict[str, Any] = {"collectionPaused": paused, "pausedAt": now if paused else None}
    if not paused:  # postponed steps are due again, as new actions
        changes |= {"postponedSteps": [], "pauseRound": customer.pause_round + 1}
    customer_store.update_dunning(principal.organization_id, customer_id, changes)
    timeline.record_event(
        principal.organization_id,
        customer_id,
        now,
        {"event": "paused" if paused else "resumed", "by": principal.principal_id},
    )
    nudge(principal.organization_id, customer_id)
    return customer.model_copy(update={"collection_paused": paused})


def close_hold(org_id: str, customer: CustomerRecord, action_id: str) -> None:
    """The task or call that held the customer's dunning is closed: it no longer holds it."""
    held = {"openManualActionId": customer.open_manual_action_id, "openReplyTaskId": customer.open_reply_task_id}
    for attribute, holder in held.items():
        if holder == action_id:
            customer_store.update_dunning(org_id, customer.id, {attribute: None})


def _found(org_id: str, action_id: str) -> tuple[Action, dict[str, Any]]:
    """The action (404 when there is none), and its item as stored: what the answer shows of it."""
    item = action_store.get_action(org_id, action_id)
    if item is None:
        raise NotFound("action not found")
    return Action.model_validate(item), item


def reassign_action(principal: Principal, action_id: str, owner_id: str) -> dict[str, Any]:
    """Give an open task, call or Reply task to someone else who sees the customer (its account
    managers, the admins): on their To do, told by a notification, on the timeline."""
    org_id = principal.organization_id
    action, item = _found(org_id, action_id)
    customer = customer_record_of(principal, action.customer_id)
    if action.status != ActionStatus.OPEN:
        raise Conflict(f"the action is {action.status}: only an open one is reassigned", {"status": action.status})
    owner = user_store.get_user(org_id, owner_id)
    if owner is None or not person_can_see(owner, customer):
        raise Invalid("they cannot take it", {"owner": "one of the customer's account managers or an admin"})
    now = clock.now().isoformat()
    fields = {"owner": owner_id, "assignedBy": principal.principal_id, "assignedAt": now}
    if not action_store.move(org_id, action_id, ActionStatus.OPEN, ActionStatus.OPEN, fields):
        raise Conflict("the action changed meanwhile: reload it")
    timeline.record(
        org_id,
        customer.id,
        action.invoice_ids,
        EntryKind.EVENT,
        now,
        f"{action_id}_assigned_{now}",
        {"event": "reassigned", "actionId": action_id, "assignedBy": principal.principal_id, "to": owner_id},
    )
    if owner_id != principal.user_id:
        notifications.notify(
            org_id,
            [owner_id],
            "assigned",
            f"A {action.type} about {customer.name} is yours now",
            action_id,
            {"customerId": customer.id, "invoiceIds": action.invoice_ids, "actionId": action_id},
        )
    return {**item, **fields}


def close_manual_action(principal: Principal, action_id: str, status: ActionStatus, note: str | None) -> dict[str, Any]:
    """Complete (``done``, with a note, e.g. a minuted call) or skip (``skipped``) a task, a call, or a
    planned action."""
    org_id = principal.organization_id
    action, item = _found(org_id, action_id)
    customer = customer_record_of(principal, action.customer_id)
    if action.status not in (ActionStatus.OPEN, ActionStatus.PLANNED):
        raise Conflict(f"the action is {action.status}", {"status": action.status})
    if status == ActionStatus.DONE and action.status != ActionStatus.OPEN:
        raise Invalid("only a task or call waiting for a person can be completed", {"status": action.status})
    now = clock.now().isoformat()
    fields = {"closedAt": now, "closedBy": principal.principal_id, "note": note}
    if not action_store.move(org_id, action_id, action.status, status, fields):
        raise Conflict("the action changed meanwhile: reload it")
    close_hold(org_id, customer, action_id)
    if action.step_id != "reply":  # a Reply task is no step of the workflow
        _performed(org_id, customer.id, action.step_id, None)
    timeline.record(
        org_id,
        customer.id,
        action.invoice_ids,
        EntryKind.EVENT,
        now,
        f"{action_id}_{status}",
        {"event": status, "actionId": action_id, "by": principal.principal_id, "note": note},
    )
    nudge(org_id, customer.id)
    return {**item, "status": status, **fields}
