"""Analytics: balances, aging as of a day, DSO, at-risk rate, cash collected, ratings and the 13-week
forecast (docs/analytics.md). Each answers JSON, or CSV of its ``items`` with ``?format=csv``. Also the
emails that were not delivered (JSON)."""

from datetime import date
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, Field

from relance.api.caller import caller
from relance.api.pages import Page
from relance.api.reports import csv_download
from relance.domain.analytics.collected import Period
from relance.domain.base import RelanceModel
from relance.domain.organizations import Principal
from relance.services import actions, analytics, team_activity
from relance.services.analytics import AnalyticsFilter

router = Router()
Caller = Annotated[Principal, Depends(caller)]
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class EmailNotDelivered(RelanceModel):
    """An email that bounced or drew a complaint, and the addresses that did."""

    action_id: str
    customer_id: str
    customer_name: str
    sent_at: str | None
    subject: str | None
    status: str = Field(description="bounced or complained")
    recipients: dict[str, str] = Field(description="each address that bounced or complained, and which")


class Format(AnalyticsFilter):
    format: Literal["json", "csv"] = Field(default="json", description="csv: the items as CSV, one line each")


class AsOfQuery(Format):
    as_of: date | None = Field(default=None, description="the end of this day (default: today)")


class AgingQuery(AsOfQuery):
    by: str | None = Field(
        default=None,
        pattern=r"^(accountManager|workflow|rating|cf\.[A-Za-z0-9_-]{1,50})$",
        description="accountManager, workflow, rating (as of the day) or cf.<custom field key>",
    )


class MonthQuery(Format):
    month: str | None = Field(default=None, pattern=MONTH, description="the last of the 12 months (default: this one)")


class CollectedQuery(Format):
    period: Period = Period.MONTH
    from_: date | None = Field(default=None, alias="from", description="default: 11 months before to, 1st")
    to: date | None = Field(default=None, description="default: today")


def responds(model: type[BaseModel], what: str) -> dict[int, OpenAPIResponse]:
    return {
        200: {
            "description": f"{what}; with format=csv, its items as CSV",
            "content": {"application/json": {"model": model}, "text/csv": {"schema": {"type": "string"}}},
        }
    }


def answer(report: BaseModel, fmt: str, name: str) -> Response[Any]:
    """The report as JSON, or its ``items`` as CSV (headers: the JSON field names)."""
    if fmt == "json":
        return Response(200, "application/json", report.model_dump(mode="json", by_alias=True))
    return csv_download(report, name)


def scope(query: AnalyticsFilter) -> AnalyticsFilter:
    return AnalyticsFilter.model_validate(query.model_dump(include=set(AnalyticsFilter.model_fields)))


@router.get(
    "/v1/analytics/summary",
    tags=["analytics"],
    summary="Balances per currency: due, overdue, credit, outstanding",
    responses=responds(analytics.SummaryReport, "Balances at the end of the day"),
)
def summary(principal: Caller, query: Annotated[AsOfQuery, Query()]) -> Response[Any]:
    return answer(analytics.summary(principal, scope(query), query.as_of), query.format, "summary")


@router.get(
    "/v1/analytics/aging",
    tags=["analytics"],
    summary="Open invoices by days past due, as of a day, optionally by group",
    responses=responds(analytics.AgingReport, "Aging per currency (and group)"),
)
def aging(principal: Caller, query: Annotated[AgingQuery, Query()]) -> Response[Any]:
    return answer(analytics.aging(principal, scope(query), query.as_of, query.by), query.format, "aging")


@router.get(
    "/v1/analytics/dso",
    tags=["analytics"],
    summary="DSO, countback and classic, at 12 month ends",
    responses=responds(analytics.DsoReport, "DSO per month and currency"),
)
def dso(principal: Caller, query: Annotated[MonthQuery, Query()]) -> Response[Any]:
    return answer(analytics.dso(principal, scope(query), query.month), query.format, "dso")


@router.get(
    "/v1/analytics/at-risk",
    tags=["analytics"],
    summary="Share of each month's billings unpaid 90 days later",
    responses=responds(analytics.AtRiskReport, "At-risk rate per month and currency"),
)
def at_risk(principal: Caller, query: Annotated[MonthQuery, Query()]) -> Response[Any]:
    return answer(analytics.at_risk(principal, scope(query), query.month), query.format, "at-risk")


@router.get(
    "/v1/analytics/collected",
    tags=["analytics"],
    summary="Payments received per day, week or month, online and recorded",
    responses=responds(analytics.CollectedReport, "Cash collected per period and currency"),
)
def collected(principal: Caller, query: Annotated[CollectedQuery, Query()]) -> Response[Any]:
    report = analytics.collected_report(principal, scope(query), query.period, query.from_, query.to)
    return answer(report, query.format, "collected")


@router.get(
    "/v1/analytics/ratings",
    tags=["analytics"],
    summary="Customers per rating at 12 month ends, moves and falls",
    responses=responds(analytics.RatingsReport, "Ratings distribution per month"),
)
def ratings(principal: Caller, query: Annotated[MonthQuery, Query()]) -> Response[Any]:
    return answer(analytics.ratings(principal, scope(query), query.month), query.format, "ratings")


@router.get(
    "/v1/analytics/forecast",
    tags=["analytics"],
    summary="Cash expected in the next 13 weeks, and past weeks' accuracy",
    responses=responds(analytics.ForecastReport, "The forecast per week and currency"),
)
def forecast(principal: Caller, query: Annotated[Format, Query()]) -> Response[Any]:
    return answer(analytics.cash_forecast(principal, scope(query)), query.format, "forecast")


class TeamQuery(Format):
    from_: date | None = Field(default=None, alias="from", description="default: the 1st of the month of to")
    to: date | None = Field(default=None, description="default: today; at the latest today")


@router.get(
    "/v1/analytics/team",
    tags=["analytics"],
    summary="Team activity per account manager: overdue held, collected, manual and automatic actions",
    responses=responds(team_activity.TeamReport, "One line per person and currency"),
)
def team(principal: Caller, query: Annotated[TeamQuery, Query()]) -> Response[Any]:
    return answer(team_activity.team(principal, scope(query), query.from_, query.to), query.format, "team")


@router.get("/v1/analytics/emails-not-delivered", tags=["analytics"], summary="Emails that bounced or drew a complaint")
def emails_not_delivered(principal: Caller) -> Page[EmailNotDelivered]:
    return Page[EmailNotDelivered](items=actions.not_delivered(principal))
