"""The caller of an API request, as the API's Lambda authorizer established it."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from relance.domain.organizations import Principal
from relance.errors import Unauthorized


def principal_of(event: APIGatewayProxyEvent) -> Principal:
    """The principal in the request context the authorizer filled; 401 when there is none."""
    authorizer = event.request_context.authorizer
    context = authorizer.get_context()
    if not context.get("organizationId"):
        raise Unauthorized("authentication required")
    return Principal(
        organization_id=context["organizationId"],
        role=context.get("role", ""),
        principal_id=authorizer.principal_id,
        user_id=context.get("userId") or None,
    )


def caller(request: Request) -> Principal:
    """Route dependency: ``principal: Annotated[Principal, Depends(caller)]``."""
    return principal_of(APIGatewayProxyEvent(request.resolved_event.raw_event))
