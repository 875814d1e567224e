"""Each organization's own share of the API: at most ``organization_requests_per_second``.

API Gateway's stage throttle is one bucket for every caller, counted before the authorizer
knows who calls: one organization's burst would have every other one refused. So the API
function counts each organization's requests too, in a DynamoDB item per organization and
wall-clock second (one conditional UpdateItem per request), and answers 429 naming the limit
(``Retry-After: 1``) to the organization over it, while the others are served.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from relance import clock
from relance.errors import TooManyRequests
from relance.settings import get_settings
from relance.storage import request_counts


def admit(org_id: str) -> None:
    """Count one request of the organization in this second; TooManyRequests past its limit."""
    limit = get_settings().organization_requests_per_second
    if not request_counts.count(org_id, int(clock.real_seconds()), limit):
        raise TooManyRequests(
            f"at most {limit} requests a second for an organization: slow down and retry",
            {"rateLimit": f"{limit} requests per second per organization"},
        )


def per_organization(app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[object]:
    """Route middleware: an authenticated request counts against its organization's limit."""
    event = APIGatewayProxyEvent(app.current_event.raw_event)
    org_id = event.request_context.authorizer.get_context().get("organizationId")
    if org_id:
        admit(str(org_id))
    return next_middleware(app)
