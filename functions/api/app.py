"""The Relance REST API: one Powertools resolver, one router per resource, each imported when first needed."""

from typing import Any

import routes
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.api.errors import register_error_handlers
from relance.api.resolver import OwnEventResolver
from relance.api.routers import RouterTable
from relance.api.throttle import per_organization
from relance.observability import logger, metrics, traced

ROUTERS = RouterTable(
    routes,
    {
        "system": ("/health", "/v1/me", "/v1/organization", "/v1/openapi.json", "/v1/docs"),
        "customers": ("/v1/customers",),
        "contacts": ("/v1/contacts", "/v1/positions", "/v1/customers/*/contacts"),
        "ledger": ("/v1/invoices", "/v1/credit-notes", "/v1/payments", "/v1/refunds"),
        "people": ("/v1/users", "/v1/invitations", "/v1/api-keys", "/v1/custom-fields"),
        "views": ("/v1/views", "/v1/imports"),
        "workflows": ("/v1/workflows",),
        "templates": ("/v1/templates",),
        "dunning": ("/v1/actions", "/v1/customers/*/actions", "/v1/customers/*/pause", "/v1/customers/*/resume"),
        "analytics": ("/v1/analytics",),
        "exchange_rates": ("/v1/exchange-rates",),
        "conversations": (
            "/v1/customers/*/notes",
            "/v1/customers/*/timeline",
            "/v1/invoices/*/timeline",
            "/v1/actions/*/reply",
            "/v1/notes",
            "/v1/notifications",
            "/v1/replies",
        ),
        "integrations": ("/v1/integrations",),
    },
)
"""Each module of ``routes`` is imported on the first request to its paths (relance.api.routers): a cold start
that lists customers loads the customers' services and models, not analytics' or the ledger's."""

app = OwnEventResolver(enable_validation=True, routers=ROUTERS)
register_error_handlers(app)
app.use(middlewares=[per_organization])  # 429 past the organization's requests per second


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@traced
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
