"""The HTTP functions' Powertools resolver, keeping the request it handles on itself.

Powertools keeps the event (and the Lambda context) being handled in class attributes of
``BaseRouter``, shared by every resolver of the process: right in Lambda, where a process runs one
function and one invocation at a time, but the local runtime runs every function in one process, each
function one request at a time and the functions side by side. There, a web page waiting on DynamoDB
would read an API request's event as its own. A resolver that sets its own attributes first makes
``app.current_event`` and every included router's the request this resolver is handling, anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent


class OwnEventResolver(APIGatewayRestResolver):
    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        self.current_event = APIGatewayProxyEvent(dict(event), self._json_body_deserializer)
        self.lambda_context = context
        return super().resolve(event, context)
