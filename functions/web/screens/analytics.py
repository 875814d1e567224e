"""Analytics, the finance lead's first page (the app's home): balances per currency, aging, DSO by
month, what came in per month, the 13-week cash forecast, payment ratings and the at-risk rate, each
as a table with its bars and a CSV download; the team's activity and the emails not delivered after.
Without filters it reads the nightly snapshot of the caller's scope (``services.analytics``: one
Query), "as of" a past day that day's snapshot; filters compute from one reading of the books.
Account managers see their own customers' figures; the URL holds the filters.
"""

from datetime import date
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ValidationError

from relance.api.reports import csv_download
from relance.concurrency import together
from relance.errors import Invalid, NotFound, validation_fields
from relance.services import actions, analytics, team_activity, workspace
from relance.services.analytics import AnalyticsFilter
from relance.web.customer_list import AGING
from screens.base import RENDER, check_csrf, form, html, page, redirect, signed_in

router = Router()
BUCKETS = {bucket: label.removesuffix(" past due") for bucket, label in AGING.items()}
DOWNLOADS = ("summary", "aging", "dso", "collected", "forecast", "ratings", "at_risk")


def _asked(router: Router) -> tuple[AnalyticsFilter, date | None]:
    """The filters and the "as of" day of the URL; 422 naming each parameter at fault."""
    event = router.current_event
    values = {
        "currency": event.get_query_string_value("currency") or None,
        "accountManagerId": event.get_query_string_value("accountManagerId") or None,
    }
    as_of = event.get_query_string_value("asOf") or None
    try:
        scope = AnalyticsFilter.model_validate(values)
    except ValidationError as error:
        wrong = validation_fields(error.errors())
        named = "; ".join(f"{name}: {message}" for name, message in wrong.items())
        raise Invalid(f"please check the filters ({named})", wrong) from error
    try:
        return scope, date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise Invalid("please check the filters (asOf: a date)", {"asOf": "a date, YYYY-MM-DD"}) from None


@router.get("/analytics")
def analytics_page() -> Response[str]:
    person = signed_in(router)
    scope, as_of = _asked(router)
    shown, known = together(
        lambda: analytics.dashboard(person.principal, scope, as_of), lambda: workspace.directory(person.principal)
    )  # (the dashboard runs in this thread: its own reads go together too)
    query = router.current_event.query_string_parameters or {}
    return page(
        router,
        person,
        "analytics.html",
        nav="analytics",
        d=shown,
        scope=scope,
        as_of=as_of,
        query={k: v for k, v in query.items() if v},
        managers=known.managers,
        buckets=BUCKETS,
        zone=ZoneInfo,
        customers_behind=lambda bucket, currency: _customers_list(scope, aging=bucket, currency=currency),
        customers_rated=lambda letter: _customers_list(scope, rating=letter),
    )


def _customers_list(scope: AnalyticsFilter, **filters: str) -> str:
    """The customers list with ``filters``, within the page's account manager."""
    params = {**filters, "accountManagerId": scope.account_manager_id}
    return "/customers?" + urlencode({k: v for k, v in params.items() if v})


@router.get("/analytics/<report>.csv")
def analytics_csv(report: str) -> Response[Any]:
    """One table of the page as CSV: the same figures the page shows (the snapshot or the filters)."""
    person = signed_in(router)
    if report not in DOWNLOADS:
        raise NotFound("no such report")
    scope, as_of = _asked(router)
    shown = analytics.dashboard(person.principal, scope, as_of)
    table: BaseModel | None = getattr(shown, report)
    if table is None:  # the forecast of a day without a snapshot
        raise NotFound(f"no {report} was kept for {shown.as_of.isoformat()}")
    return csv_download(table, f"{report}-{shown.as_of.isoformat()}", {"Cache-Control": "no-store"})


@router.post("/analytics/refresh")
def refresh() -> Response[str]:
    """Compute the caller's figures now and keep them as today's snapshot."""
    person = signed_in(router)
    check_csrf(router, person, form(router.current_event))
    analytics.refresh(person.principal)
    return redirect("/analytics", person)


@router.get("/analytics/activity")
def activity() -> Response[str]:
    """The page's Team and Emails-not-delivered sections, asked for once the page is shown (they read the
    organization's actions and ledger, which the snapshot does not keep): the month of the "as of" day
    (this month) so far, with the page's filters."""
    person = signed_in(router)
    scope, as_of = _asked(router)
    first = as_of.replace(day=1) if as_of else None
    team, undelivered = together(
        lambda: team_activity.team(person.principal, scope, first, as_of),
        lambda: actions.not_delivered(person.principal),
    )  # (the team's figures run in this thread: their own reads go together too)
    values = {"team": team, "contacts": contacts_to_fix(undelivered), "is_admin": person.principal.is_admin}
    return html(RENDER.block("analytics.html", "activity", **values), person=person)


def contacts_to_fix(emails: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each address an email bounced from or drew a complaint at, once per customer: its latest failure
    first (``actions.not_delivered`` lists the emails, newest first)."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for email in emails:
        for address, status in email["recipients"].items():
            seen.setdefault((email["customerId"], address), {**email, "address": address, "status": status})
    return list(seen.values())
