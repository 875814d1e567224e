"""Team activity per account manager, on the worked example of docs/analytics.md (amounts in cents).

March 2026. ana manages acme, ana and ben both manage bolt, nobody manages cora; ada (an admin) owns
a task of cora's.
"""

from datetime import date
from decimal import Decimal

import pytest

from relance.domain.analytics.history import InvoiceHistory, MoneyHistory, MoneyKind, Settlement
from relance.domain.analytics.team import NOBODY, ActionHistory, TeamActivity, team_activity
from relance.domain.workflows import ActionType

FIRST, LAST = date(2026, 3, 1), date(2026, 3, 31)
MANAGERS = {"acme": ["ana"], "bolt": ["ana", "ben"], "cora": []}


def d(text: str) -> date:
    return date.fromisoformat(f"2026-{text}")


def cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


def invoice(invoice_id: str, customer: str, amount: str, issued: str, due: str, *paid: tuple[str, str], currency="EUR"):
    settled = tuple(Settlement(d(on), cents(part)) for on, part in paid)
    return InvoiceHistory(invoice_id, customer, currency, cents(amount), d(issued), d(due), settled)


def money(record_id: str, customer: str, amount: str, on: str, kind=MoneyKind.PAYMENT, allocated="0"):
    return MoneyHistory(record_id, customer, kind, "EUR", cents(amount), d(on), cents(allocated))


def action(action_id: str, customer: str, kind: ActionType, status: str, scheduled: str, **at: str | bool):
    """An action; ``owner``, ``manual``, ``performed`` and ``closed`` as given."""
    return ActionHistory(
        action_id,
        customer,
        kind,
        status,
        d(scheduled),
        owner=at.get("owner"),  # type: ignore[arg-type]
        manual=bool(at.get("manual", False)),
        performed_on=d(str(at["performed"])) if "performed" in at else None,
        closed_on=d(str(at["closed"])) if "closed" in at else None,
    )


INVOICES = [
    invoice("A1", "acme", "1000.00", "02-01", "03-03", ("03-10", "400.00")),
    invoice("A2", "acme", "500.00", "03-10", "04-09"),
    invoice("B1", "bolt", "2000.00", "01-15", "02-14", ("04-02", "2000.00")),
    invoice("B2", "bolt", "300.00", "02-01", "03-01", currency="USD"),
    invoice("C1", "cora", "700.00", "02-01", "03-02", ("02-28", "700.00")),
]
MONEY = [
    money("P0", "cora", "700.00", "02-28", allocated="700.00"),
    money("P1", "acme", "400.00", "03-10", allocated="400.00"),
    money("P2", "bolt", "250.00", "03-20"),
    money("P3", "bolt", "2000.00", "04-02", allocated="2000.00"),
    money("P4", "cora", "100.00", "03-05"),
    money("CN1", "acme", "50.00", "03-15", kind=MoneyKind.CREDIT_NOTE),
]
TASK, CALL, EMAIL, LETTER = ActionType.TASK, ActionType.CALL, ActionType.EMAIL, ActionType.LETTER
ACTIONS = [
    action("t1", "acme", CALL, "done", "03-02", owner="ana", performed="03-02", closed="03-03"),
    action("t2", "bolt", TASK, "skipped", "03-11", owner="ben", performed="03-11", closed="03-12"),
    action("t3", "bolt", TASK, "planned", "03-25"),
    action("t4", "acme", CALL, "open", "03-31", owner="ana", performed="03-31"),
    action("t5", "acme", TASK, "done", "03-20", owner="ana", performed="03-20", closed="04-02"),
    action("t6", "cora", TASK, "done", "03-17", owner="ada", performed="03-17", closed="03-18"),
    action("t7", "bolt", TASK, "skipped", "03-08", performed="03-08"),
    action("t8", "acme", TASK, "done", "02-26", owner="ana", performed="02-26", closed="02-27"),
    action("m1", "acme", EMAIL, "sent", "03-05", owner="ana", manual=True, performed="03-05"),
    action("e1", "acme", EMAIL, "sent", "03-04", performed="03-04"),
    action("e2", "bolt", LETTER, "to_post", "03-06", performed="03-06"),
    action("e3", "cora", EMAIL, "sent", "03-07", performed="03-07"),
    action("e4", "bolt", EMAIL, "sent", "02-27", performed="02-27"),
    action("e5", "acme", EMAIL, "failed", "03-09", performed="03-09"),
    action("x1", "zeta", EMAIL, "sent", "03-10", performed="03-10"),
]


def test_team_activity_over_march_per_person():
    rows = team_activity(MANAGERS, INVOICES, MONEY, ACTIONS, FIRST, LAST)

    assert rows == {
        "ada": TeamActivity("ada", manual_done=1),
        "ana": TeamActivity(
            "ana",
            overdue_held={"EUR": cents("2600.00"), "USD": cents("300.00")},
            collected={"EUR": cents("650.00")},
            manual_done=2,
            manual_overdue=2,
            automatic_sent=2,
        ),
        "ben": TeamActivity(
            "ben",
            overdue_held={"EUR": cents("2000.00"), "USD": cents("300.00")},
            collected={"EUR": cents("250.00")},
            manual_skipped=1,
            manual_overdue=1,
            automatic_sent=1,
        ),
        NOBODY: TeamActivity(NOBODY, collected={"EUR": cents("100.00")}, automatic_sent=1),
    }


def test_a_customer_with_two_managers_counts_in_full_for_both():
    rows = team_activity(MANAGERS, INVOICES, MONEY, ACTIONS, FIRST, LAST)

    # bolt's B1 (2,000.00) and B2 (300.00 USD), its unapplied 250.00, its letter and its planned task t3
    assert rows["ben"].overdue_held["EUR"] == cents("2000.00") and rows["ana"].overdue_held["EUR"] >= cents("2000.00")
    assert rows["ben"].collected == {"EUR": cents("250.00")} and rows["ana"].collected["EUR"] >= cents("250.00")
    assert rows["ben"].manual_overdue == 1 and rows["ben"].automatic_sent == 1


def test_overdue_at_an_earlier_end_reads_what_was_still_to_do_then():
    rows = team_activity(MANAGERS, INVOICES, MONEY, ACTIONS, FIRST, d("03-21"))

    # t5 (day 03-20, done 04-02) was overdue on 03-21; t3 (03-25) and t4 (03-31) were not due yet
    assert rows["ana"].manual_overdue == 1 and rows["ben"].manual_overdue == 0
    assert rows["ana"].overdue_held == {"EUR": cents("2600.00"), "USD": cents("300.00")}


def test_a_task_done_on_its_day_or_closed_by_nobody_is_never_overdue():
    done_on_its_day = action("t9", "acme", TASK, "done", "03-10", owner="ana", closed="03-10")
    skipped_by_dunning = action("t7", "bolt", TASK, "skipped", "03-08", performed="03-08")

    assert not done_on_its_day.overdue_on(d("03-10")) and not done_on_its_day.overdue_on(d("03-31"))
    assert not skipped_by_dunning.overdue_on(d("03-31"))


def test_everyone_asked_for_has_a_row_even_with_nothing_to_show():
    rows = team_activity(MANAGERS, [], [], [], FIRST, LAST, people=["cid"])

    assert rows == {p: TeamActivity(p) for p in ("ana", "ben", "cid", NOBODY)}


def test_what_belongs_to_a_customer_not_asked_for_is_left_out():
    rows = team_activity({"acme": ["ana"]}, INVOICES, MONEY, ACTIONS, FIRST, LAST)

    assert set(rows) == {"ana"}
    assert rows["ana"].collected == {"EUR": cents("400.00")} and rows["ana"].automatic_sent == 1


def test_a_range_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="range"):
        team_activity(MANAGERS, [], [], [], LAST, FIRST)
