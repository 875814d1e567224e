"""Team activity per account manager over a range of days (docs/analytics.md, "Team activity").

The books of ``services.analytics`` (the customers the caller sees, cut to the filters), every action
of the organization (the Query the To do page reads) and the directory (the people's names) are read
together; the figures are ``relance.domain.analytics.team``'s. An account manager gets their own row
only; an admin everyone's, with a row for the customers nobody manages.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from itertools import groupby
from typing import Any

from pydantic import Field

from relance.concurrency import together
from relance.domain.analytics.forecast import local_day
from relance.domain.analytics.history import MoneyKind
from relance.domain.analytics.team import NOBODY, ActionHistory, TeamActivity, team_activity
from relance.domain.base import RelanceModel
from relance.domain.organizations import Principal
from relance.domain.workflows import ActionType
from relance.errors import Invalid
from relance.services import workspace
from relance.services.analytics import MAX_DAYS, AnalyticsFilter, Books, books
from relance.services.authorship import API_KEY_PREFIX
from relance.storage import actions as action_store

NOBODY_NAME = "Nobody assigned"


class TeamRow(RelanceModel):
    account_manager_id: str | None = Field(description="the person's user id; null: the customers nobody manages")
    name: str = Field(description="the person's name ('Nobody assigned' for null)")
    currency: str
    overdue_held: int = Field(description="overdue balance of their customers at the end of `to`")
    collected: int = Field(description="payments their customers made from `from` to `to`")
    manual_done: int = Field(description="tasks and calls they completed, emails they sent (every currency line)")
    manual_skipped: int = Field(description="tasks and calls they skipped (every currency line)")
    manual_overdue: int = Field(description="their tasks and calls past their day at the end of `to` (every line)")
    automatic_sent: int = Field(description="workflow emails, letters and texts sent to their customers (every line)")


class TeamReport(RelanceModel):
    from_: date = Field(alias="from")
    to: date
    timezone: str
    items: list[TeamRow] = Field(
        description="one line per person and currency; the action counts are the person's, on each of their lines"
    )

    def by_person(self) -> list[list[TeamRow]]:
        """The lines grouped per person, in the report's order (a table's row per person)."""
        return [list(lines) for _, lines in groupby(self.items, key=lambda row: row.account_manager_id)]


def _day(value: Any, zone: tzinfo) -> date:
    """The organization's day of a stored time (ISO 8601 with its offset)."""
    return local_day(datetime.fromisoformat(str(value)), zone)


def _day_if(value: Any, zone: tzinfo) -> date | None:
    return _day(value, zone) if value else None


def _history(item: dict[str, Any], zone: tzinfo) -> ActionHistory:
    return ActionHistory(
        id=str(item["id"]),
        customer_id=str(item["customerId"]),
        type=ActionType(item["type"]),
        status=str(item["status"]),
        scheduled_on=_day(item["scheduledAt"], zone),
        owner=item.get("owner") or None,
        manual=bool(item.get("manual")),
        performed_on=_day_if(item.get("performedAt"), zone),
        closed_on=_day_if(item.get("closedAt"), zone),
    )


def _range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """``from`` (default: the 1st of the month of ``to``) and ``to`` (default: today), checked."""
    last = last or today
    first = first or last.replace(day=1)
    if last > today:
        raise Invalid("to must be on or before today", {"to": "on or before today"})
    if first > last:
        raise Invalid("from must be on or before to", {"from": "on or before to"})
    if (last - first).days > MAX_DAYS:
        raise Invalid(
            f"from and to may be at most {MAX_DAYS} days apart", {"from": f"at most {MAX_DAYS} days before to"}
        )
    return first, last


def team(principal: Principal, scope: AnalyticsFilter, first: date | None, last: date | None) -> TeamReport:
    """Each person's activity from ``first`` to ``last`` (default: this month so far, in the organization's
    time zone) over the customers the caller sees that ``scope`` keeps; ``scope.account_manager_id``
    keeps that person's row (their customers, counted whoever else manages them too)."""
    everyone = scope.model_copy(update={"account_manager_id": None})
    ledger, stored, known = together(
        lambda: books(principal, everyone),
        lambda: action_store.actions_of_organization(principal.organization_id),
        lambda: workspace.directory(principal),
    )  # (books runs in this thread: its own reads go together too)
    first, last = _range(first, last, ledger.today)
    actions = [
        _history(item, ledger.zone)
        for item in stored
        if item["customerId"] in ledger.customers and not str(item.get("owner") or "").startswith(API_KEY_PREFIX)
    ]  # an email sent through an API key is an integration's, no person's
    people = {u.id for u in known.users.values() if u.role == "account_manager"} | {NOBODY}
    if scope.account_manager_id:
        people.add(scope.account_manager_id)
    if not principal.is_admin and principal.user_id:
        people.add(principal.user_id)
    rows = team_activity(
        {customer_id: c.get("accountManagerIds") or [] for customer_id, c in ledger.customers.items()},
        ledger.invoices,
        ledger.money,
        actions,
        first,
        last,
        people,
    )
    kept = set(rows)
    if not principal.is_admin:
        kept &= {principal.user_id or ""}
    if scope.account_manager_id:
        kept &= {scope.account_manager_id}
    currencies = [scope.currency] if scope.currency else _currencies(ledger)
    lines = [
        _line(rows[person], NOBODY_NAME if person == NOBODY else known.user_name(person), currency)
        for person in sorted(kept, key=lambda p: (p == NOBODY, known.user_name(p).lower(), p))
        for currency in currencies
    ]
    return TeamReport(from_=first, to=last, timezone=ledger.settings.timezone, items=lines)


def _currencies(ledger: Books) -> list[str]:
    """The currencies of the books' invoices and payments (the organization's when there are none)."""
    found = {i.currency for i in ledger.invoices} | {m.currency for m in ledger.money if m.kind == MoneyKind.PAYMENT}
    return sorted(found) or [ledger.settings.default_currency]


def _line(row: TeamActivity, name: str, currency: str) -> TeamRow:
    return TeamRow(
        account_manager_id=None if row.person == NOBODY else row.person,
        name=name,
        currency=currency,
        overdue_held=row.overdue_held.get(currency, 0),
        collected=row.collected.get(currency, 0),
        manual_done=row.manual_done,
        manual_skipped=row.manual_skipped,
        manual_overdue=row.manual_overdue,
        automatic_sent=row.automatic_sent,
    )
