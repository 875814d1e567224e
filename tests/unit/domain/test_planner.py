"""The dunning planner on a pure clock."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from relance.domain.planner import (
    CustomerState,
    OpenInvoice,
    PlanKind,
    Verdict,
    carrying_invoice,
    decide_at_send,
    plan_ahead,
    plan_next,
)
from relance.domain.send_window import SendWindow
from relance.domain.workflows import ActionType, Step, Workflow

UTC_WINDOW = SendWindow(timezone=ZoneInfo("UTC"))
STANDARD = Workflow(
    id="wf_std",
    name="Standard",
    language="en",
    tone="formal",
    min_contact_delay_days=7,
    steps=[
        Step(id="before", offset_days=-3, action=ActionType.EMAIL),
        Step(id="late-1", offset_days=1, action=ActionType.EMAIL),
        Step(id="late-15", offset_days=15, action=ActionType.EMAIL),
        Step(id="call", offset_days=30, action=ActionType.CALL),
        Step(id="final", offset_days=45, action=ActionType.LETTER),
    ],
)


def at(day: str, hour: int = 12) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour), UTC)


def invoice(number: str, due: str, outstanding: int = 10000, **kw) -> OpenInvoice:
    return OpenInvoice(
        number, number, "EUR", outstanding, date.fromisoformat(due) - timedelta(days=30), date.fromisoformat(due), **kw
    )


# ---------------------------------------------------------------- the forecast


def test_the_forecast_takes_each_step_once_honouring_the_delay_until_a_call_holds_the_workflow():
    foreseen = plan_ahead(
        STANDARD, [invoice("A", "2026-03-10")], CustomerState(), UTC_WINDOW, at("2026-03-01"), at("2026-06-01")
    )

    assert [(f.step.id, f.at) for f in foreseen] == [
        ("before", datetime(2026, 3, 9, 8, 30, tzinfo=UTC)),
        ("late-1", datetime(2026, 3, 16, 8, 30, tzinfo=UTC)),  # a week after the last contact
        ("late-15", datetime(2026, 3, 25, 8, 30, tzinfo=UTC)),
        ("call", datetime(2026, 4, 9, 8, 30, tzinfo=UTC)),  # the letter after it waits for the call
    ]
    assert all(f.invoice_ids == ("A",) for f in foreseen)


def test_the_forecast_stops_at_its_horizon_and_sees_nothing_for_a_paid_or_paused_customer():
    invoices = [invoice("A", "2026-03-10")]
    start, end = at("2026-03-01"), at("2026-06-01")

    soon = plan_ahead(STANDARD, invoices, CustomerState(), UTC_WINDOW, start, at("2026-03-20"))
    paid = plan_ahead(STANDARD, [], CustomerState(), UTC_WINDOW, start, end)
    paused = plan_ahead(STANDARD, invoices, CustomerState(paused=True), UTC_WINDOW, start, end)

    assert [f.step.id for f in soon] == ["before", "late-1"]
    assert paid == paused == []


# ---------------------------------------------------------------- send window


def test_send_window_skips_weekends_and_holidays_in_the_recipient_time_zone():
    paris = SendWindow(timezone=ZoneInfo("Europe/Paris"), holidays=frozenset({date(2026, 3, 9)}))

    moment = paris.on_or_after(date(2026, 3, 7))  # Saturday; Monday 9 March is a holiday

    assert moment == datetime(2026, 3, 10, 7, 30, tzinfo=UTC)  # Tuesday 08:30 in Paris


def test_a_moment_after_todays_send_time_waits_for_the_next_business_day():
    assert UTC_WINDOW.first_at_or_after(at("2026-03-13", 9)) == datetime(2026, 3, 16, 8, 30, tzinfo=UTC)


# ---------------------------------------------------------------- planning


def test_step_before_the_due_date_goes_out_on_the_next_business_day():
    plan = plan_next(STANDARD, [invoice("A", "2026-03-10")], CustomerState(), UTC_WINDOW, at("2026-03-01"))

    assert (plan.kind, plan.step.id) == (PlanKind.ACT, "before")
    assert plan.at == datetime(2026, 3, 9, 8, 30, tzinfo=UTC)  # 7 March is a Saturday


def test_steps_after_the_due_date_follow_in_order():
    state = CustomerState(performed=("before", "late-1"), last_contact_at=at("2026-03-11", 8))

    plan = plan_next(STANDARD, [invoice("A", "2026-03-10")], state, UTC_WINDOW, at("2026-03-12"))

    assert plan.step.id == "late-15"
    assert plan.at == datetime(2026, 3, 25, 8, 30, tzinfo=UTC)


def test_one_reminder_covers_every_due_invoice_and_the_oldest_carries_it():
    invoices = [invoice("NEW", "2026-03-20"), invoice("OLD", "2026-03-01"), invoice("LATER", "2026-06-01")]

    plan = plan_next(STANDARD, invoices, CustomerState(), UTC_WINDOW, at("2026-03-25"))

    assert plan.carrying_invoice_id == "OLD"
    assert plan.invoice_ids == ("OLD", "NEW")
    assert plan.step.id == "late-15"  # the step OLD's age calls for
    assert plan.superseded == ("before", "late-1")


def test_on_a_tie_the_largest_invoice_carries():
    chosen = carrying_invoice([invoice("SMALL", "2026-03-01", 100), invoice("BIG", "2026-03-01", 900)])

    assert chosen.id == "BIG"


def test_disputed_promised_or_in_flight_invoices_are_left_out():
    invoices = [invoice("DISPUTED", "2026-01-01", excluded=True), invoice("A", "2026-03-10")]

    plan = plan_next(STANDARD, invoices, CustomerState(), UTC_WINDOW, at("2026-03-25"))

    assert plan.carrying_invoice_id == "A"
    assert "DISPUTED" not in plan.invoice_ids


def test_minimum_delay_after_a_manual_email():
    state = CustomerState(performed=("before",), last_contact_at=at("2026-03-10", 15))

    plan = plan_next(STANDARD, [invoice("A", "2026-03-10")], state, UTC_WINDOW, at("2026-03-11", 6))

    assert plan.step.id == "late-1"
    assert plan.at == datetime(2026, 3, 18, 8, 30, tzinfo=UTC)  # not before 17 March 15:00


def test_a_task_or_call_not_done_holds_the_workflow():
    state = CustomerState(performed=("before", "late-1", "late-15", "call"), manual_action_open=True)

    assert plan_next(STANDARD, [invoice("A", "2026-01-10")], state, UTC_WINDOW, at("2026-03-01")).kind == PlanKind.HOLD


def test_when_every_step_is_done_nothing_is_left_to_chase():
    state = CustomerState(performed=tuple(s.id for s in STANDARD.steps))

    assert plan_next(STANDARD, [invoice("A", "2026-01-10")], state, UTC_WINDOW, at("2026-06-01")).kind == PlanKind.DONE
    assert plan_next(STANDARD, [], CustomerState(), UTC_WINDOW, at("2026-06-01")).kind == PlanKind.DONE


def test_when_the_carrier_is_paid_the_next_oldest_carries_on_without_going_back():
    state = CustomerState(performed=("before", "late-1", "late-15"), last_contact_at=at("2026-01-20", 8))
    younger = invoice("YOUNG", "2026-02-25")  # 5 days late on 2 March: its age calls for late-1

    plan = plan_next(STANDARD, [younger], state, UTC_WINDOW, at("2026-03-02"))

    assert plan.carrying_invoice_id == "YOUNG"
    assert plan.step.id == "call"  # never back to a step the cycle already performed
    assert plan.at == datetime(2026, 3, 27, 8, 30, tzinfo=UTC)


def test_payment_between_plan_and_send_stops_the_reminder():
    invoices = [invoice("A", "2026-03-10")]
    plan = plan_next(STANDARD, invoices, CustomerState(), UTC_WINDOW, at("2026-03-01"))

    paid = [replace(invoices[0], outstanding=0)]
    decision = decide_at_send(plan, STANDARD, 1, 1, paid, CustomerState(), UTC_WINDOW, plan.at)

    assert decision.verdict == Verdict.SKIP


def test_a_partly_settled_reminder_is_planned_again_rather_than_sent_with_a_paid_invoice():
    invoices = [invoice("A", "2026-03-01"), invoice("B", "2026-03-05")]
    plan = plan_next(STANDARD, invoices, CustomerState(), UTC_WINDOW, at("2026-03-20"))

    decision = decide_at_send(plan, STANDARD, 1, 1, [invoices[1]], CustomerState(), UTC_WINDOW, plan.at)

    assert decision.verdict == Verdict.REPLAN


def test_pause_across_a_due_step_postpones_then_resume_sends_once():
    invoices = [invoice("A", "2026-03-10")]
    paused = CustomerState(paused=True)

    plan = plan_next(STANDARD, invoices, paused, UTC_WINDOW, at("2026-03-01"))
    decision = decide_at_send(plan, STANDARD, 1, 1, invoices, paused, UTC_WINDOW, plan.at)
    resumed = plan_next(STANDARD, invoices, CustomerState(), UTC_WINDOW, at("2026-03-20"))

    assert plan.kind == PlanKind.PAUSED and decision.verdict == Verdict.POSTPONE
    assert resumed.step.id == "late-1" and resumed.superseded == ("before",)


def test_a_step_due_while_automatic_actions_are_off_is_held_even_for_a_paused_customer():
    invoices = [invoice("A", "2026-03-10")]
    plan = plan_next(STANDARD, invoices, CustomerState(), UTC_WINDOW, at("2026-03-01"))

    for state in (CustomerState(), CustomerState(paused=True)):
        decision = decide_at_send(plan, STANDARD, 1, 1, invoices, state, UTC_WINDOW, plan.at, automatic_actions=False)
        assert decision.verdict == Verdict.HOLD and decision.reason == "automatic actions are off"
    assert decide_at_send(plan, STANDARD, 1, 1, invoices, CustomerState(), UTC_WINDOW, plan.at).verdict == Verdict.SEND


def test_workflows_held_by_automatic_actions_go_on_with_the_latest_step_due_once():
    invoices = [invoice("A", "2026-03-10")]  # held since before the due date, back on ten days later

    resumed = plan_next(STANDARD, invoices, CustomerState(), UTC_WINDOW, at("2026-03-20"))

    assert resumed.kind == PlanKind.ACT and resumed.step.id == "late-1" and resumed.superseded == ("before",)


def test_workflow_edited_mid_cycle_is_planned_again_and_continues():
    invoices = [invoice("A", "2026-03-10")]
    plan = plan_next(STANDARD, invoices, CustomerState(performed=("before",)), UTC_WINDOW, at("2026-03-09", 9))
    edited = STANDARD.model_copy(update={"min_contact_delay_days": 14})

    decision = decide_at_send(plan, edited, 2, 1, invoices, CustomerState(performed=("before",)), UTC_WINDOW, plan.at)
    again = plan_next(
        edited, invoices, CustomerState(performed=("before",), last_contact_at=at("2026-03-09", 8)), UTC_WINDOW, plan.at
    )

    assert decision.verdict == Verdict.REPLAN
    assert again.step.id == "late-1" and again.at == datetime(2026, 3, 23, 8, 30, tzinfo=UTC)


def test_customer_moved_to_another_workflow_starts_at_the_step_its_age_calls_for():
    firm = Workflow(
        id="wf_firm",
        name="Firm",
        language="en",
        tone="formal",
        min_contact_delay_days=5,
        steps=[
            Step(id="firm-1", offset_days=1, action=ActionType.EMAIL),
            Step(id="firm-10", offset_days=10, action=ActionType.EMAIL),
            Step(id="firm-20", offset_days=20, action=ActionType.CALL),
        ],
    )
    state = CustomerState(performed=("before", "late-1"), last_contact_at=at("2026-03-11", 8))

    plan = plan_next(firm, [invoice("A", "2026-03-10")], state, UTC_WINDOW, at("2026-03-22"))

    assert plan.step.id == "firm-10" and plan.superseded == ("firm-1",)


# ---------------------------------------------------------------- the invariants, on random histories

EVENTS = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=6 * 24),  # hours until the event
        st.sampled_from(["invoice", "pay", "manual_email", "pause", "resume", "edit", "jump"]),
        st.integers(min_value=0, max_value=10),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(EVENTS, st.integers(min_value=0, max_value=14))
def test_never_too_often_never_after_payment_never_twice(events, delay):
    workflow = STANDARD.model_copy(update={"min_contact_delay_days": delay})
    version = 1
    now = at("2026-03-02", 7)
    invoices: dict[str, OpenInvoice] = {"I0": invoice("I0", "2026-03-05")}
    performed: list[str] = []
    contacts: list[datetime] = []
    paused = False
    sent: list[tuple[str, tuple[str, ...], datetime]] = []
    cycle = 0
    sent_keys: set[tuple[int, str]] = set()
    counter = 1

    def state() -> CustomerState:
        return CustomerState(tuple(performed), max(contacts) if contacts else None, paused)

    for hours, kind, pick in [*events, (24 * 120, "jump", 0)]:
        event_at = now + timedelta(hours=hours)
        for _ in range(60):  # act on everything due before the next event
            current = list(invoices.values())
            plan = plan_next(workflow, current, state(), UTC_WINDOW, now)
            if plan.kind == PlanKind.DONE and not [i for i in current if i.outstanding > 0]:
                performed.clear()
                cycle += 1
            if plan.kind not in (PlanKind.ACT, PlanKind.PAUSED) or plan.at > event_at:
                break
            now = max(now, plan.at)
            decision = decide_at_send(
                plan, workflow, version, version, list(invoices.values()), state(), UTC_WINDOW, now
            )
            if decision.verdict == Verdict.SEND:
                key = (cycle, plan.step.id)
                assert key not in sent_keys, "an action was sent twice"
                sent_keys.add(key)
                for invoice_id in decision.invoice_ids:
                    assert invoices[invoice_id].outstanding > 0, "a reminder named a settled invoice"
                if plan.step.action.reaches_customer:
                    if contacts:
                        assert now - max(contacts) >= timedelta(days=workflow.min_contact_delay_days), "too often"
                    contacts.append(now)
                sent.append((plan.step.id, decision.invoice_ids, now))
                performed.extend([*plan.superseded, plan.step.id])
            elif decision.verdict == Verdict.SKIP:
                performed.extend([*plan.superseded, plan.step.id])
            else:
                break
        now = max(now, event_at)
        if kind == "invoice":
            counter += 1
            due = (now + timedelta(days=pick * 3 - 10)).date()
            invoices[f"I{counter}"] = OpenInvoice(
                f"I{counter}", f"I{counter}", "EUR", 1000 + pick, due - timedelta(days=30), due
            )
        elif kind == "pay" and invoices:
            chosen = sorted(invoices)[pick % len(invoices)]
            invoices[chosen] = replace(invoices[chosen], outstanding=0)
        elif kind == "manual_email":
            contacts.append(now)
        elif kind == "pause":
            paused = True
        elif kind == "resume":
            paused = False
        elif kind == "edit":
            version += 1
            workflow = workflow.model_copy(update={"min_contact_delay_days": pick})


# ---------------------------------------------------------------- the calendar at the moment of sending


def test_on_a_sunday_the_step_due_by_mondays_send_time_supersedes_the_earlier_one():
    # Due Friday 6 March: the reminder before it fell due days ago, the first overdue one on Saturday.
    invoices = [invoice("A", "2026-03-06")]

    plan = plan_next(STANDARD, invoices, CustomerState(), UTC_WINDOW, at("2026-03-08"))  # Sunday noon

    assert plan.step.id == "late-1" and plan.superseded == ("before",)
    assert plan.at == datetime(2026, 3, 9, 8, 30, tzinfo=UTC)  # Monday's send time


def test_a_later_step_due_by_the_end_of_the_minimum_delay_goes_instead():
    invoices = [invoice("A", "2026-03-01")]
    contacted = CustomerState(performed=("before",), last_contact_at=at("2026-03-10", 8))

    plan = plan_next(STANDARD, invoices, contacted, UTC_WINDOW, at("2026-03-11"))

    # late-1 is due now, but nothing may go before 17 March, when late-15 (16 March) is due too.
    assert plan.step.id == "late-15" and plan.superseded == ("late-1",)
    assert plan.at == datetime(2026, 3, 17, 8, 30, tzinfo=UTC)


def test_a_day_made_a_holiday_after_planning_is_no_longer_a_send_moment():
    planned = datetime(2026, 3, 11, 8, 30, tzinfo=UTC)  # Wednesday
    holiday = SendWindow(timezone=ZoneInfo("UTC"), holidays=frozenset({date(2026, 3, 11)}))

    assert UTC_WINDOW.still_allows(planned, planned)
    assert not holiday.still_allows(planned, planned)
    assert not UTC_WINDOW.still_allows(planned, planned + timedelta(days=1))  # a day late: plan again
    assert not UTC_WINDOW.still_allows(planned, planned - timedelta(minutes=1))
    later_time = SendWindow(timezone=ZoneInfo("UTC"), send_time=time(10, 0))
    assert not later_time.still_allows(planned, planned)


def test_act_defers_a_reminder_whose_day_became_a_holiday():
    invoices = [invoice("A", "2026-03-01")]
    plan = plan_next(STANDARD, invoices, CustomerState(), UTC_WINDOW, at("2026-03-10"))
    holiday = SendWindow(timezone=ZoneInfo("UTC"), holidays=frozenset({plan.at.date()}))

    decision = decide_at_send(plan, STANDARD, 1, 1, invoices, CustomerState(), holiday, plan.at)

    assert decision.verdict == Verdict.REPLAN and decision.reason == "outside the send window"
    replanned = plan_next(STANDARD, invoices, CustomerState(), holiday, plan.at)
    assert replanned.at == plan.at + timedelta(days=1)
