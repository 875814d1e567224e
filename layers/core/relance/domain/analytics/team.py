"""Team activity per account manager over a range of days: the overdue their customers hold at its end,
what those customers paid in it, the actions people did, skipped or let slip, and the automatic ones sent.

A customer counts for each of its account managers (two managers: both count it in full), and a
customer nobody manages for ``NOBODY``. An action a person does (a task or a call, an email a person
sent) counts for its owner, or — before it has one (planned) — for its customer's managers. Days are
the organization's: the caller turns stored times into its dates. See docs/analytics.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from relance.domain.actions import ActionStatus
from relance.domain.analytics.history import InvoiceHistory, MoneyHistory, MoneyKind
from relance.domain.analytics.receivables import balances_on
from relance.domain.workflows import ActionType

NOBODY = "none"
"""The row of the customers no account manager manages (and of what no one owns)."""

PENDING = (ActionStatus.PLANNED, ActionStatus.OPEN)
"""A task or call still to do: planned (its day not come, or not opened yet) or open (waiting for a person)."""
CLOSED = (ActionStatus.DONE, ActionStatus.SKIPPED)
"""What a person closes a task or call with."""
SENT = (ActionStatus.SENT, ActionStatus.TO_POST)
"""An email or text that went, a letter written for the post."""


@dataclass(frozen=True)
class ActionHistory:
    """An action as the team figures see it, its stored times already turned into the organization's days.

    ``manual`` marks an email a person sent (out of the blue, or a reply), not one of a workflow;
    ``closed_on`` is the day a person completed or skipped it (None when nobody did: an action the
    dunning skipped by itself, e.g. once the invoice was paid, was no one's choice).
    """

    id: str
    customer_id: str
    type: ActionType
    status: str
    scheduled_on: date
    owner: str | None = None
    manual: bool = False
    performed_on: date | None = None
    closed_on: date | None = None

    @property
    def by_a_person(self) -> bool:
        """A task or call, or an email a person sent: a person's action, not the workflow's."""
        return self.type.is_manual or self.manual

    def overdue_on(self, day: date) -> bool:
        """A task or call past its day at the end of ``day`` and not closed by then."""
        if not self.type.is_manual or self.scheduled_on >= day:
            return False
        if self.status in PENDING:
            return True
        return self.status in CLOSED and self.closed_on is not None and self.closed_on > day


@dataclass(frozen=True)
class TeamActivity:
    """One person's figures (a user id, or ``NOBODY``); amounts per currency."""

    person: str
    overdue_held: dict[str, int] = field(default_factory=dict)
    collected: dict[str, int] = field(default_factory=dict)
    manual_done: int = 0
    manual_skipped: int = 0
    manual_overdue: int = 0
    automatic_sent: int = 0


def _within(day: date | None, first: date, last: date) -> bool:
    return day is not None and first <= day <= last


@dataclass
class _Counts:
    """Per person: tasks and calls done (and emails a person sent), skipped, overdue; automatic sent."""

    done: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    overdue: dict[str, int] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def add(persons: Iterable[str], tally: dict[str, int]) -> None:
        for person in persons:
            tally[person] = tally.get(person, 0) + 1

    def people(self) -> set[str]:
        return {*self.done, *self.skipped, *self.overdue, *self.sent}


def _count_actions(
    owners: Mapping[str, tuple[str, ...]], actions: Iterable[ActionHistory], first: date, last: date
) -> _Counts:
    counts = _Counts()
    for action in actions:
        managers = owners.get(action.customer_id)
        if managers is None:
            continue
        if not action.by_a_person:
            if action.status in SENT and _within(action.performed_on, first, last):
                counts.add(managers, counts.sent)
            continue
        persons = (action.owner,) if action.owner else managers
        if action.type.is_manual:
            if action.status in CLOSED and _within(action.closed_on, first, last):
                counts.add(persons, counts.done if action.status == ActionStatus.DONE else counts.skipped)
            if action.overdue_on(last):
                counts.add(persons, counts.overdue)
        elif action.status in SENT and _within(action.performed_on, first, last):
            counts.add(persons, counts.done)
    return counts


def team_activity(
    managers: Mapping[str, Sequence[str]],
    invoices: Iterable[InvoiceHistory],
    money: Iterable[MoneyHistory],
    actions: Iterable[ActionHistory],
    first: date,
    last: date,
    people: Iterable[str] = (),
) -> dict[str, TeamActivity]:
    """Each person's activity from ``first`` to ``last`` (both included), for the customers of
    ``managers`` (customer id → its account managers' ids; what belongs to another customer is left out).

    - overdue held: the overdue balance (``balances_on``) of their customers at the end of ``last``;
    - collected: payments their customers made in the range (credit notes and refunds bring no cash);
    - manual done: tasks and calls completed in the range, and emails a person sent in it;
    - manual skipped: tasks and calls a person skipped in the range;
    - manual overdue: tasks and calls past their day at the end of ``last`` and not closed by then;
    - automatic sent: a workflow's emails, letters and texts that went to their customers in the range.

    Every person of ``people`` has a row, even with nothing to show, and so has every manager of a
    customer and anyone the figures name; the rows are in the order of the persons' ids.
    """
    if first > last:
        raise ValueError("the range ends before it starts")
    owners = {customer: tuple(ids) or (NOBODY,) for customer, ids in managers.items()}
    invoices_of: dict[str, list[InvoiceHistory]] = {}
    for invoice in invoices:
        for person in owners.get(invoice.customer_id, ()):
            invoices_of.setdefault(person, []).append(invoice)
    collected: dict[str, dict[str, int]] = {}
    for record in money:
        if record.kind == MoneyKind.PAYMENT and _within(record.on, first, last):
            for person in owners.get(record.customer_id, ()):
                sums = collected.setdefault(person, {})
                sums[record.currency] = sums.get(record.currency, 0) + record.amount
    counts = _count_actions(owners, actions, first, last)
    named = {*people, *(p for persons in owners.values() for p in persons), *counts.people()}
    rows = {}
    for person in sorted(named):
        balances = balances_on(invoices_of.get(person, []), (), last).values()
        rows[person] = TeamActivity(
            person,
            overdue_held={b.currency: b.overdue for b in balances if b.overdue},
            collected=collected.get(person, {}),
            manual_done=counts.done.get(person, 0),
            manual_skipped=counts.skipped.get(person, 0),
            manual_overdue=counts.overdue.get(person, 0),
            automatic_sent=counts.sent.get(person, 0),
        )
    return rows
