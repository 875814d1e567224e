"""The analytics figures of an organization, as the caller may see them (docs/analytics.md).

The ledger is read whole (every invoice, payment, credit note and refund of the organization:
one Query per kind) and cut down to the customers the caller sees (``access.can_see``: an account
manager's figures cover only their customers) and the filters asked for; the figures are the pure
functions of ``relance.domain.analytics``. Payments of paid portal checkouts are ``online``. Every
report is per currency; the summary also converts the balances into the organization's currency with
the stored exchange rates (``services.exchange_rates``), never adding a currency without a rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from relance import clock
from relance.concurrency import together
from relance.domain.analytics.collected import Period, collected
from relance.domain.analytics.dso import at_risk_by_month, dso_by_month
from relance.domain.analytics.forecast import WEEKS, accuracy, forecast, local_day
from relance.domain.analytics.history import (
    InvoiceHistory,
    MoneyHistory,
    Month,
    invoice_histories,
    money_histories,
)
from relance.domain.analytics.rates import Rate
from relance.domain.analytics.ratings import LETTERS, UNRATED, ratings_by_month, ratings_on
from relance.domain.analytics.receivables import BUCKETS, aging_by, balances_on
from relance.domain.base import RelanceModel
from relance.domain.ledger import MoneyRecord
from relance.domain.organizations import OrganizationSettings, Principal
from relance.errors import Invalid
from relance.services import exchange_rates
from relance.services.access import can_see
from relance.services.ledger import to_invoice
from relance.services.online_payments import payment_id
from relance.services.organizations import get_organization
from relance.storage import analytics as snapshot_store
from relance.storage import checkouts as checkout_store
from relance.storage import customers as customer_store
from relance.storage import ledger as ledger_store

MONTHS = 12
MAX_DAYS = 3 * 366
"""The longest range ``collected`` lists (a day per row at most ~1,100 rows per currency)."""
NONE = "none"


class AnalyticsFilter(RelanceModel):
    """The customers and currency a figure covers (within what the caller sees)."""

    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="only this currency")
    account_manager_id: str | None = Field(default=None, description="customers this user manages ('none': nobody)")
    dunning_plan_id: str | None = Field(default=None, description="customers on this workflow ('none': no workflow)")
    custom_field: list[str] = Field(
        default_factory=list, description="key:value, the customer's custom field equals ('key:' for empty)"
    )

    @field_validator("custom_field")
    @classmethod
    def _key_value(cls, values: list[str]) -> list[str]:
        for value in values:
            if ":" not in value or not value.split(":", 1)[0]:
                raise ValueError("key:value")
        return values

    def matches(self, customer: dict[str, Any]) -> bool:
        managers = customer.get("accountManagerIds") or []
        if self.account_manager_id == NONE and managers:
            return False
        if self.account_manager_id not in (None, NONE) and self.account_manager_id not in managers:
            return False
        if self.dunning_plan_id is not None and (customer.get("dunningPlanId") or NONE) != self.dunning_plan_id:
            return False
        fields = customer.get("customFields") or {}
        for pair in self.custom_field:
            key, value = pair.split(":", 1)
            if _text(fields.get(key)) != value:
                return False
        return True


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Books:
    """The ledger as the figures read it, cut to the caller's customers and the filter."""

    customers: dict[str, dict[str, Any]]
    invoices: list[InvoiceHistory]
    money: list[MoneyHistory]
    settings: OrganizationSettings
    now: datetime
    rates: tuple[Rate, ...] = ()
    """The exchange rates into the organization's currency (the summary's conversion)."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    @property
    def today(self) -> date:
        """Today in the organization's time zone."""
        return local_day(self.now, self.zone)

    @property
    def currencies(self) -> list[str]:
        return sorted({i.currency for i in self.invoices})

    def of_customers(self, keep: Callable[[dict[str, Any]], bool]) -> Books:
        """These books cut down to the customers ``keep`` keeps."""
        customers = {k: c for k, c in self.customers.items() if keep(c)}
        return Books(
            customers=customers,
            invoices=[i for i in self.invoices if i.customer_id in customers],
            money=[m for m in self.money if m.customer_id in customers],
            settings=self.settings,
            now=self.now,
            rates=self.rates,
        )


def books(principal: Principal, scope: AnalyticsFilter) -> Books:
    """Every invoice and money record of the customers ``principal`` sees that ``scope`` keeps: the
    organization's customers, invoices, payments, credit notes, refunds, paid checkouts and settings,
    read together (one round trip, more pages for a large organization)."""
    org_id = principal.organization_id

    def records(kind: str) -> Callable[[], list[dict[str, Any]]]:
        return lambda: ledger_store.records_of_organization(org_id, kind)

    def paid_checkouts() -> list[str]:
        return checkout_store.paid_checkout_ids(org_id)

    (payments, credit_notes, refunds, paid), customer_items, invoice_items, organization, rates = together(
        lambda: together(
            records("payment"),
            records("credit_note"),
            records("refund"),
            lambda: checkout_store.paid_checkout_ids(org_id),
        ),
        lambda: customer_store.list_customers(org_id),
        lambda: ledger_store.invoices_of_organization(org_id),
        lambda: get_organization(org_id),
        lambda: exchange_rates.stored_rates(org_id),
    )  # (the first runs in this thread: its own reads go together too)
    customers = {c["id"]: c for c in customer_items if can_see(principal, c) and scope.matches(c)}

    def kept(item: dict[str, Any]) -> bool:
        return item["customerId"] in customers and scope.currency in (None, item["currency"])

    invoices = [to_invoice(i) for i in invoice_items if kept(i)]
    money_records = [
        MoneyRecord.model_validate({"kind": kind, **item})
        for kind, items in (("payment", payments), ("credit_note", credit_notes), ("refund", refunds))
        for item in items
        if kept(item)
    ]
    online = {payment_id(checkout_id) for checkout_id in paid}
    return Books(
        customers=customers,
        invoices=invoice_histories(invoices, money_records),
        money=money_histories(money_records, online),
        settings=organization.settings,
        now=clock.now(),
        rates=exchange_rates.usable_rates(rates, organization.settings.default_currency),
    )


def parse_month(value: str | None, today: date, name: str = "month") -> Month:
    if value is None:
        return Month.of(today)
    try:
        return Month.of(date.fromisoformat(f"{value}-01"))
    except ValueError:
        raise Invalid(f"{name} must be a month, YYYY-MM", {name: "a month, YYYY-MM"}) from None


def _first_month(last: Month) -> Month:
    """The first of the ``MONTHS`` months ending with ``last``."""
    return next(iter(last.back(MONTHS)))


# ---------------------------------------------------------------- summary


class BalanceRow(RelanceModel):
    currency: str
    due: int = Field(description="open balance of invoices not yet past due")
    overdue: int = Field(description="open balance of invoices past due")
    credit: int = Field(description="unapplied payments and credit notes, less refunds")
    outstanding: int = Field(description="due + overdue - credit")


class SummaryReport(RelanceModel):
    as_of: date
    organization_currency: str
    converted: bool = Field(
        default=False, description="every currency had a rate on or before asOf: conversion has its totals"
    )
    items: list[BalanceRow]
    conversion: exchange_rates.Conversion | None = Field(
        default=None, description="the balances in the organization's currency, with the rate and its date used"
    )


def summary(
    principal: Principal, scope: AnalyticsFilter, as_of: date | None = None, ledger: Books | None = None
) -> SummaryReport:
    ledger = ledger or books(principal, scope)
    day = as_of or ledger.today
    rows = [
        BalanceRow(currency=b.currency, due=b.due, overdue=b.overdue, credit=b.credit, outstanding=b.outstanding)
        for b in balances_on(ledger.invoices, ledger.money, day).values()
    ]
    report = SummaryReport(as_of=day, organization_currency=ledger.settings.default_currency, items=rows)
    return converted(report, ledger.rates)


def converted(report: SummaryReport, rates: tuple[Rate, ...]) -> SummaryReport:
    """``report`` with its balances converted into the organization's currency at ``rates``."""
    balances = {r.currency: r.model_dump(include=set(exchange_rates.FIGURES)) for r in report.items}
    conversion = exchange_rates.conversion(balances, rates, report.organization_currency, report.as_of)
    return report.model_copy(update={"converted": conversion.complete, "conversion": conversion})


# ---------------------------------------------------------------- aging


class AgingRow(RelanceModel):
    group: str | None = Field(description="the value of ``by`` (null without ``by``)")
    currency: str
    not_due: int
    days_1_to_30: int = Field(alias="days1To30")
    days_31_to_60: int = Field(alias="days31To60")
    days_61_to_90: int = Field(alias="days61To90")
    over_90: int = Field(alias="over90")
    total: int
    not_due_percent: float
    days_1_to_30_percent: float = Field(alias="days1To30Percent")
    days_31_to_60_percent: float = Field(alias="days31To60Percent")
    days_61_to_90_percent: float = Field(alias="days61To90Percent")
    over_90_percent: float = Field(alias="over90Percent")


class AgingReport(RelanceModel):
    as_of: date
    by: str | None
    items: list[AgingRow]


def _group_key(ledger: Books, by: str | None, day: date) -> Callable[[InvoiceHistory], str]:
    """The group of an invoice, from its customer: account managers (several joined by ','), workflow,
    rating as of ``day`` or a custom field's value; 'none' (or 'unrated') when the customer has none."""
    customer = ledger.customers
    if by is None:
        return lambda i: ""
    if by == "accountManager":
        return lambda i: ",".join(sorted(customer[i.customer_id].get("accountManagerIds") or [])) or NONE
    if by == "workflow":
        return lambda i: customer[i.customer_id].get("dunningPlanId") or NONE
    if by == "rating":
        letters = ratings_on(ledger.invoices, day, ledger.settings.rating_basis)
        return lambda i: letters.get(i.customer_id) or UNRATED
    key = by.removeprefix("cf.")
    return lambda i: _text((customer[i.customer_id].get("customFields") or {}).get(key)) or NONE


def aging(
    principal: Principal,
    scope: AnalyticsFilter,
    as_of: date | None = None,
    by: str | None = None,
    ledger: Books | None = None,
) -> AgingReport:
    ledger = ledger or books(principal, scope)
    day = as_of or ledger.today
    rows = []
    for group, per_currency in aging_by(ledger.invoices, day, _group_key(ledger, by, day)).items():
        for currency, figure in per_currency.items():
            amounts, shares = figure.amounts, figure.percentages
            fields: dict[str, Any] = {"group": group if by else None, "currency": currency, "total": figure.total}
            fields.update({bucket: amounts[bucket] for bucket in BUCKETS})
            fields.update({f"{bucket}_percent": float(shares[bucket]) for bucket in BUCKETS})
            rows.append(AgingRow.model_validate(fields))
    return AgingReport(as_of=day, by=by, items=rows)


# ---------------------------------------------------------------- DSO and at-risk


class DsoRow(RelanceModel):
    month: str
    currency: str
    receivables: int
    billings: int
    countback_days: float
    classic_days: float | None = Field(description="null for a month with no billings")


class MonthlyReport(RelanceModel):
    first_month: str
    last_month: str


class DsoReport(MonthlyReport):
    items: list[DsoRow]


def dso(
    principal: Principal, scope: AnalyticsFilter, month: str | None = None, ledger: Books | None = None
) -> DsoReport:
    """Countback and classic DSO at each of the 12 month ends ending with ``month``, per currency."""
    ledger = ledger or books(principal, scope)
    last = parse_month(month, ledger.today)
    rows = [
        DsoRow(
            month=str(d.month),
            currency=currency,
            receivables=d.receivables,
            billings=d.billings,
            countback_days=float(d.countback_days),
            classic_days=None if d.classic_days is None else float(d.classic_days),
        )
        for currency in ledger.currencies
        for d in dso_by_month(ledger.invoices, currency, last, MONTHS)
    ]
    return DsoReport(first_month=str(_first_month(last)), last_month=str(last), items=rows)


class AtRiskRow(RelanceModel):
    month: str
    currency: str
    billed: int
    unpaid: int | None = Field(description="still owed 90 days after each invoice's issue; null: not known yet")
    rate: float | None = Field(description="percent of billed, one decimal; null: not known yet or nothing billed")


class AtRiskReport(MonthlyReport):
    items: list[AtRiskRow]


def at_risk(
    principal: Principal, scope: AnalyticsFilter, month: str | None = None, ledger: Books | None = None
) -> AtRiskReport:
    ledger = ledger or books(principal, scope)
    last = parse_month(month, ledger.today)
    rows = [
        AtRiskRow(
            month=str(r.month),
            currency=currency,
            billed=r.billed,
            unpaid=r.unpaid,
            rate=None if r.rate is None else float(r.rate),
        )
        for currency in ledger.currencies
        for r in at_risk_by_month(ledger.invoices, currency, last, ledger.today, MONTHS)
    ]
    return AtRiskReport(first_month=str(_first_month(last)), last_month=str(last), items=rows)


# ---------------------------------------------------------------- collected


class CollectedRow(RelanceModel):
    start: date = Field(description="first day of the period (a week starts on Monday)")
    currency: str
    online: int = Field(description="payments of paid portal checkouts")
    recorded: int = Field(description="payments recorded by the team, an import or the API")
    total: int


class CollectedReport(RelanceModel):
    period: Period
    from_: date = Field(alias="from")
    to: date
    items: list[CollectedRow]


def collected_report(
    principal: Principal,
    scope: AnalyticsFilter,
    period: Period,
    first: date | None,
    last: date | None,
    ledger: Books | None = None,
) -> CollectedReport:
    """Payments received from ``first`` (default: the first day of the month 11 months before ``last``)
    to ``last`` (default: today), per period and currency."""
    ledger = ledger or books(principal, scope)
    last = last or ledger.today
    first = first or _first_month(Month.of(last)).first_day
    if first > last:
        raise Invalid("from must be on or before to", {"from": "on or before to"})
    if (last - first).days > MAX_DAYS:
        raise Invalid(
            f"from and to may be at most {MAX_DAYS} days apart", {"from": f"at most {MAX_DAYS} days before to"}
        )
    rows = [
        CollectedRow(start=c.start, currency=c.currency, online=c.online, recorded=c.recorded, total=c.total)
        for c in collected(ledger.money, period, first, last)
    ]
    return CollectedReport(period=period, from_=first, to=last, items=rows)


# ---------------------------------------------------------------- ratings


class RatingsRow(RelanceModel):
    month: str
    a: int = Field(alias="A")
    b: int = Field(alias="B")
    c: int = Field(alias="C")
    d: int = Field(alias="D")
    unrated: int
    fell: int = Field(description="customers whose letter got worse since the month before")


class RatingMove(RelanceModel):
    month: str
    from_: str = Field(alias="from")
    to: str
    count: int


class RatingFallRow(RelanceModel):
    month: str
    customer_id: str
    before: str
    after: str


class RatingsReport(MonthlyReport):
    items: list[RatingsRow]
    moves: list[RatingMove]
    fell: list[RatingFallRow]


def ratings(
    principal: Principal, scope: AnalyticsFilter, month: str | None = None, ledger: Books | None = None
) -> RatingsReport:
    """Customers per letter at each of the 12 month ends, the moves between them and who fell."""
    ledger = ledger or books(principal, scope)
    last = parse_month(month, ledger.today)
    months = ratings_by_month(ledger.invoices, last, MONTHS, ledger.settings.rating_basis)
    return RatingsReport(
        first_month=str(months[0].month),
        last_month=str(last),
        items=[
            RatingsRow.model_validate(
                {**{k: m.distribution[k] for k in LETTERS}, "month": str(m.month), "fell": len(m.fell)}
            )
            for m in months
        ],
        moves=[
            RatingMove(month=str(m.month), from_=a, to=b, count=n)
            for m in months
            for (a, b), n in sorted(m.moves.items())
        ],
        fell=[
            RatingFallRow(month=str(m.month), customer_id=f.customer_id, before=f.before, after=f.after)
            for m in months
            for f in m.fell
        ],
    )


# ---------------------------------------------------------------- forecast


class ForecastRow(RelanceModel):
    kind: str = Field(description="week, or kept apart: late (expected before this week), later, disputed")
    week_start: date | None = Field(description="the Monday of the week (organization's time zone); null apart")
    currency: str
    amount: int


class AccuracyRow(RelanceModel):
    week_start: date
    currency: str
    forecast: int = Field(description="recomputed from the ledger as it stood the Sunday before")
    actual: int = Field(description="payments received that week")
    difference: int = Field(description="actual - forecast")


class ForecastReport(RelanceModel):
    timezone: str
    first_week: date
    items: list[ForecastRow]
    accuracy: list[AccuracyRow]


def cash_forecast(principal: Principal, scope: AnalyticsFilter, ledger: Books | None = None) -> ForecastReport:
    """What is expected in each of the next 13 weeks (from this week's Monday in the organization's time
    zone), what is kept apart, and how the forecasts of the 13 weeks before compared with what came in."""
    ledger = ledger or books(principal, scope)
    figure = forecast(ledger.invoices, ledger.now, ledger.zone, WEEKS)
    rows = [
        ForecastRow(kind="week", week_start=start, currency=currency, amount=week.get(currency, 0))
        for start, week in zip(figure.starts, figure.weeks, strict=True)
        for currency in ledger.currencies
    ]
    for kind, amounts in (("late", figure.late), ("later", figure.later), ("disputed", figure.disputed)):
        rows += [ForecastRow(kind=kind, week_start=None, currency=c, amount=amounts[c]) for c in sorted(amounts)]
    past = [
        AccuracyRow(
            week_start=w.start, currency=w.currency, forecast=w.forecast, actual=w.actual, difference=w.difference
        )
        for w in accuracy(ledger.invoices, ledger.money, ledger.now, ledger.zone, WEEKS)
    ]
    return ForecastReport(timezone=ledger.settings.timezone, first_week=figure.starts[0], items=rows, accuracy=past)


# ---------------------------------------------------------------- the web app's dashboard


class DashboardReport(RelanceModel):
    """The figures a finance lead opens first, as of one day: balances, aging, DSO, collected per month,
    ratings and their movement, the at-risk rate and (as of today only) the 13-week forecast."""

    as_of: date
    timezone: str = Field(description="the organization's, in which days and weeks are counted")
    computed_at: datetime = Field(description="when these figures were computed from the ledger")
    from_snapshot: bool = Field(default=False, description="read from the nightly snapshot, not computed now")
    summary: SummaryReport
    aging: AgingReport
    dso: DsoReport
    collected: CollectedReport
    forecast: ForecastReport | None = Field(description="null for a past day without a snapshot")
    ratings: RatingsReport | None = Field(default=None, description="null in a snapshot kept before it had them")
    at_risk: AtRiskReport | None = Field(default=None, description="null in a snapshot kept before it had them")


def snapshot_scope(principal: Principal) -> str:
    """The snapshot a principal reads: the whole organization for an admin, an account manager's own."""
    return "all" if principal.is_admin else f"user#{principal.user_id}"


def _figures(principal: Principal, scope: AnalyticsFilter, ledger: Books, as_of: date | None) -> DashboardReport:
    day = as_of or ledger.today
    month = str(Month.of(day))
    return DashboardReport(
        as_of=day,
        timezone=ledger.settings.timezone,
        computed_at=ledger.now,
        summary=summary(principal, scope, day, ledger=ledger),
        aging=aging(principal, scope, day, ledger=ledger),
        dso=dso(principal, scope, month, ledger=ledger),
        collected=collected_report(principal, scope, Period.MONTH, None, day, ledger=ledger),
        forecast=cash_forecast(principal, scope, ledger=ledger) if day == ledger.today else None,
        ratings=ratings(principal, scope, month, ledger=ledger),
        at_risk=at_risk(principal, scope, month, ledger=ledger),
    )


def dashboard(principal: Principal, scope: AnalyticsFilter, as_of: date | None = None) -> DashboardReport:
    """The dashboard without filters is the latest snapshot of the caller's scope (one Query), or that
    day's snapshot for ``as_of`` (one GetItem), its balances converted with the rates stored now (one
    Query, at the same time); with filters, or without a snapshot, it is computed from one reading of
    the books (as of the end of ``as_of``: the ledger's history)."""
    org_id = principal.organization_id
    if scope == AnalyticsFilter():
        name = snapshot_scope(principal)
        stored, rates = together(
            lambda: (
                snapshot_store.snapshot_of(org_id, name, as_of)
                if as_of
                else snapshot_store.latest_snapshot(org_id, name)
            ),
            lambda: exchange_rates.stored_rates(org_id),
        )  # the rates as they are now: one entered since the snapshot converts its balances
        if stored is not None:
            report = DashboardReport.model_validate_json(stored)
            usable = exchange_rates.usable_rates(rates, report.summary.organization_currency)
            return report.model_copy(update={"from_snapshot": True, "summary": converted(report.summary, usable)})
    ledger = books(principal, scope)
    if as_of is not None and as_of > ledger.today:
        raise Invalid("asOf must be today or a past day", {"asOf": "today or a past day"})
    return _figures(principal, scope, ledger, as_of)


def _store(org_id: str, name: str, report: DashboardReport) -> None:
    body = report.model_dump_json(by_alias=True).encode()
    snapshot_store.put_snapshot(org_id, name, report.as_of, report.computed_at, body)


def refresh(principal: Principal) -> DashboardReport:
    """The caller's dashboard computed now and kept as today's snapshot of their scope."""
    report = _figures(principal, AnalyticsFilter(), books(principal, AnalyticsFilter()), None)
    _store(principal.organization_id, snapshot_scope(principal), report)
    return report


def take_snapshots(org_id: str) -> int:
    """Today's snapshots of an organization (the nightly run): the whole organization and each account
    manager's customers, from one reading of the books. Returns how many were written."""
    admin = Principal(organization_id=org_id, role="admin", principal_id="nightly")
    everything = AnalyticsFilter()
    ledger = books(admin, everything)
    managers = sorted({m for c in ledger.customers.values() for m in c.get("accountManagerIds") or []})
    scopes = {"all": (admin, ledger)}
    for user_id in managers:
        manager = Principal(organization_id=org_id, role="account_manager", principal_id=user_id, user_id=user_id)
        scopes[snapshot_scope(manager)] = (manager, ledger.of_customers(partial(can_see, manager)))
    for name, (principal, part) in scopes.items():
        _store(org_id, name, _figures(principal, everything, part, None))
    return len(scopes)
