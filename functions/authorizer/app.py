"""API Gateway REQUEST authorizer: who is calling, from ``X-Api-Key`` (machines) or
``Authorization: Bearer <Cognito ID token>`` (people).

Answers an IAM policy for the whole API plus the context the API function reads
(organizationId, role). Anything else raises "Unauthorized", which API Gateway turns
into a 401 without calling the API.
"""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.observability import logger, traced
from relance.services.organizations import authenticate_api_key
from relance.services.users import authenticate_bearer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@traced
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict[str, Any]:
    api_key = event.headers.get("x-api-key", "")  # case-insensitive
    scheme, _, token = event.headers.get("authorization", "").partition(" ")
    if api_key:
        principal = authenticate_api_key(api_key)
    elif scheme.lower() == "bearer" and token:
        principal = authenticate_bearer(token.strip())
    else:
        principal = None
    if principal is None:
        logger.info("request refused: no valid credentials")
        raise Exception("Unauthorized")  # the exact message API Gateway maps to 401

    arn = event.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=principal.principal_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context={
            "organizationId": principal.organization_id,
            "role": principal.role,
            "userId": principal.user_id or "",
        },
    )
    policy.allow_all_routes()
    return policy.asdict()
