"""The dunning planner: a customer's next action and when, from its workflow and ledger. Pure.

Rules (docs/dunning.md):
- One reminder per customer covers all its qualifying invoices (open, owing, not disputed,
  promised or with a payment in flight). Its rhythm is set by the **carrying invoice**: the
  oldest due date among them; on a tie the largest outstanding.
- Each step's moment is the carrying invoice's due (or issue) date + the step's offset, at
  the send time of the next business day on or after it, in the customer's time zone.
- A cycle performs steps in order and never repeats one. When several steps are due at the
  moment the next action can go (the next send time, or later for the minimum contact
  delay), only the latest goes out; the earlier ones are skipped as superseded. When the
  carrying invoice is paid, the next oldest carries on and the workflow continues at the
  step its age calls for (never going back to a step already performed in the cycle).
- Anything that reaches the customer (email, letter, SMS) waits until the last contact +
  the workflow's minimum contact delay, and is then moved to the next send window.
- A task or call not yet done or skipped holds the workflow. A paused customer gets nothing.
- While the organization's automatic actions are off, no step is performed: it is held, still due.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from relance.domain.send_window import SendWindow
from relance.domain.workflows import Anchor, Step, Workflow


@dataclass(frozen=True)
class OpenInvoice:
    id: str
    number: str
    currency: str
    outstanding: int
    issued_at: date
    due_at: date
    excluded: bool = False  # disputed, under a promise to pay, or a payment in flight


@dataclass(frozen=True)
class CustomerState:
    performed: tuple[str, ...] = ()  # step ids done, sent or skipped in the current cycle
    last_contact_at: datetime | None = None
    paused: bool = False
    manual_action_open: bool = False


class PlanKind(StrEnum):
    ACT = "act"  # perform ``step`` at ``at``
    HOLD = "hold"  # a task or call waits for a person
    PAUSED = "paused"  # collection paused: nothing is sent
    DONE = "done"  # nothing left to chase


@dataclass(frozen=True)
class Plan:
    kind: PlanKind
    step: Step | None = None
    at: datetime | None = None
    invoice_ids: tuple[str, ...] = ()
    carrying_invoice_id: str | None = None
    superseded: tuple[str, ...] = field(default_factory=tuple)


def qualifying(invoices: list[OpenInvoice]) -> list[OpenInvoice]:
    return [i for i in invoices if i.outstanding > 0 and not i.excluded]


def carrying_invoice(invoices: list[OpenInvoice]) -> OpenInvoice | None:
    """The oldest due date; on a tie the largest outstanding (then the id, to be stable)."""
    chased = qualifying(invoices)
    return min(chased, key=lambda i: (i.due_at, -i.outstanding, i.id)) if chased else None


def step_day(step: Step, invoice: OpenInvoice) -> date:
    return (invoice.due_at if step.anchor == Anchor.DUE else invoice.issued_at) + timedelta(days=step.offset_days)


def plan_next(
    workflow: Workflow, invoices: list[OpenInvoice], state: CustomerState, window: SendWindow, now: datetime
) -> Plan:
    carrier = carrying_invoice(invoices)
    if carrier is None:
        return Plan(PlanKind.DONE)
    if state.manual_action_open:
        return Plan(PlanKind.HOLD, carrying_invoice_id=carrier.id)
    ordered = sorted(enumerate(workflow.steps), key=lambda pair: (step_day(pair[1], carrier), pair[0]))
    steps = [step for _, step in ordered]
    done = [index for index, step in enumerate(steps) if step.id in state.performed]
    remaining = steps[max(done) + 1 :] if done else steps
    if not remaining:
        return Plan(PlanKind.DONE, carrying_invoice_id=carrier.id)
    # The step to take is the latest one due at the moment it can go; that moment moves on (the next
    # send time, the minimum contact delay), and a later step may fall due meanwhile: settle both.
    moment = window.first_at_or_after(now)
    for _ in range(len(remaining) + 1):
        due = [s for s in remaining if window.on_or_after(step_day(s, carrier)) <= moment]
        step = due[-1] if due else remaining[0]
        at = moment if due else window.on_or_after(step_day(step, carrier))
        if step.action.reaches_customer and state.last_contact_at is not None:
            contact_allowed = state.last_contact_at + timedelta(days=workflow.min_contact_delay_days)
            at = window.first_at_or_after(max(at, contact_allowed))
        if at == moment:
            break
        moment = at
    superseded = tuple(s.id for s in remaining[: remaining.index(step)])
    kind = PlanKind.PAUSED if state.paused else PlanKind.ACT
    return Plan(kind, step, at, covered(invoices, step, at, window), carrier.id, superseded)


@dataclass(frozen=True)
class Foreseen:
    """An action the forecast sees coming: its step, when it goes, the invoices it names."""

    step: Step
    at: datetime
    invoice_ids: tuple[str, ...]


def plan_ahead(
    workflow: Workflow,
    invoices: list[OpenInvoice],
    state: CustomerState,
    window: SendWindow,
    now: datetime,
    horizon: datetime,
) -> list[Foreseen]:
    """The actions dunning would take until ``horizon``, each planned as if the one before had been taken
    when planned (the forecast). A task or call ends it: it holds the workflow until someone closes it."""
    foreseen: list[Foreseen] = []
    moment = now
    for _ in range(len(workflow.steps)):
        plan = plan_next(workflow, invoices, state, window, moment)
        if plan.kind != PlanKind.ACT or plan.at is None or plan.step is None or plan.at > horizon:
            break
        foreseen.append(Foreseen(plan.step, plan.at, plan.invoice_ids))
        if plan.step.action.is_manual:
            break
        state = replace(
            state,
            performed=(*state.performed, *plan.superseded, plan.step.id),
            last_contact_at=plan.at if plan.step.action.reaches_customer else state.last_contact_at,
            manual_action_open=False,
        )
        moment = plan.at
    return foreseen


def covered(invoices: list[OpenInvoice], step: Step, at: datetime, window: SendWindow) -> tuple[str, ...]:
    """The invoices one reminder names: every qualifying invoice already due on the send day,
    and for a step before the due date, those whose own reminder day has come."""
    send_day = at.astimezone(window.timezone).date()
    chosen = [
        i
        for i in qualifying(invoices)
        if i.due_at <= send_day or (step.offset_days < 0 and step_day(step, i) <= send_day)
    ]
    return tuple(i.id for i in sorted(chosen, key=lambda i: (i.due_at, i.id)))


AUTOMATIC_ACTIONS_OFF = "automatic actions are off"


class Verdict(StrEnum):
    SEND = "send"
    POSTPONE = "postpone"  # paused: logged, sent after resume if still due
    HOLD = "hold"  # automatic actions off: nothing performed, the step stays due for when they are back on
    REPLAN = "replan"  # something changed since planning: plan again
    SKIP = "skip"  # nothing left to remind of


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str = ""
    invoice_ids: tuple[str, ...] = ()


def decide_at_send(
    plan: Plan,
    workflow: Workflow,
    workflow_version: int,
    planned_workflow_version: int,
    invoices: list[OpenInvoice],
    state: CustomerState,
    window: SendWindow,
    now: datetime,
    automatic_actions: bool = True,
) -> Decision:
    """Check everything again at send time, against the calendar of this moment; only SEND may contact the customer."""
    if plan.step is None or plan.at is None:
        return Decision(Verdict.SKIP, "nothing planned")
    if not automatic_actions:
        return Decision(Verdict.HOLD, AUTOMATIC_ACTIONS_OFF)
    if state.paused:
        return Decision(Verdict.POSTPONE, "collection paused")
    if workflow_version != planned_workflow_version or plan.step.id not in {s.id for s in workflow.steps}:
        return Decision(Verdict.REPLAN, "workflow changed")
    if now < plan.at:
        return Decision(Verdict.REPLAN, "too early")
    if not window.still_allows(plan.at, now):
        return Decision(Verdict.REPLAN, "outside the send window")
    if plan.step.id in state.performed:
        return Decision(Verdict.SKIP, "already performed")
    contact_allowed_at = (
        state.last_contact_at + timedelta(days=workflow.min_contact_delay_days) if state.last_contact_at else None
    )
    if plan.step.action.reaches_customer and contact_allowed_at is not None and now < contact_allowed_at:
        return Decision(Verdict.REPLAN, "contacted meanwhile")
    still_owed = {i.id for i in qualifying(invoices)}
    names = tuple(i for i in plan.invoice_ids if i in still_owed)
    if not names:
        return Decision(Verdict.SKIP, "everything it named was paid, voided or set aside")
    if len(names) != len(plan.invoice_ids):
        return Decision(Verdict.REPLAN, "some invoices were settled meanwhile")
    return Decision(Verdict.SEND, invoice_ids=names)
