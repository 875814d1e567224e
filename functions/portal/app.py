"""The customer portal (public, token in the path): HTML pages, documents, payment, messages.

One Powertools resolver; routes live in ``views/<view>.py`` as ``Router``s, each imported on the first
request to its paths (``VIEWS``): a cold start that shows the page loads neither Stripe Checkout's
services nor the messages', disputes' and promises'."""

from typing import Any

import views
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from views.base import html

from relance.api.resolver import OwnEventResolver
from relance.api.routers import RouterTable
from relance.domain.portal import PortalRefused
from relance.errors import Conflict, Invalid, NotFound
from relance.observability import logger, metrics, traced
from relance.portal import pages

VIEWS = RouterTable(
    views,
    {
        "page": ("/portal",),
        "documents": ("/portal/*/statement.pdf", "/portal/*/invoices"),
        "requests": ("/portal/*/pay", "/portal/*/messages", "/portal/*/disputes", "/portal/*/promise"),
    },
)
"""Each module of ``views`` is imported on the first request to its paths (relance.api.routers)."""

app = OwnEventResolver(routers=VIEWS)


@app.not_found
@app.exception_handler(NotFound)
def _unknown_link(_: NotFound | NotFoundError) -> Response[str]:
    return html(pages.not_found_html(pages.browser_language(app.current_event.headers.get("accept-language"))), 404)


@app.exception_handler(Invalid)
@app.exception_handler(Conflict)
@app.exception_handler(PortalRefused)
def _refused(error: Invalid | Conflict | PortalRefused) -> Response[str]:
    """The page again, saying what to fix in the visitor's language."""
    from views.page import refused  # the page's router, loaded with the first page view anyway

    token = app.current_event.path_parameters.get("token", "") if app.current_event.path_parameters else ""
    return refused(token, error)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@traced
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
