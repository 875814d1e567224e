"""The customers list's state in its URL: filters, sort, page, columns — parsed and written back.

The URL holds the whole state (shareable; the back button restores it). Parameter names are the
API's (``/v1/customers``) where it has them; amounts are in major units (``overdueMin=1000`` is
1,000.00), converted with the chosen currency's decimals (two without one). Every filter becomes
a ``services.customers.CustomerFilter``: the web layer filters nothing itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from babel.numbers import get_currency_precision
from pydantic import ValidationError

from relance.domain.custom_fields import CustomFieldDefinition
from relance.errors import Invalid, validation_fields
from relance.services.customers import SORTS, CustomerFilter


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: str | None = None  # the list service's sort column
    numeric: bool = False


BASE_COLUMNS = (
    Column("name", "Name", "name"),
    Column("externalId", "External ID", "externalId"),
    Column("outstanding", "Outstanding", "outstanding", numeric=True),
    Column("overdue", "Overdue", "overdue", numeric=True),
    Column("rating", "Rating", "rating"),
    Column("averagePaymentDelayDays", "Avg. payment delay", "averagePaymentDelayDays", numeric=True),
    Column("lastReminderAt", "Last reminder", "lastReminderAt"),
    Column("nextAction", "Next action", "nextActionAt"),
    Column("accountManagers", "Account managers"),
    Column("workflow", "Workflow"),
    Column("collection", "Collection"),
    Column("tags", "Tags"),
    Column("paymentMethods", "Payment methods"),
)
DEFAULT_COLUMNS = (
    "name",
    "externalId",
    "outstanding",
    "overdue",
    "rating",
    "averagePaymentDelayDays",
    "lastReminderAt",
    "nextAction",
    "accountManagers",
    "workflow",
    "collection",
)
PAGE_SIZE = 50
AGING = {
    "not_due": "Not due yet",
    "days_1_to_30": "1–30 days past due",
    "days_31_to_60": "31–60 days past due",
    "days_61_to_90": "61–90 days past due",
    "over_90": "Over 90 days past due",
}
"""The aging buckets, as the list's filter and the analytics page name them."""
AMOUNTS = {
    "outstandingMin": "outstanding_min",
    "outstandingMax": "outstanding_max",
    "overdueMin": "overdue_min",
    "overdueMax": "overdue_max",
}
TEXTS = {
    "q": "q",
    "externalId": "external_id",
    "accountManagerId": "account_manager_id",
    "dunningPlanId": "dunning_plan_id",
    "currency": "currency",
    "collection": "collection_status",
    "aging": "aging",
    "delayMin": "average_payment_delay_min",
    "delayMax": "average_payment_delay_max",
    "reminderFrom": "last_reminder_from",
    "reminderTo": "last_reminder_to",
}
FLAGS = {"overdue": "overdue", "neverReminded": "never_reminded"}
LISTS = {"rating": "rating", "tag": "tags", "method": "payment_methods"}
STATE = ("sort", "cols", "view")
"""Parameters that are state but not filters."""


def columns_of(definitions: list[CustomFieldDefinition]) -> dict[str, Column]:
    """Every column the list can show: the fixed ones, then one per custom field (``cf.<key>``)."""
    columns = {c.key: c for c in BASE_COLUMNS}
    columns.update({f"cf.{d.key}": Column(f"cf.{d.key}", d.label) for d in definitions})
    return columns


@dataclass
class ListState:
    filter: CustomerFilter
    sort: str = "name"
    cursor: str | None = None
    columns: list[str] = field(default_factory=lambda: list(DEFAULT_COLUMNS))
    view: str | None = None
    values: dict[str, list[str]] = field(default_factory=dict)
    """The filter parameters as given (to fill the form in again and to write links)."""

    def has(self, name: str, value: str) -> bool:
        return value in self.values.get(name, [])

    def value(self, name: str) -> str:
        return (self.values.get(name) or [""])[0]

    @property
    def filtered(self) -> bool:
        return any(v for v in self.values.values())

    def url(self, **changes: Any) -> str:
        """``/customers?…`` of this state with ``changes`` (None removes a parameter; a new filter,
        sort or column set starts again at the first page)."""
        params: dict[str, list[str]] = {k: list(v) for k, v in self.values.items() if v}
        params["sort"] = [self.sort] if self.sort != "name" else []
        params["cols"] = [",".join(self.columns)] if self.columns != list(DEFAULT_COLUMNS) else []
        params["view"] = [self.view] if self.view else []
        for name, value in changes.items():
            key = name.replace("_", ".") if name.startswith("cf_") else name
            params[key] = [] if value is None else (value if isinstance(value, list) else [str(value)])
        if params.get("sort") == ["name"]:
            params["sort"] = []
        pairs = [(k, v) for k, values in params.items() for v in values if v != ""]
        return "/customers" + (f"?{urlencode(pairs)}" if pairs else "")


def to_minor(text: str, currency: str | None, name: str) -> int:
    """An amount typed in a form (``"1,000.50"``) in minor units of ``currency``; 422 naming ``name``."""
    try:
        amount = Decimal(text.replace(",", "").strip())
    except InvalidOperation as error:
        raise Invalid("please check the amounts", {name: "a number, e.g. 1000 or 1000.50"}) from error
    digits = int(get_currency_precision(currency)) if currency else 2
    minor = amount.scaleb(digits)
    if minor != minor.to_integral_value():
        raise Invalid("please check the amounts", {name: f"at most {digits} decimals"})
    return int(minor)


def parse(params: dict[str, list[str]], columns: dict[str, Column]) -> ListState:
    """The list's state from the query string; ``Invalid`` naming each parameter at fault."""
    first = {k: (v[0].strip() if v else "") for k, v in params.items()}
    values = {
        k: [x for x in v if x.strip()]
        for k, v in params.items()
        if k not in (*STATE, "cursor")
        and (k in TEXTS or k in AMOUNTS or k in FLAGS or k in LISTS or k.startswith("cf."))
    }
    fields = _filter_fields(params, first)
    try:
        filters = CustomerFilter.model_validate(fields)
    except ValidationError as error:
        raise Invalid("please check the filters", _parameters(validation_fields(error.errors()))) from error
    sort = first.get("sort") or "name"
    if params.get("col") is not None or "move" in first:  # the columns menu: its order, or one moved
        first["cols"] = ",".join(_menu_columns(params.get("col", []), first.get("move", ""), columns))
    if sort.lstrip("-") not in SORTS:
        raise Invalid("unknown sort column", {"sort": "not a column the list sorts on"})
    shown = [c for c in (first.get("cols") or "").split(",") if c in columns] or list(DEFAULT_COLUMNS)
    return ListState(
        filter=filters,
        sort=sort,
        cursor=first.get("cursor") or None,
        columns=shown,
        view=first.get("view") or None,
        values=values,
    )


def _filter_fields(params: dict[str, list[str]], first: dict[str, str]) -> dict[str, Any]:
    """The ``CustomerFilter`` fields the query string gives: texts, amounts (to minor units of the
    filter's currency), yes/no flags, lists (repeated or comma-separated), ``cf.<key>`` custom fields."""
    fields: dict[str, Any] = {}
    for name, target in TEXTS.items():
        if first.get(name):
            fields[target] = first[name]
    currency = first.get("currency") or None
    for name, target in AMOUNTS.items():
        if first.get(name):
            fields[target] = to_minor(first[name], currency, name)
    for name, target in FLAGS.items():
        if first.get(name) in ("yes", "no"):
            fields[target] = first[name] == "yes"
    for name, target in LISTS.items():
        chosen = [v.strip() for value in params.get(name, []) for v in value.split(",") if v.strip()]
        if chosen:
            fields[target] = chosen
    custom = {k[3:]: v for k, v in first.items() if k.startswith("cf.") and v}
    if custom:
        fields["custom_fields"] = {k: ("" if v == "(empty)" else v) for k, v in custom.items()}
    return fields


def _menu_columns(chosen: list[str], move: str, columns: dict[str, Column]) -> list[str]:
    """The columns the menu sent, in its order; ``move`` (``key:-1`` or ``key:1``) moves one."""
    shown = [c for c in chosen if c in columns]
    key, _, step = move.rpartition(":")
    if key in columns and key not in shown:
        shown.append(key)
    return moved(shown, key, int(step)) if key and step in ("-1", "1") else shown


_BY_FIELD = {target: name for mapping in (TEXTS, AMOUNTS, FLAGS, LISTS) for name, target in mapping.items()}


def _parameters(fields: dict[str, str]) -> dict[str, str]:
    """Validation errors named by the URL's parameters (``averagePaymentDelayMin`` → ``delayMin``)."""
    out = {}
    for name, message in fields.items():
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name.split(".")[0])
        out[_BY_FIELD.get(snake, name)] = message
    return out


def moved(columns: list[str], key: str, step: int) -> list[str]:
    """The column order with ``key`` moved ``step`` places (the keyboard's move up/down)."""
    if key not in columns:
        return columns
    order = list(columns)
    index = order.index(key)
    target = max(0, min(len(order) - 1, index + step))
    order.insert(target, order.pop(index))
    return order


def view_params(filters: CustomerFilter) -> dict[str, list[str]]:
    """A saved view's filter as the URL's parameters (the inverse of ``parse``)."""
    values = filters.model_dump(exclude_defaults=True)
    params: dict[str, list[str]] = {}
    for name, target in TEXTS.items():
        if values.get(target) is not None:
            params[name] = [str(values[target])]
    digits = int(get_currency_precision(filters.currency)) if filters.currency else 2
    for name, target in AMOUNTS.items():
        if values.get(target) is not None:
            params[name] = [to_major(int(values[target]), digits)]
    for name, target in FLAGS.items():
        if values.get(target) is not None:
            params[name] = ["yes" if values[target] else "no"]
    for name, target in LISTS.items():
        if values.get(target):
            params[name] = [str(v) for v in values[target]]
    for key, value in (values.get("custom_fields") or {}).items():
        params[f"cf.{key}"] = [value or "(empty)"]
    return params


def to_major(minor: int, digits: int) -> str:
    """Minor units as a form shows them: ``150000`` with 2 digits is ``"1500"``, ``150050`` is ``"1500.50"``."""
    amount = Decimal(minor).scaleb(-digits)
    return str(amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount)


def view_state(view: Any) -> ListState:
    """The list as a saved view shows it (``services.views.View``)."""
    return ListState(
        filter=view.filter,
        sort=view.sort,
        columns=[c.key for c in view.columns if c.visible] or list(DEFAULT_COLUMNS),
        view=view.id,
        values=view_params(view.filter),
    )
