"""The API error shape of docs/api.md, applied once to a Powertools resolver.

``{"error": {"code": ..., "message": ..., "fields": {...}}}``: a client mistake is a 4xx
naming the field, never a 500.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from relance.errors import RelanceError, validation_fields
from relance.observability import logger


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response[Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return Response(status_code=status, content_type="application/json", body={"error": body})


def register_error_handlers(app: ApiGatewayResolver) -> None:
    """Map every error a request can cause to the API error shape."""

    @app.exception_handler(RequestValidationError)
    def _validation(ex: RequestValidationError) -> Response[Any]:
        errors = ex.errors()
        if any(error.get("type") == "json_invalid" for error in errors):
            return error_response(400, "bad_request", "the request body is not valid JSON")
        fields = validation_fields(errors)
        names = ", ".join(fields)
        return error_response(422, "validation_error", f"invalid value for: {names}", fields)

    @app.exception_handler(RelanceError)
    def _domain(ex: RelanceError) -> Response[Any]:
        response = error_response(ex.status, ex.code, ex.message, ex.fields)
        if ex.status == 429:
            response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(ServiceError)
    def _service(ex: ServiceError) -> Response[Any]:
        return error_response(ex.status_code, "http_error", str(ex.msg))

    @app.not_found
    def _not_found(ex: NotFoundError) -> Response[Any]:
        return error_response(404, "not_found", "no such resource")

    @app.exception_handler(Exception)
    def _unexpected(ex: Exception) -> Response[Any]:
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "something went wrong on our side")
