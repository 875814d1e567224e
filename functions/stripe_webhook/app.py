"""Stripe's webhook (``POST /v1/webhooks/stripe``): signature-checked, each event handled once."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.api.errors import error_response, register_error_handlers
from relance.api.resolver import OwnEventResolver
from relance.observability import logger, metrics, traced
from relance.services import online_payments

app = OwnEventResolver()
register_error_handlers(app)


@app.post("/v1/webhooks/stripe")
def stripe_event() -> dict[str, Any]:
    event = app.current_event
    signature = event.headers.get("stripe-signature")
    return online_payments.handle_webhook(event.decoded_body or "", signature, app.lambda_context)


@app.exception_handler(IdempotencyAlreadyInProgressError)
def _in_progress(_: IdempotencyAlreadyInProgressError) -> Response[Any]:
    """The same event is being handled right now: Stripe retries later."""
    return error_response(409, "conflict", "this event is being handled")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
