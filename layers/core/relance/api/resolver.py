"""The HTTP functions' Powertools resolver, keeping the request it handles on itself.

Powertools keeps the event (and the Lambda context) being handled in class attributes of
``BaseRouter``, shared by every resolver of the process: right in Lambda, where a process runs one
function and one invocation at a time, but the local runtime runs every function in one process, each
function one request at a time and the functions side by side. There, a web page waiting on DynamoDB
would read an API request's event as its own. A resolver that sets its own attributes first makes
``app.current_event`` and every included router's the request this resolver is handling, anywhere.

Given a ``RouterTable`` (relance.api.routers), the resolver includes the router serving a request's
path before routing it: a cold start imports the module its request needs, not every module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from relance.api.routers import RouterTable


class OwnEventResolver(APIGatewayRestResolver):
    def __init__(self, *args: Any, routers: RouterTable | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.routers = routers

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        self.current_event = APIGatewayProxyEvent(dict(event), self._json_body_deserializer)
        self.lambda_context = context
        if self.routers is not None:
            self.routers.include_for(self, self.current_event.path)
        return super().resolve(event, context)

    def include_every_router(self) -> None:
        """Include every router of the table now (the OpenAPI document, tests walking every route)."""
        if self.routers is not None:
            self.routers.include_all(self)
