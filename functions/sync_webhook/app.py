"""Source systems' webhooks (``POST /v1/integrations/{name}/webhooks/{organizationId}``): no sign-in, the
connector checks the source's signature with that organization's secret, then the changes are applied."""

import base64
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.api.errors import register_error_handlers
from relance.api.resolver import OwnEventResolver
from relance.observability import logger, metrics, traced
from relance.services import integrations

app = OwnEventResolver()
register_error_handlers(app)


@app.post("/v1/integrations/<name>/webhooks/<organization_id>")
def source_webhook(name: str, organization_id: str) -> dict[str, Any]:
    event = app.current_event
    body = event.body or ""
    raw = base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")  # signed as sent
    applied = integrations.receive_webhook(name, organization_id, raw, dict(event.headers or {}))
    return {"applied": applied}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
