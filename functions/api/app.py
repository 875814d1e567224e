"""The Relance REST API: one Powertools resolver, one router per resource."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from routes import (
    analytics,
    contacts,
    conversations,
    customers,
    dunning,
    exchange_rates,
    integrations,
    ledger,
    people,
    system,
    templates,
    views,
    workflows,
)

from relance.api.errors import register_error_handlers
from relance.api.resolver import OwnEventResolver
from relance.api.throttle import per_organization
from relance.observability import logger, metrics, traced

app = OwnEventResolver(enable_validation=True)
register_error_handlers(app)
app.use(middlewares=[per_organization])  # 429 past the organization's requests per second
for routes in (
    system,
    customers,
    contacts,
    ledger,
    people,
    views,
    workflows,
    templates,
    dunning,
    analytics,
    exchange_rates,
    conversations,
    integrations,
):
    app.include_router(routes.router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@traced
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
