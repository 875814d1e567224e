"""Customers: create, change, upsert by external id, delete, read, list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import Field, StringConstraints, TypeAdapter, ValidationError

from relance import clock
from relance.domain.base import RelanceModel
from relance.domain.customers import Customer, CustomerFields, CustomerPatch, CustomerRecord, ExternalId, aging
from relance.domain.ledger import OpenItem, balances
from relance.domain.money import CurrencyCode, SignedAmount
from relance.domain.organizations import Organization, Principal
from relance.domain.rating import RatingBasis
from relance.errors import Conflict, Invalid, NotFound, RelanceError
from relance.ids import new_id
from relance.services import custom_fields, synced_fields, timeline
from relance.services.access import can_see, customer_item, require_admin
from relance.services.nudges import nudge
from relance.services.organizations import get_organization
from relance.services.pagination import check_limit, decode_cursor, encode_cursor, paginate
from relance.storage import contacts as contact_store
from relance.storage import customers as store
from relance.storage import keys
from relance.storage import ledger as ledger_store
from relance.storage import records as workflow_store
from relance.storage import users as user_store
from relance.storage.table import TransactionCancelled, delete, transact

TRANSACTION_ITEMS = 100  # the most one DynamoDB TransactWriteItems takes
SORTS = {
    "name",
    "externalId",
    "createdAt",
    "outstanding",
    "overdue",
    "rating",
    "averagePaymentDelayDays",
    "lastReminderAt",
    "nextActionAt",
}
NUMERIC_SORTS = {"outstanding", "overdue", "averagePaymentDelayDays"}
EXTERNAL_ID: TypeAdapter[str] = TypeAdapter(ExternalId)


def to_customer(item: dict[str, Any], today: date | None = None) -> Customer:
    """The customer as answered, with outstanding and overdue worked out from its open items."""
    today = today or clock.now().date()
    open_items = [OpenItem.model_validate(v) for v in item.get("openItems", {}).values()]
    credit = {c: int(v) for c, v in item.get("credit", {}).items()}
    by_currency = balances(open_items, credit, today)
    buckets = frozenset((i.currency, aging(i.due_at, today)) for i in open_items if i.outstanding > 0)
    return Customer.model_validate(
        {
            **item,
            "outstanding": {c: b.outstanding for c, b in by_currency.items() if b.outstanding},
            "overdue": {c: b.overdue for c, b in by_currency.items() if b.overdue},
            "rating": item.get("rating"),
            "averagePaymentDelayDays": item.get("averagePaymentDelayDays"),
            "overdueAwareDelayDays": item.get("overdueAwareDelayDays"),
            "ratingBasis": item.get("ratingBasis", RatingBasis.PAID),
            "ratingDrivers": item.get("ratingDrivers", []),
            "lastReminderAt": item.get("lastReminderAt"),
            "collectionPaused": item.get("collectionPaused", False),
            "mainContactId": item.get("mainContactId"),
            "externalId": item.get("externalId"),
            "dunningPlanId": item.get("dunningPlanId"),
            # A null written before the API refused it reads as empty, so one item cannot break a list.
            "accountManagerIds": item.get("accountManagerIds") or [],
            "customFields": item.get("customFields") or {},
            "tags": item.get("tags") or [],
        }
    ).with_aging(buckets)


def customer_record_of(principal: Principal, customer_id: str, *, consistent: bool = False) -> CustomerRecord:
    """The stored customer, as a record, if the principal may see it, else 404."""
    return CustomerRecord.model_validate(customer_item(principal, customer_id, consistent=consistent))


def check_can_see_customer(principal: Principal, customer_id: str) -> None:
    """404 unless the customer exists and the principal may see it: the access check, the item unused."""
    customer_item(principal, customer_id)


def get_customer(principal: Principal, customer_id: str) -> Customer:
    return to_customer(customer_item(principal, customer_id))


def check_references(principal: Principal, fields: dict[str, Any]) -> None:
    org_id = principal.organization_id
    unknown = [u for u in fields.get("accountManagerIds") or [] if user_store.get_user(org_id, u) is None]
    if unknown:
        raise Invalid("unknown account manager", {"accountManagerIds": f"no such user: {', '.join(unknown)}"})
    if fields.get("customFields"):
        custom_fields.validate_values(org_id, fields["customFields"])
    if fields.get("timezone") and fields["timezone"] not in available_timezones():
        raise Invalid("unknown time zone", {"timezone": "an IANA time zone such as Europe/Paris"})
    if fields.get("dunningPlanId") and workflow_store.get(keys.workflow(org_id, fields["dunningPlanId"])) is None:
        raise Invalid("unknown workflow", {"dunningPlanId": "no such workflow"})


def claim_errors(error: TransactionCancelled, external_id: str | None) -> RelanceError:
    """Why a customer's write was cancelled: its external id is taken, or it changed meanwhile."""
    if "ConditionalCheckFailed" in error.reasons[1:] and external_id:
        return Conflict("externalId is already used by another customer", {"externalId": "already used"})
    return Conflict("the customer changed meanwhile: try again")


def new_customer_item(organization: Organization, fields: CustomerFields, now: str) -> dict[str, Any]:
    """A new customer as stored: its fields, the organization's defaults, and an empty ledger state."""
    data = fields.model_dump(by_alias=True, mode="json")
    return {
        **data,
        "id": new_id("cus"),
        "currency": data["currency"] or organization.settings.default_currency,
        "language": data["language"] or organization.settings.language,
        "nameLower": data["name"].lower(),
        "openItems": {},
        "credit": {},
        "ledgerVersion": 0,
        "ratingBasis": organization.settings.rating_basis.value,
        "collectionPaused": False,
        "createdAt": now,
        "updatedAt": now,
    }


def create_customer(principal: Principal, fields: CustomerFields) -> Customer:
    require_admin(principal)
    check_references(principal, fields.model_dump(by_alias=True, mode="json"))
    item = new_customer_item(get_organization(principal.organization_id), fields, clock.now().isoformat())
    try:
        transact(store.create_entries(principal.organization_id, item))
    except TransactionCancelled as error:
        raise claim_errors(error, item.get("externalId")) from error
    if item.get("dunningPlanId"):
        nudge(principal.organization_id, item["id"])
    return to_customer(item)


def update_customer(principal: Principal, customer_id: str, patch: CustomerPatch) -> Customer:
    require_admin(principal)
    before = customer_item(principal, customer_id, consistent=True)
    changes = patch.model_dump(by_alias=True, mode="json", exclude_unset=True)
    synced_fields.check_change(principal, before, changes)
    cleared = [k for k in ("name", "currency", "language", "paymentMethods") if k in changes and changes[k] is None]
    if cleared:
        raise Invalid("these fields cannot be cleared", dict.fromkeys(cleared, "required"))
    check_references(principal, changes)
    now = clock.now().isoformat()
    written = {k: v for k, v in changes.items() if before.get(k) != v}  # only what changes is written
    if "name" in written:
        written["nameLower"] = written["name"].lower()
    written["updatedAt"] = now
    after = {**before, **written}
    told = []
    if before.get("dunningPlanId") != after.get("dunningPlanId"):
        told = timeline.record_entries(
            principal.organization_id,
            customer_id,
            [],
            "event",
            now,
            new_id("evt"),
            {
                "event": "workflow_changed",
                "from": before.get("dunningPlanId"),
                "to": after.get("dunningPlanId"),
                "by": principal.principal_id,
            },
        )
    try:
        transact([*store.update_entries(principal.organization_id, before, written), *told])
    except TransactionCancelled as error:
        raise claim_errors(error, after.get("externalId")) from error
    if any(before.get(k) != after.get(k) for k in ("dunningPlanId", "timezone", "accountManagerIds")):
        nudge(principal.organization_id, customer_id)  # another workflow, window or assignee
    return to_customer(store.get_customer(principal.organization_id, customer_id, consistent=True) or after)


def upsert_by_external_id(principal: Principal, external_id: str, fields: CustomerFields) -> tuple[Customer, bool]:
    """Create the customer with this external id, or replace its fields; True when created."""
    require_admin(principal)
    try:  # the path's external id follows the body's rule
        external_id = EXTERNAL_ID.validate_python(external_id)
    except ValidationError as error:
        raise Invalid("invalid externalId in the path", {"externalId": error.errors()[0]["msg"]}) from error
    if fields.external_id not in (None, external_id):
        raise Invalid("externalId differs from the path", {"externalId": f"must be {external_id}"})
    fields = fields.model_copy(update={"external_id": external_id})
    existing = store.customer_id_by_external_id(principal.organization_id, external_id)
    if existing is None:
        return create_customer(principal, fields), True
    patch = CustomerPatch.model_validate(fields.model_dump(by_alias=True, exclude_unset=True))
    return update_customer(principal, existing, patch), False


def delete_customer(principal: Principal, customer_id: str) -> None:
    """Delete a customer that has no ledger; one with invoices or money is kept (409).

    Its contacts go with it (and so their GSI2 entries, by which inbound mail finds a sender):
    mail from them afterwards is unmatched, never matched to a customer that is no more. The first
    contacts are deleted in the customer's transaction, any beyond what one transaction takes after it.
    """
    require_admin(principal)
    item = customer_item(principal, customer_id, consistent=True)
    synced_fields.check_managed(principal, item, "customer")
    org_id = principal.organization_id
    if any(ledger_store.records_of(org_id, customer_id, kind) for kind in ("invoice", "payment", "credit_note")):
        raise Conflict("the customer has invoices or payments: void them instead of deleting the customer")
    entries = store.delete_entries(org_id, item)
    contact_ids = [c["id"] for c in contact_store.contacts_of(org_id, customer_id)]
    together = contact_ids[: TRANSACTION_ITEMS - len(entries)]
    transact(entries + [delete(keys.contact(org_id, contact_id)) for contact_id in together])
    contact_store.delete_contacts(org_id, contact_ids[len(together) :])


# ---------------------------------------------------------------- listing


class CustomerFilter(RelanceModel):
    """Filters of the customer list (every column); also the filter of views, bulk and export."""

    q: str | None = Field(default=None, max_length=100)
    external_id: str | None = Field(default=None, max_length=100, description="equals; 'none': without one")
    account_manager_id: str | None = Field(default=None, description="'none' for customers without one")
    dunning_plan_id: str | None = None
    rating: list[Annotated[str, StringConstraints(pattern=r"^(A|B|C|D|none)$")]] = Field(default_factory=list)
    currency: CurrencyCode | None = None
    outstanding_min: SignedAmount | None = None
    outstanding_max: SignedAmount | None = None
    overdue_min: SignedAmount | None = Field(default=None, description="minor units, as outstandingMin")
    overdue_max: SignedAmount | None = None
    overdue: bool | None = None
    average_payment_delay_min: int | None = Field(default=None, ge=-3650, le=3650, description="days")
    average_payment_delay_max: int | None = Field(default=None, ge=-3650, le=3650)
    last_reminder_from: date | None = None
    last_reminder_to: date | None = None
    never_reminded: bool | None = None
    tags: list[Annotated[str, StringConstraints(max_length=50)]] = Field(default_factory=list, max_length=50)
    payment_methods: list[Literal["card", "bank_transfer", "ach_debit", "sepa_debit"]] = Field(
        default_factory=list, description="each of these is offered to the customer"
    )
    custom_fields: dict[str, Annotated[str, StringConstraints(max_length=500)]] = Field(
        default_factory=dict, description="equals; '' for empty"
    )
    collection_paused: bool | None = None
    collection_status: Literal["active", "paused", "none"] | None = Field(
        default=None, description="none: no workflow; paused; active: a workflow, not paused"
    )
    aging: Literal["not_due", "days_1_to_30", "days_31_to_60", "days_61_to_90", "over_90"] | None = Field(
        default=None, description="an open invoice (in currency, if given) is in this aging bucket today"
    )

    def matches(self, customer: Customer) -> bool:
        """Whether the customer passes every filter given (one not given passes all)."""
        return (
            self._names_match(customer)
            and self._amounts_match(customer)
            and self._delay_matches(customer)
            and self._reminder_matches(customer)
            and self._state_matches(customer)
            and self._labels_match(customer)
        )

    def _names_match(self, customer: Customer) -> bool:
        """The search text, external id, account manager, workflow and rating."""
        if self.q and self.q.lower() not in f"{customer.name} {customer.external_id or ''}".lower():
            return False
        if self.external_id is not None and (customer.external_id or "none") != self.external_id:
            return False
        if self.dunning_plan_id is not None and (customer.dunning_plan_id or "none") != self.dunning_plan_id:
            return False
        return self._manager_matches(customer) and (not self.rating or (customer.rating or "none") in self.rating)

    def _state_matches(self, customer: Customer) -> bool:
        """Overdue or not, collection paused or not, its status, an invoice in the aging bucket."""
        if self.overdue is not None and bool(customer.overdue) != self.overdue:
            return False
        if self.collection_paused is not None and customer.collection_paused != self.collection_paused:
            return False
        if self.collection_status is not None and collection_status(customer) != self.collection_status:
            return False
        return self.aging is None or customer.owes_in(self.aging, self.currency)

    def _labels_match(self, customer: Customer) -> bool:
        """Every tag, every payment method offered, every custom field value ('' for empty)."""
        if any(tag not in customer.tags for tag in self.tags):
            return False
        offered = customer.payment_methods.model_dump()
        if any(not offered.get(method) for method in self.payment_methods):
            return False
        return all(
            customer.custom_fields.get(k) in (None, "") if v == "" else str(customer.custom_fields.get(k)) == v
            for k, v in self.custom_fields.items()
        )

    def _manager_matches(self, customer: Customer) -> bool:
        if self.account_manager_id == "none":
            return not customer.account_manager_ids
        return not self.account_manager_id or self.account_manager_id in customer.account_manager_ids

    def _amounts_match(self, customer: Customer) -> bool:
        currency = self.currency or customer.currency
        outstanding, overdue = customer.outstanding.get(currency, 0), customer.overdue.get(currency, 0)
        return (
            (self.outstanding_min is None or outstanding >= self.outstanding_min)
            and (self.outstanding_max is None or outstanding <= self.outstanding_max)
            and (self.overdue_min is None or overdue >= self.overdue_min)
            and (self.overdue_max is None or overdue <= self.overdue_max)
        )

    def _delay_matches(self, customer: Customer) -> bool:
        delay = customer.average_payment_delay_days
        if self.average_payment_delay_min is not None and (delay is None or delay < self.average_payment_delay_min):
            return False
        return self.average_payment_delay_max is None or (delay is not None and delay <= self.average_payment_delay_max)

    def _reminder_matches(self, customer: Customer) -> bool:
        last = customer.last_reminder_at.date() if customer.last_reminder_at else None
        if self.never_reminded is not None and (last is None) != self.never_reminded:
            return False
        if self.last_reminder_from is not None and (last is None or last < self.last_reminder_from):
            return False
        return self.last_reminder_to is None or (last is not None and last <= self.last_reminder_to)


def collection_status(customer: Customer) -> str:
    """``none`` without a workflow, else ``paused`` or ``active``."""
    if not customer.dunning_plan_id:
        return "none"
    return "paused" if customer.collection_paused else "active"


def _sort_value(customer: Customer, sort: str) -> str | int | None:
    """The customer's value in column ``sort``, typed per column (str or int); None when it has none."""
    if sort == "name":
        return customer.name.lower()
    if sort in ("outstanding", "overdue"):
        return int(getattr(customer, sort).get(customer.currency, 0))
    if sort == "rating":
        return customer.rating
    if sort == "averagePaymentDelayDays":
        return customer.average_payment_delay_days
    if sort == "externalId":
        return customer.external_id.lower() if customer.external_id else None
    if sort == "nextActionAt":
        return customer.next_action.at.astimezone(UTC).isoformat() if customer.next_action else None
    moment = customer.created_at if sort == "createdAt" else customer.last_reminder_at
    return moment.astimezone(UTC).isoformat() if moment else None


def sort_key(column: str, descending: bool) -> Callable[[Customer], tuple[int, str | int, str]]:
    """The key of a sort on ``column``: customers without a value come last in either direction.

    ``(rank, value, id)``, rank ordering present before missing once the direction is applied,
    value typed per column (a missing one stands in as the column's zero, never compared with a
    present one), so the key is totally ordered and survives the cursor's JSON.
    """
    zero: str | int = 0 if column in NUMERIC_SORTS else ""

    def key(customer: Customer) -> tuple[int, str | int, str]:
        value = _sort_value(customer, column)
        missing = value is None
        return (int(missing != descending), zero if value is None else value, customer.id)

    return key


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def matching_customers(principal: Principal, filters: CustomerFilter) -> list[Customer]:
    """Every customer the principal may see that passes the filters (one Query of the list projection)."""
    today = clock.now().date()
    visible_items = (i for i in store.list_customers(principal.organization_id) if can_see(principal, i))
    return [c for c in (to_customer(i, today) for i in visible_items) if filters.matches(c)]


def check_sort(sort: str) -> tuple[str, bool]:
    """The column and direction of ``sort`` (``-`` first for descending); 422 for an unknown column."""
    column = sort.lstrip("-")
    if column not in SORTS:
        raise Invalid("unknown sort column", {"sort": f"one of {', '.join(sorted(SORTS))}, '-' for descending"})
    return column, sort.startswith("-")


def sorted_customers(rows: list[Customer], sort: str) -> list[Customer]:
    column, descending = check_sort(sort)
    return sorted(rows, key=sort_key(column, descending), reverse=descending)


def list_customers(
    principal: Principal,
    filters: CustomerFilter,
    sort: str = "name",
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Customer], str | None]:
    """One page of the customers the principal may see, filtered and sorted; and the next cursor.

    In name order (the default) the page reads GSI3 a batch at a time and stops once full; any other
    sort works on a column the ledger or the clock moves (outstanding, overdue...) and reads the list
    projection of every customer (docs/data-model.md, patterns 10 and 10b).
    """
    column, descending = check_sort(sort)
    if column == "name":
        return _page_in_name_order(principal, filters, descending, limit, cursor)
    rows = matching_customers(principal, filters)
    return paginate(rows, sort_key(column, descending), limit=limit, cursor=cursor, descending=descending)


def _page_in_name_order(
    principal: Principal, filters: CustomerFilter, descending: bool, limit: int, cursor: str | None
) -> tuple[list[Customer], str | None]:
    """The page of :func:`list_customers` in name order, with the same cursor as the sort in memory
    (``[rank, name lower case, id]``), so either can follow the other's."""
    check_limit(limit)
    after = _name_cursor(cursor, descending) if cursor else None
    today = clock.now().date()
    page: list[Customer] = []
    batches = store.customers_in_name_order(
        principal.organization_id, descending=descending, after=after, batch=max(2 * limit, 100)
    )
    for batch in batches:
        page += [c for c in (to_customer(i, today) for i in batch if can_see(principal, i)) if filters.matches(c)]
        if len(page) > limit:
            break
    key = sort_key("name", descending)
    next_cursor = encode_cursor(list(key(page[limit - 1]))) if len(page) > limit else None
    return page[:limit], next_cursor


def _name_cursor(cursor: str, descending: bool) -> tuple[str, str]:
    rank, *rest = decode_cursor(cursor)
    if rank != int(descending) or len(rest) != 2 or not isinstance(rest[0], str):
        raise Invalid("cursor does not fit this sort", {"cursor": "invalid for this sort"})
    return rest[0], rest[1]


def must_exist(principal: Principal, customer_id: str) -> dict[str, Any]:
    try:
        return customer_item(principal, customer_id)
    except NotFound as error:
        raise Invalid("unknown customer", {"customerId": "no such customer"}) from error
