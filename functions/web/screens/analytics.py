"""Analytics, the finance lead's first page: balances per currency, aging, DSO by month, what came in
per month and the 13-week cash forecast, each as a table with its bars (``services.analytics``, one
reading of the books). Account managers see their own customers' figures; the URL holds the filters.
"""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import ValidationError

from relance.aws import together
from relance.errors import Invalid, validation_fields
from relance.services import analytics, workspace
from relance.services.analytics import AnalyticsFilter
from screens.base import page, signed_in

router = Router()
BUCKETS = {
    "not_due": "Not due",
    "days_1_to_30": "1–30 days",
    "days_31_to_60": "31–60 days",
    "days_61_to_90": "61–90 days",
    "over_90": "Over 90 days",
}


@router.get("/analytics")
def analytics_page() -> Response[str]:
    person = signed_in(router)
    event = router.current_event
    values = {
        "currency": event.get_query_string_value("currency") or None,
        "accountManagerId": event.get_query_string_value("accountManagerId") or None,
    }
    try:
        scope = AnalyticsFilter.model_validate(values)
    except ValidationError as error:
        wrong = validation_fields(error.errors())
        named = "; ".join(f"{name}: {message}" for name, message in wrong.items())
        raise Invalid(f"please check the filters ({named})", wrong) from error
    shown, known = together(
        lambda: analytics.dashboard(person.principal, scope), lambda: workspace.directory(person.principal)
    )  # (the dashboard runs in this thread: its own reads go together too)
    return page(
        router,
        person,
        "analytics.html",
        nav="analytics",
        d=shown,
        scope=scope,
        managers=known.managers,
        buckets=BUCKETS,
    )
