"""What the web app's screens read, in as few DynamoDB requests as the data model allows.

Each screen is one or two services of its own, so the web layer never reaches into storage:
``list_page`` (the customers list) and ``customer_page`` (one customer with everything about it).
Names of people, workflows and views come from the organization's *directory*: one Query, since
their sort keys are neighbours (``storage.directory``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from relance import clock
from relance.concurrency import together
from relance.domain.actions import ActionStatus
from relance.domain.custom_fields import CustomFieldDefinition
from relance.domain.customers import Contact, Customer, CustomerRecord, Position
from relance.domain.ledger import Invoice, InvoiceStatus, MoneyRecord
from relance.domain.organizations import Organization, Principal
from relance.domain.timeline import EntryKind
from relance.domain.users import User
from relance.domain.workflows import ActionType, Workflow
from relance.errors import Invalid, NotFound
from relance.services import actions, authorship, dunning, timeline
from relance.services.access import customer_item, person_can_see, visible
from relance.services.actions import ForecastEntry
from relance.services.contacts import to_contact
from relance.services.customers import (
    CustomerFilter,
    check_can_see_customer,
    check_sort,
    list_customers,
    matching_customers,
    sort_key,
    to_customer,
)
from relance.services.ledger import to_invoice
from relance.services.pagination import paginate
from relance.services.views import View, visible_views
from relance.storage import actions as action_store
from relance.storage import directory as directory_store
from relance.storage import keys
from relance.storage import ledger as ledger_store
from relance.storage.table import plain


@dataclass(frozen=True)
class Directory:
    users: dict[str, User]
    workflows: dict[str, Workflow]
    views: list[View]
    custom_fields: list[CustomFieldDefinition]
    organization: Organization
    positions: list[Position]
    people: dict[str, tuple[str, str]]
    """Every reference to a user or a live API key → (name, initials): who did what on a timeline."""

    def user_name(self, user_id: str) -> str:
        user = self.users.get(user_id)
        return user.name if user else "(removed user)"

    def workflow_name(self, workflow_id: str | None) -> str:
        if not workflow_id:
            return ""
        workflow = self.workflows.get(workflow_id)
        return workflow.name if workflow else "(removed workflow)"

    @property
    def managers(self) -> list[User]:
        return sorted(self.users.values(), key=lambda u: u.name.lower())


def directory(principal: Principal) -> Directory:
    """The organization with its users, workflows, custom fields, positions and the saved views the
    principal sees: one Query (GSI3, the organization's directory)."""
    found = directory_store.directory(principal.organization_id)
    users = [User.model_validate(plain(i)) for i in found["USER"]]
    workflows = [Workflow.model_validate(plain(i)) for i in found["WF"]]
    views = visible_views(principal, [plain(i) for i in found["VIEW"]])
    if not found["ORG"]:
        raise NotFound("organization not found")
    return Directory(
        users={u.id: u.model_copy(update={"slack_webhook_url": None}) for u in users},
        workflows={w.id: w for w in sorted(workflows, key=lambda w: w.name.lower())},
        views=views,
        custom_fields=sorted(
            (CustomFieldDefinition.model_validate(plain(i)) for i in found["CF"]), key=lambda d: d.key
        ),
        organization=Organization.model_validate(plain(found["ORG"][0])),
        positions=sorted((Position.model_validate(plain(i)) for i in found["POS"]), key=lambda p: p.id),
        people=authorship.people(found["USER"], found["APIKEY"]),
    )


@dataclass(frozen=True)
class ListPage:
    rows: list[Customer]
    next_cursor: str | None
    matching: int | None
    """How many customers match; None when the page was read in name order, stopping once full (the
    count, which reads every customer, is :func:`count_matching`'s, asked for apart)."""
    directory: Directory


def list_page(
    principal: Principal,
    filters: CustomerFilter,
    sort: str,
    limit: int,
    cursor: str | None,
    known: Directory | None = None,
) -> ListPage:
    """A page of the customers list (as ``GET /v1/customers``: in name order a page of GSI3, otherwise
    the list projection of every customer, filtered and sorted in the function) and the directory."""
    column, descending = check_sort(sort)
    if column == "name":
        (rows, next_cursor), names = together(
            lambda: list_customers(principal, filters, sort, limit, cursor), lambda: known or directory(principal)
        )
        return ListPage(rows, next_cursor, None, names)
    matching, names = together(lambda: matching_customers(principal, filters), lambda: known or directory(principal))
    rows, next_cursor = paginate(
        matching, sort_key(column, descending), limit=limit, cursor=cursor, descending=descending
    )
    return ListPage(rows, next_cursor, len(matching), names)


def count_matching(principal: Principal, filters: CustomerFilter) -> int:
    """How many customers the principal may see match ``filters`` (the list projection of every customer)."""
    return len(matching_customers(principal, filters))


# ---------------------------------------------------------------- the customer page

UPCOMING_DAYS = 60
RECENT_ACTIONS = 20


@dataclass(frozen=True)
class CustomerPage:
    customer: Customer
    contacts: list[Contact]
    invoices: list[Invoice]
    payments: list[MoneyRecord]
    credit_notes: list[MoneyRecord]
    refunds: list[MoneyRecord]
    actions: list[dict[str, Any]]
    upcoming: list[ForecastEntry]
    pinned_notes: list[dict[str, Any]]
    positions: list[Position]
    organization: Organization
    directory: Directory
    item: dict[str, Any]
    """The customer as stored (visible to the principal)."""
    timeline: TimelinePage
    pending: list[dict[str, Any]]
    """The actions waiting for their moment (planned): a note may be written about each."""

    @property
    def open_invoices(self) -> list[Invoice]:
        return [i for i in self.invoices if i.status == InvoiceStatus.OPEN]

    def invoice_number(self, invoice_id: str) -> str:
        return next((i.number for i in self.invoices if i.id == invoice_id), invoice_id)

    def largest_open(self, currency: str) -> int:
        return sum(i.outstanding for i in self.open_invoices if i.currency == currency)


def customer_page(principal: Principal, customer_id: str, timeline_cursor: str | None = None) -> CustomerPage:
    """One customer with everything about it, in one round trip: a Query of its GSI1 partition (the
    customer itself, 404 unless visible, and everything filed under it), one of the organization's
    directory (settings, users, workflows, custom fields, positions) and one of its timeline, made
    together."""
    org_id = principal.organization_id
    today = clock.now().date()
    records, known, (entries, next_cursor) = together(
        lambda: directory_store.customer_records(org_id, customer_id),
        lambda: directory(principal),
        lambda: timeline.raw_page(
            org_id, keys.customer_subject(customer_id), limit=TIMELINE_PAGE, cursor=timeline_cursor
        ),
    )
    # (a customer written before it had its place in GSI1 is read apart, until the nightly run places it)
    item = visible(principal, records["CUS"][0]) if records.get("CUS") else customer_item(principal, customer_id)
    customer = to_customer(item, today)
    organization = known.organization
    contact_items = records.get("CON", [])
    invoice_items = records.get("INV", [])
    workflow = known.workflows.get(customer.dunning_plan_id or "")
    contacts = [to_contact(c, item.get("mainContactId")) for c in contact_items]
    now = clock.now()
    record = CustomerRecord.model_validate(item)
    upcoming = (
        actions.plan_ahead(
            record,
            workflow,
            dunning.open_invoices_among(invoice_items, today),
            dunning.window_of(organization, record),
            now,
            now + timedelta(days=UPCOMING_DAYS),
            contacts,
        )
        if workflow is not None
        else []
    )
    done = [a for a in records.get("ACT", []) if a.get("status") != ActionStatus.PLANNED]
    pending = sorted(
        (a for a in records.get("ACT", []) if a.get("status") == ActionStatus.PLANNED), key=lambda a: a["scheduledAt"]
    )
    return CustomerPage(
        customer=customer,
        contacts=contacts,
        invoices=sorted((to_invoice(i) for i in invoice_items), key=lambda i: (i.due_at, i.id), reverse=True),
        payments=_records(records.get("PAY", []), "payment"),
        credit_notes=_records(records.get("CRN", []), "credit_note"),
        refunds=_records(records.get("REF", []), "refund"),
        actions=sorted(done, key=lambda a: str(a.get("scheduledAt")), reverse=True)[:RECENT_ACTIONS],
        upcoming=upcoming,
        pinned_notes=[timeline.with_links(n) for n in reversed(records.get("PINNED", []))],
        positions=known.positions,
        organization=organization,
        directory=known,
        item=item,
        timeline=_timeline_page(
            timeline.paused_first(item, entries, timeline_cursor), next_cursor, records.get("ACT", []), known
        ),
        pending=pending,
    )


def _records(items: list[dict[str, Any]], kind: str) -> list[MoneyRecord]:
    return sorted(
        (MoneyRecord.model_validate({"kind": kind, **i}) for i in items), key=lambda r: r.created_at, reverse=True
    )


# ---------------------------------------------------------------- timelines

TIMELINE_PAGE = 25
DELIVERY = {
    "delivered": "received",
    "opened": "opened",
    "clicked": "clicked",
    "bounced": "failed",
    "complained": "blocked",
}


@dataclass(frozen=True)
class TimelinePage:
    """A page of a customer's (or an invoice's) timeline, newest first, and the cursor of the next.

    ``delivery`` is what became of each email of the page (received, opened, failed, blocked): the
    timeline keeps what was done, the action what its recipients' servers said since."""

    entries: list[dict[str, Any]]
    next_cursor: str | None
    delivery: dict[str, str]
    answers: dict[str, tuple[str, list[str]]]  # entry id -> the action a reply answers (replies.reply), to whom
    names: dict[str, str]  # user id -> name (mentions, authors)


def _timeline_page(
    entries: list[dict[str, Any]], next_cursor: str | None, action_items: list[dict[str, Any]], known: Directory
) -> TimelinePage:
    """A page of entries (as stored) as shown: people named from the directory, with what became of its
    emails and whom a reply answers, from the customer's actions as stored."""
    entries = timeline.present(known.organization.id, entries, known.people)
    delivery: dict[str, str] = {}
    answers: dict[str, tuple[str, list[str]]] = {}
    sent = {
        str(a["id"]): list(a.get("to", []))
        for a in action_items
        if a.get("type") == ActionType.EMAIL and a.get("status") == ActionStatus.SENT
    }
    tasks = {
        str(a["replyId"]): str(a["id"])
        for a in action_items
        if a.get("replyId") and a.get("status") == ActionStatus.OPEN
    }
    for action in action_items:
        status = action.get("deliveryStatus")
        if status in DELIVERY:
            delivery[str(action["id"])] = DELIVERY[str(status)]
    for entry in entries:
        entry_id = str(entry.get("id"))
        if entry.get("kind") == EntryKind.REPLY_IN:
            answered = str(entry.get("actionId"))
            if entry_id in tasks:
                answers[entry_id] = (tasks[entry_id], [str(entry.get("from"))])
            elif answered in sent:
                answers[entry_id] = (answered, sent[answered])
        elif entry.get("kind") == EntryKind.ACTION and entry_id in sent and entry.get("status") == ActionStatus.SENT:
            answers[entry_id] = (entry_id, sent[entry_id])
    return TimelinePage(entries, next_cursor, delivery, answers, {u.id: u.name for u in known.users.values()})


def action_of(principal: Principal, customer_id: str, action_id: str) -> dict[str, Any]:
    """One of the customer's actions (404 unless the customer is visible and the action is theirs)."""
    check_can_see_customer(principal, customer_id)
    action = action_store.get_action(principal.organization_id, action_id)
    if action is None or action.get("customerId") != customer_id:
        raise NotFound("action not found")
    return action


def customer_timeline(principal: Principal, customer_id: str, cursor: str | None = None) -> TimelinePage:
    """One page of the customer's timeline (404 unless visible), in one round trip: the customer, the
    page, the customer's actions (the emails' delivery) and the directory (names), read together."""
    org_id = principal.organization_id
    item, (entries, next_cursor), action_items, known = together(
        lambda: customer_item(principal, customer_id),
        lambda: timeline.raw_page(
            org_id, keys.customer_subject(customer_id), limit=TIMELINE_PAGE, cursor=cursor or None
        ),
        lambda: action_store.actions_of(org_id, customer_id),
        lambda: directory(principal),
    )
    return _timeline_page(timeline.paused_first(item, entries, cursor), next_cursor, action_items, known)


@dataclass(frozen=True)
class InvoicePage:
    invoice: Invoice
    customer: Customer
    dispute_reasons: list[str]
    names: dict[str, str]
    timeline: TimelinePage


def invoice_page(principal: Principal, invoice_id: str, timeline_cursor: str | None = None) -> InvoicePage:
    """One invoice (404 unless its customer is visible) with a page of its timeline, its customer, the
    organization's dispute reasons and the people's names, in two round trips: the invoice, its
    timeline and the directory together; then its customer and the customer's actions (the emails'
    delivery) together."""
    org_id = principal.organization_id
    item, (entries, next_cursor), known = together(
        lambda: ledger_store.get_invoice(org_id, invoice_id),
        lambda: timeline.raw_page(
            org_id, keys.invoice_subject(invoice_id), limit=TIMELINE_PAGE, cursor=timeline_cursor or None
        ),
        lambda: directory(principal),
    )
    if item is None:
        raise NotFound("invoice not found")
    customer_id = str(item["customerId"])
    try:
        customer, action_items = together(
            lambda: customer_item(principal, customer_id), lambda: action_store.actions_of(org_id, customer_id)
        )
    except NotFound as error:
        raise NotFound("invoice not found") from error
    page = _timeline_page(entries, next_cursor, action_items, known)
    return InvoicePage(
        invoice=to_invoice(item),
        customer=to_customer(customer, clock.now().date()),
        dispute_reasons=list(known.organization.settings.dispute_reasons),
        names=page.names,
        timeline=page,
    )


# ---------------------------------------------------------------- the collector's queue

QUEUE_LIMIT = 200
QUEUE_STATUSES = (ActionStatus.PLANNED, ActionStatus.SENT, ActionStatus.SKIPPED, ActionStatus.FAILED)


@dataclass(frozen=True)
class ActionQueue:
    rows: list[dict[str, Any]]  # actions with customerName and customerOverdue (per currency)
    next_cursor: str | None


QUEUE_ORDERS = ("overdue", "due")


@dataclass(frozen=True)
class TaskQueue(ActionQueue):
    directory: Directory
    takers: dict[str, list[User]]  # action id -> who may take it over (the customer's managers, admins)


def my_tasks(
    principal: Principal, action_type: str | None = None, workflow_id: str | None = None, order: str = "overdue"
) -> TaskQueue:
    """The signed-in person's open tasks, calls and Reply tasks — of customers under ``workflow_id`` when
    given — the customer owing most overdue first (amounts of every currency added up: an order, not a
    sum to show) or the longest due first (``order="due"``); with the directory and, per action, who
    may take it over. One round trip: customers, actions and the directory read together."""
    if order not in QUEUE_ORDERS:
        raise Invalid("unknown order", {"order": f"one of: {', '.join(QUEUE_ORDERS)}"})
    mine = actions.ActionFilter(status=ActionStatus.OPEN, type=_action_type(action_type), owner=principal.user_id)
    (found, customers), known = together(
        lambda: actions.matching_actions(principal, mine), lambda: directory(principal)
    )  # (matching_actions runs in this thread: its own reads go together too)
    if workflow_id:
        found = [a for a in found if customers[a["customerId"]].get("dunningPlanId") == workflow_id]
    today = clock.now().date()
    overdue = {a["customerId"]: dict(to_customer(customers[a["customerId"]], today).overdue) for a in found}
    rows = sorted(found, key=lambda a: (str(a["scheduledAt"]), str(a["id"])), reverse=True)[:QUEUE_LIMIT]
    shown = [{**a, "customerOverdue": overdue[a["customerId"]]} for a in rows]
    if order == "due":
        shown.sort(key=lambda a: (str(a.get("scheduledAt")), str(a["id"])))
    else:
        shown.sort(key=lambda a: (-sum(a["customerOverdue"].values()), str(a.get("scheduledAt"))))
    people = [(u, u.model_dump()) for u in known.managers]  # each person's record once, not once per action
    takers = {a["id"]: [u for u, record in people if person_can_see(record, customers[a["customerId"]])] for a in shown}
    return TaskQueue(shown, None, known, takers)


def all_actions(
    principal: Principal, status: str | None, action_type: str | None, cursor: str | None, limit: int = 50
) -> ActionQueue:
    """Actions of the customers one sees (planned, sent, skipped, failed…), newest scheduled first."""
    if status and status not in QUEUE_STATUSES:
        raise Invalid("unknown status", {"status": f"one of: {', '.join(QUEUE_STATUSES)}"})
    chosen = actions.ActionFilter(status=status or None, type=_action_type(action_type))
    rows, next_cursor = actions.list_actions(principal, chosen, limit, cursor)
    return ActionQueue(rows, next_cursor)


def _action_type(text: str | None) -> ActionType | None:
    if not text:
        return None
    if text not in {t.value for t in ActionType}:
        raise Invalid("unknown type", {"type": f"one of: {', '.join(t.value for t in ActionType)}"})
    return ActionType(text)
